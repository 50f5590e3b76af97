"""Confirmed publishing for the API: a write is accepted only once the broker has it.

Every publish, including the (re)connect it may need, runs under one bound.
With no usable connection the publish fails at once instead of waiting for a
reconnect, and a failed or timed-out publish drops the connection so the next
write starts from a fresh one.
"""

from __future__ import annotations

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from system_under_test.messaging.connect import connect
from system_under_test.messaging.events import Envelope
from system_under_test.messaging.topology import declare_all
from system_under_test.store.bounded import bounded

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not confirm: the write is indeterminate, answer 503."""


class ConfirmingPublisher:
    def __init__(self, amqp_url: str, timeout_s: float, delivery_limit: int) -> None:
        self._url = amqp_url
        self._timeout_s = timeout_s
        self._delivery_limit = delivery_limit
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def publish(self, event: Envelope) -> None:
        try:
            await bounded(self._publish(event), self._timeout_s)
        except Exception as exc:  # any failure leaves the write unconfirmed
            try:  # the lock may still be held by the abandoned attempt: bound the wait
                await bounded(self._drop(), 0.5)
            except Exception:
                log.debug("dropping the publisher connection failed", exc_info=True)
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _publish(self, event: Envelope) -> None:
        exchange = await self._ensure_exchange()
        message = aio_pika.Message(
            body=event.model_dump_json().encode(),
            content_type="application/json",
            message_id=str(event.event_id),
            # Non-persistent is aio-pika's default: a broker restart would lose it.
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        # With confirms on, this returns only after the broker's ack and raises
        # on a nack or an unroutable return.
        await exchange.publish(message, routing_key=event.type, mandatory=True)

    async def _ensure_exchange(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is not None and self._channel and not self._channel.is_closed:
                return self._exchange
            await self._drop_unlocked()
            self._connection = await connect(self._url, self._timeout_s)
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._exchange = await declare_all(self._channel, self._delivery_limit)
            log.info("publisher connected")
            return self._exchange

    async def _drop(self) -> None:
        async with self._lock:
            await self._drop_unlocked()

    async def _drop_unlocked(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None and not connection.is_closed:
            try:  # closing over a blackholed link would wait: bound it
                await bounded(connection.close(), 0.5)
            except Exception:
                log.debug("closing a dead publisher connection failed", exc_info=True)

    async def connect_early(self) -> None:
        """Best effort at start-up: declares the topology before the first write."""
        try:
            await bounded(self._ensure_exchange(), self._timeout_s * 5)
        except Exception as exc:
            log.warning("broker not reachable at start: %s", exc)

    async def close(self) -> None:
        await self._drop()
