"""Every address, budget and bound of the feed system, read from the environment.

The harness routes each link through its own Toxiproxy proxy purely by setting
these variables, so no service knows whether it is under test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_ms(name: str, default: int) -> float:
    """A duration configured in milliseconds, returned in seconds."""
    return int(_env(name, str(default))) / 1000.0


@dataclass(frozen=True)
class Settings:
    api_listen: str
    rpc_listen: str
    feed_rpc_addr: str
    card_rpc_addr: str
    user_rpc_addr: str
    amqp_url: str
    redis_url: str
    postgres_dsn: str
    read_budget_s: float
    publish_timeout_s: float
    store_timeout_s: float
    cache_timeout_s: float
    retry_seconds: float
    reference_wait_s: float
    park_s: float
    delivery_limit: int
    prefetch: int
    log_level: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            api_listen=_env("FEED_API_LISTEN", "127.0.0.1:8080"),
            rpc_listen=_env("FEED_RPC_LISTEN", "127.0.0.1:50051"),
            feed_rpc_addr=_env("FEED_FEED_RPC_ADDR", "127.0.0.1:50051"),
            card_rpc_addr=_env("FEED_CARD_RPC_ADDR", "127.0.0.1:50052"),
            user_rpc_addr=_env("FEED_USER_RPC_ADDR", "127.0.0.1:50053"),
            amqp_url=_env("FEED_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            redis_url=_env("FEED_REDIS_URL", "redis://127.0.0.1:6379/0"),
            postgres_dsn=_env("FEED_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/feed"),
            read_budget_s=_env_ms("FEED_READ_BUDGET_MS", 1000),
            publish_timeout_s=_env_ms("FEED_PUBLISH_TIMEOUT_MS", 1000),
            store_timeout_s=_env_ms("FEED_STORE_TIMEOUT_MS", 500),
            cache_timeout_s=_env_ms("FEED_CACHE_TIMEOUT_MS", 100),
            retry_seconds=float(_env("FEED_RETRY_SECONDS", "5")),
            reference_wait_s=float(_env("FEED_REFERENCE_WAIT_S", "30")),
            park_s=_env_ms("FEED_PARK_MS", 500),
            delivery_limit=int(_env("FEED_DELIVERY_LIMIT", "50")),
            prefetch=int(_env("FEED_PREFETCH", "128")),
            log_level=_env("FEED_LOG_LEVEL", "INFO"),
        )


def split_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)
