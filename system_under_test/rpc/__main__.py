"""`python -m system_under_test.rpc feed|card|user`: one RPC service per process."""

from __future__ import annotations

import asyncio
import signal
import sys

import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from system_under_test.config import Settings
from system_under_test.logs import setup_logging
from system_under_test.rpc import feed_pb2_grpc as pb_grpc
from system_under_test.rpc.channel_options import SERVER_OPTIONS
from system_under_test.rpc.reader import ViewReader
from system_under_test.rpc.services import CardServicer, FeedServicer, UserServicer
from system_under_test.store.cache import Cache, make_redis
from system_under_test.store.db import make_pool, open_pool

SERVICES = {
    "feed": (FeedServicer, pb_grpc.add_FeedServiceServicer_to_server),
    "card": (CardServicer, pb_grpc.add_CardServiceServicer_to_server),
    "user": (UserServicer, pb_grpc.add_UserServiceServicer_to_server),
}


async def serve(kind: str, settings: Settings) -> None:
    servicer_type, add_to_server = SERVICES[kind]
    # Room to spare: a query abandoned on a blackholed link keeps its connection for
    # seconds while psycopg tries to cancel it; fresh reads need fresh connections.
    pool = make_pool(settings.postgres_dsn, settings.store_timeout_s, max_size=12)
    await open_pool(pool)
    cache = Cache(make_redis(settings.redis_url, settings.cache_timeout_s))
    reader = ViewReader(cache, pool, settings.store_timeout_s, settings.cache_timeout_s)

    server = grpc.aio.server(options=SERVER_OPTIONS)
    add_to_server(servicer_type(reader), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    server.add_insecure_port(settings.rpc_listen)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(grace=1)
    await cache.close()
    await pool.close()


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in SERVICES:
        sys.exit(f"usage: python -m system_under_test.rpc {{{'|'.join(SERVICES)}}}")
    settings = Settings.from_env()
    setup_logging(f"{sys.argv[1]}_rpc", settings.log_level)
    asyncio.run(serve(sys.argv[1], settings))


if __name__ == "__main__":
    main()
