"""The final state, read straight from the stores (never through the SUT's API).

The checkers use it to tell what consumers really applied and whether the
cache agrees with the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
import psycopg
import redis
from psycopg.rows import dict_row

from suites.history import Op
from system_under_test.messaging.topology import DEAD_LETTER_QUEUE, QUEUES, WAIT_QUEUE
from system_under_test.store import views

# Where each kind of write leaves rows: one row per table per applied event.
ROWS_PER_KIND: dict[str, tuple[str, ...]] = {
    "post": ("posts",),
    "comment": ("comments_sent", "comments_received"),
    "like": ("likes_sent", "likes_received"),
}
APPLIED_TABLES = (
    "processed_events",
    "posts",
    "comments_sent",
    "comments_received",
    "likes_sent",
    "likes_received",
)


def keys_touched_by(op: Op) -> list[str]:
    """The cache keys a write must leave equal to the database (our own list, not the SUT's)."""
    a = op.args
    match op.kind:
        case "post":
            return [f"posts:{a['author_id']}", f"card:{op.event_id}"]
        case "comment":
            return [
                f"comments_sent:{a['author_id']}",
                f"comments_received:{a['post_author_id']}",
                f"card:{a['post_id']}",
            ]
        case "like":
            return [
                f"likes_sent:{a['user_id']}",
                f"likes_received:{a['post_author_id']}",
                f"card:{a['post_id']}",
            ]
        case "user":
            return [f"user:{a['user_id']}"]
        case "follow":
            return [f"followees:{a['follower_id']}", f"user:{a['followee_id']}"]
    return []


@dataclass
class CacheMismatch:
    key: str
    cached: Any
    database: Any


@dataclass
class QueueState:
    ready: int  # messages waiting (not counting those delivered and unacked)
    consumers: int


class StoreInspector:
    def __init__(self, postgres_dsn: str, redis_url: str, amqp_url: str) -> None:
        self.postgres_dsn = postgres_dsn
        self.redis_url = redis_url
        self.amqp_url = amqp_url

    def queues(self) -> dict[str, QueueState]:
        """Each work queue and the dead-letter queue, by passive declare (no management plugin)."""
        return asyncio.run(self._queues())

    async def _queues(self) -> dict[str, QueueState]:
        names = [spec.queue for spec in QUEUES.values()] + [DEAD_LETTER_QUEUE, WAIT_QUEUE]
        connection = await aio_pika.connect(self.amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            out = {}
            for name in names:
                queue = await channel.declare_queue(name, passive=True, timeout=5)
                result = queue.declaration_result
                out[name] = QueueState(result.message_count or 0, result.consumer_count or 0)
            return out

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(
            self.postgres_dsn,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=5,
            # Bounded: a paused or blackholed database must fail a check, not hang it.
            options="-c statement_timeout=5000",
        )

    def applied_rows(self, event_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """event id -> table -> how many rows carry it (0 where none)."""
        ids = sorted(set(event_ids))
        counts: dict[str, dict[str, int]] = {e: dict.fromkeys(APPLIED_TABLES, 0) for e in ids}
        if not ids:
            return counts
        with self._connect() as conn:
            for table in APPLIED_TABLES:
                rows = conn.execute(
                    f"SELECT event_id::text AS e, count(*) AS n FROM {table}"
                    " WHERE event_id = ANY(%s::uuid[]) GROUP BY event_id",
                    (ids,),
                ).fetchall()
                for row in rows:
                    counts[row["e"]][table] = row["n"]
        return counts

    def cached(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` the cache holds right now."""
        keys = sorted(set(keys))
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        try:
            return {k for k, raw in zip(keys, client.mget(keys), strict=True) if raw is not None}
        finally:
            client.close()

    def cache_mismatches(self, keys: Iterable[str]) -> list[CacheMismatch]:
        """Cached entries that differ from the view computed from the database now.

        An absent key is consistent: the next read fills it from the database.
        """
        keys = sorted(set(keys))
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5, decode_responses=True)
        try:
            raws = client.mget(keys) if keys else []
        finally:
            client.close()
        cached = {k: json.loads(r) for k, r in zip(keys, raws, strict=True) if r is not None}
        truth = asyncio.run(self._views_from_db(list(cached)))
        return [CacheMismatch(k, cached[k], truth[k]) for k in cached if cached[k] != truth[k]]

    async def _views_from_db(self, keys: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with await psycopg.AsyncConnection.connect(
            self.postgres_dsn,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=5,
            options="-c statement_timeout=5000",
        ) as conn:
            for key in keys:
                view, ident = views.view_for_key(key)
                out[key] = json.loads(json.dumps(await view.load(conn, ident)))
        return out
