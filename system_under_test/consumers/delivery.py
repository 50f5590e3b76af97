"""One delivery, start to finish: parse, apply once, refresh the cache, then ack.

- Poison (what the API would never publish, or what names a post that does
  not exist) is rejected without requeue, so it goes to the dead-letter queue
  and never blocks the queue.
- A comment or like whose post is not applied yet is parked (republished to
  the wait queue, which sends it back after FEED_PARK_MS) until its post shows
  up or FEED_REFERENCE_WAIT_S has passed since it was written.
- Transient store failures are retried with backoff under FEED_RETRY_SECONDS;
  past that the message is requeued (the quorum queue's delivery limit is the
  last bound).
- The ack comes only after the commit, so a crash before it means a
  redelivery, which the event-id record turns into a no-op.
- Deliveries that arrive while one is being applied are applied together
  (up to half the prefetch, in arrival order): one transaction in which each event
  still writes its own event-id record, then one cache refresh of every view
  they touched, read after the commit, then each is acked. Anything unusual in
  a batch (poison, a missing post) rolls the whole transaction back and the
  batch goes through the one-at-a-time path above, so those cases behave
  exactly as before. A backlog drains in far fewer round trips this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aio_pika
import psycopg
import redis.exceptions
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from system_under_test import variants
from system_under_test.consumers.appliers import (
    APPLIERS,
    Batch,
    current_batch,
    flush_bumps,
    load_post_authors,
    referenced_post,
    touched_views,
)
from system_under_test.consumers.errors import MissingReference, Poison
from system_under_test.messaging.events import Envelope, parse_envelope
from system_under_test.store import views
from system_under_test.store.bounded import Progress, bounded, bounded_progress
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


Parsed = tuple[AbstractIncomingMessage, Envelope, Any]


class DeliveryHandler:
    def __init__(
        self,
        accepted_types: tuple[str, ...],
        pool: AsyncConnectionPool,
        cache: Cache,
        store_timeout_s: float,
        retry_seconds: float,
        reference_wait_s: float,
        max_batch: int = 1,
    ) -> None:
        self.accepted_types = accepted_types
        self.pool = pool
        self.cache = cache
        self.store_timeout_s = store_timeout_s
        self.retry_seconds = retry_seconds
        self.reference_wait_s = reference_wait_s
        # At most this many deliveries in one transaction. Half the prefetch: while a
        # batch is applied, the broker already sends the next one.
        self.max_batch = max(1, max_batch)
        self.wait_exchange: AbstractExchange | None = None  # set per broker connection
        # One delivery (or batch) at a time, in arrival order, across reconnects
        # too: a delivery from a dead connection finishes before the next starts.
        self._serial = asyncio.Lock()
        self._pending: list[AbstractIncomingMessage] = []

    async def handle(self, message: AbstractIncomingMessage) -> None:
        # Each delivery's task queues it, then waits its turn (the lock is FIFO);
        # whoever holds the lock takes everything queued so far, so a task may
        # find its delivery already applied by an earlier batch.
        self._pending.append(message)
        async with self._serial:
            batch = self._pending[: self.max_batch]
            self._pending = self._pending[self.max_batch :]
            if len(batch) > 1 and self._batchable():
                await self._handle_batch(batch)
            else:
                for one in batch:
                    await self._handle(one)

    @staticmethod
    def _batchable() -> bool:
        # These bugs live in the one-at-a-time path (a batch would commit the
        # sides together, or ack what it then falls back on).
        return not (
            variants.active("one_sided_no_transaction") or variants.active("ack_before_commit")
        )

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        if variants.active("ack_before_commit"):
            await message.ack()  # the bug: the broker forgets it before it is applied
        try:
            env, payload = self._parse(message.body)
            try:
                await self._retrying(self._apply_once, env, payload)
            except MissingReference as exc:
                await self._park_or_give_up(message, env, exc)
                return
            await self._refresh_cache_or_swallow(env, payload)
        except Poison as exc:
            if variants.active("poison_requeued_forever"):
                log.warning("requeueing message %s: %s", message.message_id, exc)
                await _settle(message, "nack", requeue=True)  # the bug: it comes right back
                return
            log.warning("dead-lettering message %s: %s", message.message_id, exc)
            await _settle(message, "reject", requeue=False)
            return
        except RetryError as exc:
            log.warning(
                "requeueing %s after %.0fs of store errors: %s",
                message.message_id,
                self.retry_seconds,
                exc.last_attempt.exception(),
            )
            await _settle(message, "nack", requeue=True)
            return
        await _settle(message, "ack")

    async def _handle_batch(self, batch: list[AbstractIncomingMessage]) -> None:
        try:
            items = [(m, *self._parse(m.body)) for m in batch]
            await self._retrying_batch(self._apply_many, items)
        except (Poison, MissingReference, psycopg.Error) as exc:
            # Nothing of the batch is committed: one at a time, each dead-lettered,
            # parked or applied as it would have been on its own. (Transient store
            # errors were retried above; what is left is about one event.)
            if isinstance(exc, psycopg.Error):
                log.warning("batch of %d refused (%s): one at a time", len(batch), exc)
            for message in batch:
                await self._handle(message)
            return
        except RetryError as exc:
            await self._requeue_all(batch, exc)
            return
        try:
            await self._retrying_batch(self._refresh_many, items)
        except RetryError as exc:
            if not variants.active("swallows_cache_error"):
                await self._requeue_all(batch, exc)
                return
            log.warning("cache refresh failed for %d events; acking anyway", len(batch))
        for message in batch:
            await _settle(message, "ack")

    async def _requeue_all(self, batch: list[AbstractIncomingMessage], exc: RetryError) -> None:
        log.warning(
            "requeueing %d deliveries after %.0fs of store errors: %s",
            len(batch),
            self.retry_seconds,
            exc.last_attempt.exception(),
        )
        for message in batch:
            await _settle(message, "nack", requeue=True)

    async def _retrying_batch(self, step: Any, items: list[Parsed]) -> None:
        """`_retrying` for a batch: each step (an event, a view) gets the bound one delivery
        gets, so a slow store still drains and a dead one is given up on as fast."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_delay(self.retry_seconds),
            wait=wait_exponential_jitter(initial=0.05, max=1.0),
        ):
            with attempt:
                await bounded_progress(lambda p: step(items, p), self.store_timeout_s * 4)

    async def _apply_many(self, items: list[Parsed], progress: Progress) -> None:
        """The batch in one transaction: the event-id records in one statement, the posts
        it names in one query, then every change pipelined (sent without waiting for each
        answer; any error still aborts the whole transaction)."""
        async with (
            self.pool.connection(timeout=self.store_timeout_s) as conn,
            conn.transaction(),
        ):
            recorded = await self._record_events(conn, [env for _m, env, _p in items])
            progress.tick()
            batch = Batch()
            posts = {p for _m, _e, payload in items if (p := referenced_post(payload))}
            await load_post_authors(conn, batch, posts)
            progress.tick()
            token = current_batch.set(batch)
            try:
                async with conn.pipeline():
                    for _message, env, payload in items:
                        first = env.event_id in recorded
                        recorded.discard(env.event_id)  # a duplicate within the batch
                        await self._apply_event(conn, env, payload, recorded=first)
                    await flush_bumps(conn, batch)
            finally:
                current_batch.reset(token)
            progress.tick()

    @staticmethod
    async def _record_events(conn: psycopg.AsyncConnection, envs: list[Envelope]) -> set[Any]:
        """Insert the event-id records; the ids that were new (the others are redeliveries)."""
        cur = await conn.execute(
            "INSERT INTO processed_events (event_id, kind)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[])"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            ([env.event_id for env in envs], [env.type for env in envs]),
        )
        return {row["event_id"] for row in await cur.fetchall()}

    async def _refresh_many(self, items: list[Parsed], progress: Progress) -> None:
        """Every view the batch touched, once, read after the commit (pipelined); then one
        cache write (pipelined too)."""
        touched = list(
            dict.fromkeys(
                (view, ident)
                for _m, env, payload in items
                for view, ident in touched_views(env, payload)
            )
        )
        async with self.pool.connection(timeout=self.store_timeout_s) as conn:
            values = await views.load_many(conn, touched)
        progress.tick()
        await self.cache.store_many_if_newer(
            [(view.key(ident), v) for (view, ident), v in zip(touched, values, strict=True) if v]
        )

    async def _refresh_cache_or_swallow(self, env: Envelope, payload: Any) -> None:
        try:
            await self._retrying(self._refresh_cache, env, payload)
        except RetryError:
            if not variants.active("swallows_cache_error"):
                raise
            log.warning("cache refresh failed for %s; acking anyway", env.event_id)  # the bug

    async def _park_or_give_up(
        self, message: AbstractIncomingMessage, env: Envelope, why: MissingReference
    ) -> None:
        age_s = time.time() - env.occurred_at_ms / 1000
        if age_s > self.reference_wait_s:
            raise Poison(f"{why} {age_s:.0f}s after it was written")
        if self.wait_exchange is None:
            await _settle(message, "nack", requeue=True)
            return
        parked = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            message_id=message.message_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        # Confirmed republish, then ack: a crash in between leaves two copies,
        # which the event-id record makes one.
        await self.wait_exchange.publish(parked, routing_key=message.routing_key or env.type)
        await _settle(message, "ack")

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
        # One transaction: the event-id record and both sides of the change
        # commit together or not at all (the bug variant commits each statement).
        separate = variants.active("one_sided_no_transaction")
        async with (
            self.pool.connection(timeout=self.store_timeout_s) as conn,
            contextlib.nullcontext() if separate else conn.transaction(),
        ):
            await self._apply_event(conn, env, payload)

    async def _apply_event(
        self,
        conn: psycopg.AsyncConnection,
        env: Envelope,
        payload: Any,
        recorded: bool | None = None,
    ) -> None:
        """The event-id record and the change, in the caller's transaction.

        `recorded`: whether the caller already inserted the event-id record as new
        (a batch does so for all its events at once); None: insert it here.
        """
        if recorded is None:
            cur = await conn.execute(
                "INSERT INTO processed_events (event_id, kind) VALUES (%s, %s)"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                (env.event_id, env.type),
            )
            recorded = await cur.fetchone() is not None
        if not recorded and not variants.active("no_dedupe"):
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


async def _settle(message: AbstractIncomingMessage, how: str, **kwargs: Any) -> None:
    """Ack, nack or reject once; a message settled already (or on a dead channel) is left be."""
    if message.processed:
        return
    try:
        await getattr(message, how)(**kwargs)
    except Exception as exc:  # the channel died: the broker will redeliver it
        log.warning("could not %s %s: %s", how, message.message_id, exc)
