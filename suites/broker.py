"""Straight to the broker, around the API: raw publishes and the dead-letter queue.

The poison suite uses it to send what the API never would, and to see where
it ended up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aio_pika

from system_under_test.messaging.topology import DEAD_LETTER_QUEUE, EXCHANGE


@dataclass
class DeadLetter:
    message_id: str | None
    routing_key: str | None
    deaths: int  # how many times the broker dead-lettered it (x-death count)
    delivery_count: int | None  # quorum queues count deliveries in x-delivery-count


class BrokerClient:
    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url

    def publish_raw(self, routing_key: str, body: bytes, message_id: str) -> None:
        """Persistent, confirmed, to the feed exchange: exactly how the API publishes."""
        asyncio.run(self._publish(routing_key, body, message_id))

    async def _publish(self, routing_key: str, body: bytes, message_id: str) -> None:
        connection = await aio_pika.connect(self.amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(EXCHANGE)
            message = aio_pika.Message(
                body=body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await exchange.publish(message, routing_key=routing_key, timeout=5)

    def take_dead_letters(self) -> list[DeadLetter]:
        """Everything in the dead-letter queue, removed from it."""
        return asyncio.run(self._take())

    async def _take(self) -> list[DeadLetter]:
        out: list[DeadLetter] = []
        connection = await aio_pika.connect(self.amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(DEAD_LETTER_QUEUE, ensure=True)
            while (message := await queue.get(fail=False, timeout=5)) is not None:
                out.append(_dead_letter(message))
                await message.ack()
        return out


def _dead_letter(message: Any) -> DeadLetter:
    headers = message.headers or {}
    deaths = sum(int(d.get("count", 1)) for d in headers.get("x-death") or [])
    count = headers.get("x-delivery-count")
    return DeadLetter(
        message.message_id, message.routing_key, deaths, None if count is None else int(count)
    )
