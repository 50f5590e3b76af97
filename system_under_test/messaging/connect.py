"""Opening a broker connection the same way on both sides of the queue."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractConnection

# Heartbeats are how a side notices a blackholed broker link; the default
# (60 s) would leave a consumer deaf for a minute after the link heals.
HEARTBEAT_S = 5


def with_heartbeat(url: str, seconds: int = HEARTBEAT_S) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("heartbeat", str(seconds))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def connect(url: str, timeout_s: float) -> AbstractConnection:
    """A plain (non-robust) connection: reconnecting is the caller's explicit loop,
    because a robust connection can come back without its consumers."""
    return await aio_pika.connect(with_heartbeat(url), timeout=timeout_s)
