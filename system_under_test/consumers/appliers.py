"""What each event does to the database, and which cached views it touches.

Each applier runs inside the transaction that also records the event id, so
an event is applied with both of its sides or not at all, and only once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from system_under_test.consumers.errors import MissingReference, Poison
from system_under_test.messaging import events
from system_under_test.store import views

Touched = list[tuple[views.View, Any]]
Applier = Callable[[AsyncConnection, events.Envelope, Any], Awaitable[None]]


async def apply_user(conn: AsyncConnection, env: events.Envelope, p: events.UserRegistered) -> None:
    await conn.execute(
        "INSERT INTO users (user_id, nickname, seq) VALUES (%s, %s, nextval('row_seq'))"
        " ON CONFLICT (user_id) DO UPDATE SET nickname = excluded.nickname, seq = excluded.seq",
        (p.user_id, p.nickname),
    )


async def apply_follow(
    conn: AsyncConnection, env: events.Envelope, p: events.FollowCreated
) -> None:
    await conn.execute(
        "INSERT INTO follows (follower_id, followee_id, seq) VALUES (%s, %s, nextval('row_seq'))"
        " ON CONFLICT DO NOTHING",
        (p.follower_id, p.followee_id),
    )


async def apply_post(conn: AsyncConnection, env: events.Envelope, p: events.PostCreated) -> None:
    await conn.execute(
        "INSERT INTO posts (event_id, post_id, author_id, body, created_at_ms)"
        " VALUES (%s, %s, %s, %s, %s)",
        (env.event_id, env.event_id, p.author_id, p.body, env.occurred_at_ms),
    )


async def _both_sides(
    conn: AsyncConnection,
    table: str,
    env: events.Envelope,
    actor: int,
    post_id: Any,
    target: int,
    body: str,
) -> None:
    """The actor's sent row and the target's received row: two writes, one transaction."""
    for side, user, other in (("sent", actor, target), ("received", target, actor)):
        await conn.execute(
            f"INSERT INTO {table}_{side} (event_id, user_id, post_id, other_user_id, body,"
            " created_at_ms) VALUES (%s, %s, %s, %s, %s, %s)",
            (env.event_id, user, post_id, other, body, env.occurred_at_ms),
        )


@dataclass
class Batch:
    """Set (in `current_batch`) while several events are applied in one transaction.

    Counter bumps wait here and are written at the end, summed per post and in
    post order, so the comment and like consumers hold post_stats rows briefly
    and lock them in one order (two batches bumping the same posts in different
    orders would deadlock). The posts the batch names are looked up once.
    """

    bumps: dict[tuple[str, str], int] = field(default_factory=dict)
    post_authors: dict[str, int] = field(default_factory=dict)  # applied posts -> author


current_batch: ContextVar[Batch | None] = ContextVar("current_batch", default=None)


async def _bump_stats(conn: AsyncConnection, post_id: Any, column: str) -> None:
    batch = current_batch.get()
    if batch is not None:
        key = (str(post_id), column)
        batch.bumps[key] = batch.bumps.get(key, 0) + 1
        return
    await _add_to_stats(conn, post_id, column, 1)


async def _add_to_stats(conn: AsyncConnection, post_id: Any, column: str, n: int) -> None:
    await conn.execute(
        f"INSERT INTO post_stats (post_id, {column}, seq) VALUES (%s, %s, nextval('row_seq'))"
        f" ON CONFLICT (post_id) DO UPDATE SET {column} = post_stats.{column} + excluded.{column},"
        " seq = excluded.seq",
        (post_id, n),
    )


async def flush_bumps(conn: AsyncConnection, batch: Batch) -> None:
    """Write a batch's counter bumps, in post order (the caller's transaction commits them)."""
    for (post_id, column), n in sorted(batch.bumps.items()):
        await _add_to_stats(conn, post_id, column, n)


async def load_post_authors(conn: AsyncConnection, batch: Batch, post_ids: set[str]) -> None:
    """The author of each of `post_ids` that is applied, in one query."""
    if not post_ids:
        return
    cur = await conn.execute(
        "SELECT DISTINCT ON (post_id) post_id::text AS post_id, author_id FROM posts"
        " WHERE post_id = ANY(%s::uuid[]) ORDER BY post_id, seq",
        (sorted(post_ids),),
    )
    batch.post_authors.update({row["post_id"]: row["author_id"] for row in await cur.fetchall()})


def referenced_post(payload: Any) -> str | None:
    """The post a comment or like needs applied first."""
    if isinstance(payload, events.CommentCreated | events.LikeCreated):
        return str(payload.post_id)
    return None


async def _check_post(conn: AsyncConnection, post_id: Any, post_author_id: int) -> None:
    """The post must exist and be by the author the event names."""
    batch = current_batch.get()
    if batch is not None:
        author = batch.post_authors.get(str(post_id))
    else:
        cur = await conn.execute(
            "SELECT author_id FROM posts WHERE post_id = %s LIMIT 1", (post_id,)
        )
        row = await cur.fetchone()
        author = None if row is None else row["author_id"]
    if author is None:
        raise MissingReference(f"post {post_id} is not applied")
    if author != post_author_id:
        raise Poison(f"post {post_id} is by user {author}, not {post_author_id}")


async def apply_comment(
    conn: AsyncConnection, env: events.Envelope, p: events.CommentCreated
) -> None:
    await _check_post(conn, p.post_id, p.post_author_id)
    await _both_sides(conn, "comments", env, p.author_id, p.post_id, p.post_author_id, p.body)
    await _bump_stats(conn, p.post_id, "comment_count")


async def apply_like(conn: AsyncConnection, env: events.Envelope, p: events.LikeCreated) -> None:
    await _check_post(conn, p.post_id, p.post_author_id)
    await _both_sides(conn, "likes", env, p.user_id, p.post_id, p.post_author_id, "")
    await _bump_stats(conn, p.post_id, "like_count")


def touched_views(env: events.Envelope, p: Any) -> Touched:
    """The cache entries an event changes; refreshed after every delivery, duplicate or not."""
    match p:
        case events.UserRegistered():
            return [(views.USER, p.user_id)]
        case events.FollowCreated():
            return [(views.FOLLOWEES, p.follower_id), (views.USER, p.followee_id)]
        case events.PostCreated():
            return [(views.USER_POSTS, p.author_id), (views.CARD, str(env.event_id))]
        case events.CommentCreated():
            return [
                (views.COMMENTS_SENT, p.author_id),
                (views.COMMENTS_RECEIVED, p.post_author_id),
                (views.CARD, str(p.post_id)),
            ]
        case events.LikeCreated():
            return [
                (views.LIKES_SENT, p.user_id),
                (views.LIKES_RECEIVED, p.post_author_id),
                (views.CARD, str(p.post_id)),
            ]
    raise TypeError(f"no views for {type(p).__name__}")


APPLIERS: dict[str, Applier] = {
    "user.registered": apply_user,
    "follow.created": apply_follow,
    "post.created": apply_post,
    "comment.created": apply_comment,
    "like.created": apply_like,
}
