"""Confirmed publishing for the API: a write is accepted only once the broker has it.

Every publish, including the (re)connect it may need, runs under one bound,
so a write never waits for a reconnect longer than that. A failed or
timed-out publish drops the connection so the next write starts afresh.
"""

from __future__ import annotations

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from system_under_test import variants
from system_under_test.messaging.connect import connect
from system_under_test.messaging.events import Envelope
from system_under_test.messaging.topology import declare_all
from system_under_test.store.bounded import bounded

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not confirm: the write is indeterminate, answer 503."""


class ConfirmingPublisher:
    def __init__(self, amqp_url: str, timeout_s: float, delivery_limit: int, park_s: float) -> None:
        self._url = amqp_url
        self._timeout_s = timeout_s
        self._delivery_limit = delivery_limit
        self._park_s = park_s
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task] = set()

    async def publish(self, event: Envelope) -> None:
        if variants.active("ack_before_confirm"):
            # The bug: answer at once and let the publish (and its confirm) happen later.
            task = asyncio.ensure_future(bounded(self._publish(event), self._timeout_s))
            self._closing.add(task)
            task.add_done_callback(self._closed_in_background)
            return
        try:
            await bounded(self._publish(event), self._timeout_s)
        except Exception as exc:  # any failure leaves the write unconfirmed
            self._forget_connection()
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _publish(self, event: Envelope) -> None:
        exchange = await self._ensure_exchange()
        message = aio_pika.Message(
            body=event.model_dump_json().encode(),
            content_type="application/json",
            message_id=str(event.event_id),
            # Non-persistent is aio-pika's default: a broker restart could lose it.
            delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT
            if variants.active("non_persistent")
            else aio_pika.DeliveryMode.PERSISTENT,
        )
        # With confirms on, this returns only after the broker's ack and raises
        # on a nack or an unroutable return.
        await exchange.publish(message, routing_key=event.type, mandatory=True)

    async def _ensure_exchange(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is not None and self._channel and not self._channel.is_closed:
                return self._exchange
            self._forget_connection()
            self._connection = await connect(self._url, self._timeout_s)
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._exchange = await declare_all(self._channel, self._delivery_limit, self._park_s)
            log.info("publisher connected")
            return self._exchange

    def _forget_connection(self) -> None:
        """The next write starts from a fresh connection; the old one closes in the background.

        Closing over a blackholed link can take a while, and the answer to the
        failed write must not wait for it.
        """
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None and not connection.is_closed:
            task = asyncio.ensure_future(bounded(connection.close(), 5.0))
            self._closing.add(task)
            task.add_done_callback(self._closed_in_background)

    def _closed_in_background(self, task: asyncio.Task) -> None:
        self._closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("closing a dead publisher connection failed: %s", task.exception())

    async def connect_early(self) -> None:
        """Best effort at start-up: declares the topology before the first write."""
        try:
            await bounded(self._ensure_exchange(), self._timeout_s * 5)
        except Exception as exc:
            log.warning("broker not reachable at start: %s", exc)

    async def close(self) -> None:
        self._forget_connection()
        if self._closing:
            await asyncio.wait(self._closing, timeout=5.0)
