"""`python -m system_under_test.api`: serve the Feed API on FEED_API_LISTEN."""

from __future__ import annotations

from aiohttp import web

from system_under_test.api.app import make_app
from system_under_test.config import Settings, split_host_port
from system_under_test.logs import setup_logging


def main() -> None:
    settings = Settings.from_env()
    setup_logging("api", settings.log_level)
    host, port = split_host_port(settings.api_listen)
    web.run_app(
        make_app(settings),
        host=host,
        port=port,
        access_log=None,
        print=None,
        shutdown_timeout=2,
        # Bodies are taken as sent: a Content-Encoding is refused (415) by the handlers,
        # instead of aiohttp failing to decode it half-way and resetting the connection.
        auto_decompress=False,
    )


if __name__ == "__main__":
    main()
