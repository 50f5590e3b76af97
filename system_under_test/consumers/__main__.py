"""`python -m system_under_test.consumers post|comment|like|social`: one consumer process.

The connection loop is explicit rather than aio-pika's robust connection: a
robust connection can come back after a broker restart with its queue but no
consumer on it. Here every (re)connect declares the queue and consumes anew.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from system_under_test import variants
from system_under_test.config import Settings
from system_under_test.consumers.delivery import DeliveryHandler
from system_under_test.logs import setup_logging
from system_under_test.messaging.connect import connect
from system_under_test.messaging.events import EVENT_TYPES
from system_under_test.messaging.topology import QUEUES, declare_all, declare_queue, declare_wait
from system_under_test.store.cache import Cache, make_redis
from system_under_test.store.db import make_pool, open_pool

log = logging.getLogger("consumer")

CONNECT_TIMEOUT_S = 3.0


async def consume_once(kind: str, settings: Settings, handler: DeliveryHandler) -> None:
    """One connection's life: declare, consume (deliveries applied in arrival order, in batches
    while they queue up), return when it dies."""
    connection = await connect(settings.amqp_url, CONNECT_TIMEOUT_S)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=settings.prefetch)
        await declare_all(channel, settings.delivery_limit, settings.park_s)
        queue = await declare_queue(channel, QUEUES[kind], settings.delivery_limit)
        parking = await connection.channel(publisher_confirms=True)
        handler.wait_exchange = await declare_wait(parking, settings.park_s)
        # aio-pika's `connection.closed()` resolves only on a close *we* call; a
        # lost connection is announced through the close callbacks.
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        await queue.consume(handler.handle)
        log.info("consuming %s", queue.name)
        await lost.wait()
        if variants.active("no_resume_after_broker_restart"):
            log.warning("broker connection lost; not reconnecting")  # the bug
            await asyncio.Event().wait()
        log.warning("broker connection lost; reconnecting")


async def run(kind: str, settings: Settings) -> None:
    pool = make_pool(settings.postgres_dsn, settings.store_timeout_s)
    await open_pool(pool)
    cache = Cache(make_redis(settings.redis_url, settings.store_timeout_s))
    prefixes = tuple(k.removesuffix(".*") for k in QUEUES[kind].binding_keys)
    accepted = tuple(t for t in EVENT_TYPES if t.split(".")[0] in prefixes)
    handler = DeliveryHandler(
        accepted,
        pool,
        cache,
        settings.store_timeout_s,
        settings.retry_seconds,
        settings.reference_wait_s,
        max_batch=settings.prefetch // 2,
    )
    # Reconnect forever (a consumer has nothing better to do), backing off up to 1 s.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Exception), wait=wait_exponential_jitter(0.1, 1.0)
    ):
        with attempt:
            try:
                await consume_once(kind, settings, handler)
            except Exception as exc:
                log.warning("consumer connection failed: %s: %s", type(exc).__name__, exc)
                raise
            raise ConnectionError("connection closed")


async def main_async(kind: str, settings: Settings) -> None:
    task = asyncio.create_task(run(kind, settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        logging.getLogger("consumer").info("stopped")


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in QUEUES:
        sys.exit(f"usage: python -m system_under_test.consumers {{{'|'.join(QUEUES)}}}")
    settings = Settings.from_env()
    setup_logging(f"{sys.argv[1]}_consumer", settings.log_level)
    asyncio.run(main_async(sys.argv[1], settings))


if __name__ == "__main__":
    main()
