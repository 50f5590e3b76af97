"""Exchange, queues and bindings, declared the same way by the API and every consumer.

Quorum queues give a delivery limit (a message that keeps failing is
dead-lettered instead of blocking its queue) and survive a broker restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from system_under_test import variants

EXCHANGE = "feed.events"
DEAD_LETTER_EXCHANGE = "feed.dlx"
DEAD_LETTER_QUEUE = "feed.dead"
# Parking: a message waiting for its reference sits here for a while, then the
# queue's TTL dead-letters it back into feed.events under its own routing key.
WAIT_EXCHANGE = "feed.wait"
WAIT_QUEUE = "feed.wait"


@dataclass(frozen=True)
class QueueSpec:
    consumer: str  # post, comment, like, social
    queue: str
    binding_keys: tuple[str, ...]


QUEUES: dict[str, QueueSpec] = {
    spec.consumer: spec
    for spec in (
        QueueSpec("post", "feed.post", ("post.*",)),
        QueueSpec("comment", "feed.comment", ("comment.*",)),
        QueueSpec("like", "feed.like", ("like.*",)),
        QueueSpec("social", "feed.social", ("user.*", "follow.*")),
    )
}


def queue_arguments(delivery_limit: int) -> dict[str, object]:
    """Quorum with a delivery limit, unless a bug variant asks for something worse.

    A quorum queue persists every message whatever its delivery mode, so the
    variants about persistence and durability use classic queues, where those
    flags decide whether a broker restart keeps the messages.
    """
    classic = variants.active("non_persistent") or variants.active("non_durable_queues")
    if classic:
        return {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE}
    arguments: dict[str, object] = {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
    }
    if not variants.active("poison_requeued_forever"):
        arguments["x-delivery-limit"] = delivery_limit
    return arguments


async def declare_exchange(channel: AbstractChannel) -> AbstractExchange:
    return await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_queue(
    channel: AbstractChannel, spec: QueueSpec, delivery_limit: int
) -> AbstractQueue:
    exchange = await declare_exchange(channel)
    queue = await channel.declare_queue(
        spec.queue,
        durable=not variants.active("non_durable_queues"),
        arguments=queue_arguments(delivery_limit),
    )
    for key in spec.binding_keys:
        await queue.bind(exchange, routing_key=key)
    return queue


async def declare_wait(channel: AbstractChannel, park_s: float) -> AbstractExchange:
    wait = await channel.declare_exchange(WAIT_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True)
    queue = await channel.declare_queue(
        WAIT_QUEUE,
        durable=True,
        arguments={"x-message-ttl": int(park_s * 1000), "x-dead-letter-exchange": EXCHANGE},
    )
    await queue.bind(wait)
    return wait


async def declare_all(
    channel: AbstractChannel, delivery_limit: int, park_s: float
) -> AbstractExchange:
    """Everything, so a write is routable even if no consumer ever started."""
    dlx = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead = await channel.declare_queue(
        DEAD_LETTER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead.bind(dlx)
    for spec in QUEUES.values():
        await declare_queue(channel, spec, delivery_limit)
    await declare_wait(channel, park_s)
    return await declare_exchange(channel)
