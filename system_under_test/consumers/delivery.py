"""One delivery, start to finish: parse, apply once, refresh the cache, then ack.

- Poison (what the API would never publish) is rejected without requeue, so it
  goes to the dead-letter queue and never blocks the queue.
- Transient store failures are retried with backoff under FEED_RETRY_SECONDS;
  past that the message is requeued (the quorum queue's delivery limit is the
  last bound).
- The ack comes only after the commit, so a crash before it means a
  redelivery, which the event-id record turns into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
import redis.exceptions
from aio_pika.abc import AbstractIncomingMessage
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from system_under_test.consumers.appliers import APPLIERS, touched_views
from system_under_test.messaging.events import Envelope, parse_envelope
from system_under_test.store.bounded import bounded
from system_under_test.store.cache import Cache

log = logging.getLogger(__name__)

# Worth retrying: the store or the link to it failed, the event itself is fine.
# (CancelledError is not an Exception subclass, so a shutdown is never retried.)
TRANSIENT = (
    psycopg.OperationalError,
    PoolTimeout,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    TimeoutError,
    ConnectionError,
)


class Poison(Exception):
    """A message no retry can apply."""


class DeliveryHandler:
    def __init__(
        self,
        accepted_types: tuple[str, ...],
        pool: AsyncConnectionPool,
        cache: Cache,
        store_timeout_s: float,
        retry_seconds: float,
    ) -> None:
        self.accepted_types = accepted_types
        self.pool = pool
        self.cache = cache
        self.store_timeout_s = store_timeout_s
        self.retry_seconds = retry_seconds
        # One delivery at a time, in arrival order, across reconnects too: a
        # delivery from a dead connection finishes before the next one starts.
        self._serial = asyncio.Lock()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        async with self._serial:
            await self._handle(message)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            env, payload = self._parse(message.body)
            await self._retrying(self._apply_once, env, payload)
            await self._retrying(self._refresh_cache, env, payload)
        except Poison as exc:
            log.warning("dead-lettering message %s: %s", message.message_id, exc)
            await message.reject(requeue=False)
            return
        except RetryError as exc:
            log.warning(
                "requeueing %s after %.0fs of store errors: %s",
                message.message_id,
                self.retry_seconds,
                exc.last_attempt.exception(),
            )
            await message.nack(requeue=True)
            return
        await message.ack()

    def _parse(self, body: bytes) -> tuple[Envelope, Any]:
        try:
            env, payload = parse_envelope(body)
        except (ValidationError, ValueError) as exc:
            raise Poison(f"not a valid event: {str(exc)[:200]}") from exc
        if env.type not in self.accepted_types:
            raise Poison(f"{env.type} does not belong on this queue")
        return env, payload

    async def _retrying(self, step: Any, env: Envelope, payload: Any) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_delay(self.retry_seconds),
            wait=wait_exponential_jitter(initial=0.05, max=1.0),
        ):
            with attempt:
                await bounded(step(env, payload), self.store_timeout_s * 4)

    async def _apply_once(self, env: Envelope, payload: Any) -> None:
        async with self.pool.connection(timeout=self.store_timeout_s) as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO processed_events (event_id, kind) VALUES (%s, %s)"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                (env.event_id, env.type),
            )
            if await cur.fetchone() is None:
                log.info("event %s already applied: redelivery is a no-op", env.event_id)
                return
            try:
                await APPLIERS[env.type](conn, env, payload)
            except psycopg.DataError as exc:  # e.g. a value the column cannot hold
                raise Poison(f"database refused the event: {exc}") from exc

    async def _refresh_cache(self, env: Envelope, payload: Any) -> None:
        async with self.pool.connection(timeout=self.store_timeout_s) as conn:
            for view, ident in touched_views(env, payload):
                value = await view.load(conn, ident)
                if value is not None:
                    await self.cache.store_if_newer(view.key(ident), value)
