"""Protocol-level readiness probes: each raises until its server really answers.

An open port is not readiness (a broker accepts TCP long before AMQP works),
so every probe speaks the service's own protocol, with short timeouts so a
paused or blackholed server makes the probe fail instead of hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import psycopg
import redis

from faults.toxiproxy import ToxiproxyClient

PROBE_TIMEOUT_S = 2.0

# aiormq logs every refused connect at ERROR; a probe expects refusals while a
# broker boots, so drop those records, but only from a thread that is probing.
_probing = threading.local()


class _QuietWhileProbing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_probing, "active", False)


logging.getLogger("aiormq.connection").addFilter(_QuietWhileProbing())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    _probing.active = True
    try:
        yield
    finally:
        _probing.active = False


def toxiproxy(url: str) -> Callable[[], object]:
    def probe() -> object:
        with ToxiproxyClient(url, timeout=PROBE_TIMEOUT_S) as client:
            return client.version()

    return probe


def redis_ping(url: str) -> Callable[[], object]:
    def probe() -> object:
        client = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S
        )
        try:
            if not client.ping():
                raise ConnectionError("PING did not answer PONG")
        finally:
            client.close()
        return True

    return probe


def postgres_select1(dsn: str) -> Callable[[], object]:
    def probe() -> object:
        with psycopg.connect(dsn, connect_timeout=int(PROBE_TIMEOUT_S), autocommit=True) as conn:
            return conn.execute("SELECT 1").fetchone()

    return probe


def epmd_names(port: int) -> Callable[[], object]:
    """EPMD NAMES_REQ: a 2-byte length, then 'n'; the answer starts with epmd's port."""

    def probe() -> object:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT_S) as s:
            s.sendall(struct.pack(">H", 1) + b"n")
            head = s.recv(4)
            if len(head) != 4 or struct.unpack(">I", head)[0] != port:
                raise ConnectionError(f"unexpected EPMD answer {head!r}")
        return True

    return probe


async def _amqp_handshake(url: str) -> None:
    import aio_pika  # imported lazily: aio-pika pulls in a lot

    conn = await asyncio.wait_for(aio_pika.connect(url, timeout=PROBE_TIMEOUT_S), PROBE_TIMEOUT_S)
    await conn.close()


def amqp_handshake(url: str) -> Callable[[], object]:
    def probe() -> object:
        with _quiet():
            asyncio.run(_amqp_handshake(url))
        return True

    return probe


async def queue_consumer_count(url: str, queue: str) -> int:
    """Consumers on ``queue`` by a passive declare (raises if the queue does not exist)."""
    import aio_pika

    conn = await asyncio.wait_for(aio_pika.connect(url, timeout=PROBE_TIMEOUT_S), PROBE_TIMEOUT_S)
    try:
        channel = await conn.channel()
        declared = await asyncio.wait_for(
            channel.declare_queue(queue, passive=True), PROBE_TIMEOUT_S
        )
        return int(declared.declaration_result.consumer_count)
    finally:
        await conn.close()


def established_to(pid: int, port: int) -> bool:
    """True when process ``pid`` holds an ESTABLISHED TCP connection to 127.0.0.1:``port``."""
    inodes = set()
    try:
        for fd in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(fd.path)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        with open(f"/proc/{pid}/net/tcp") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return False
    want = f"0100007F:{port:04X}"
    for row in rows:
        cols = row.split()
        if cols[2] == want and cols[3] == "01" and cols[9] in inodes:
            return True
    return False


def consumer_attached(
    url: str, queue: str, connected: Callable[[], bool], link: str
) -> Callable[[], object]:
    """The queue shows a consumer AND the consumer holds a connection through its link.

    The count alone can lie: right after a broker restart a quorum queue still
    lists the consumers of the previous incarnation for a moment. ``connected``
    tells whether the consumer has an ESTABLISHED connection to ``link``.
    """

    def probe() -> object:
        if not connected():
            raise ConnectionError(f"no AMQP connection through {link} yet")
        with _quiet():
            count = asyncio.run(queue_consumer_count(url, queue))
        if count < 1:
            raise ConnectionError(f"queue {queue} has no consumer yet")
        return count

    return probe


def established_in_table(table: str, remote_port: int, remote_ip_hex: str | None = None) -> bool:
    """True when a /proc/net/tcp ``table`` has an ESTABLISHED row to that remote port (and IP)."""
    for row in table.splitlines()[1:]:
        cols = row.split()
        if len(cols) < 4 or cols[3] != "01":
            continue
        ip_hex, _, port_hex = cols[2].partition(":")
        if int(port_hex, 16) == remote_port and remote_ip_hex in (None, ip_hex):
            return True
    return False


def http_ok(url: str) -> Callable[[], object]:
    def probe() -> object:
        resp = httpx.get(url, timeout=PROBE_TIMEOUT_S)
        if resp.status_code != 200:
            raise ConnectionError(f"GET {url} -> {resp.status_code}")
        return True

    return probe


def grpc_serving(addr: str) -> Callable[[], object]:
    """grpc.health.v1 Health/Check for service "" must answer SERVING."""

    def probe() -> object:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=PROBE_TIMEOUT_S)
        if resp.status != health_pb2.HealthCheckResponse.SERVING:
            raise ConnectionError(f"{addr} health status {resp.status}")
        return True

    return probe
