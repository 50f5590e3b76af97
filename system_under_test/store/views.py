"""The read views, each computed from the database and cached under one key.

One definition serves three readers: consumers refresh the cache from it after
a commit, RPC services fill a cache miss from it, and the checkers compare every
cached key with it. A view's value carries `v`, the newest row seq it covers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

# Lists are capped so a cache entry stays small; the suites stay well below.
LIST_LIMIT = 500

Value = dict[str, Any]
Loader = Callable[[AsyncConnection, Any], Awaitable[Value | None]]


@dataclass(frozen=True)
class View:
    name: str
    load: Loader
    ident_type: type = int  # user ids are ints; card keys are post uuids

    def key(self, ident: Any) -> str:
        return f"{self.name}:{ident}"


async def _rows(conn: AsyncConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cur = await conn.execute(sql, params)
    return await cur.fetchall()


async def _user_posts(conn: AsyncConnection, user_id: int) -> Value:
    rows = await _rows(
        conn,
        "SELECT seq, event_id::text, post_id::text, body, created_at_ms FROM posts"
        " WHERE author_id = %s ORDER BY seq DESC LIMIT %s",
        user_id,
        LIST_LIMIT,
    )
    version = max((r.pop("seq") for r in rows), default=0)
    return {"v": version, "items": rows}


def _activity_loader(table: str) -> Loader:
    sql = (
        f"SELECT seq, event_id::text, post_id::text, other_user_id, body, created_at_ms"
        f" FROM {table} WHERE user_id = %s ORDER BY seq DESC LIMIT %s"
    )

    async def load(conn: AsyncConnection, user_id: int) -> Value:
        rows = await _rows(conn, sql, user_id, LIST_LIMIT)
        version = max((r.pop("seq") for r in rows), default=0)
        return {"v": version, "items": rows}

    return load


async def _card(conn: AsyncConnection, post_id: str) -> Value | None:
    rows = await _rows(
        conn,
        "SELECT p.seq, p.post_id::text, p.author_id, p.body, p.created_at_ms,"
        " coalesce(s.like_count, 0) AS like_count, coalesce(s.comment_count, 0) AS comment_count,"
        " coalesce(s.seq, 0) AS stats_seq"
        " FROM posts p LEFT JOIN post_stats s ON s.post_id = p.post_id"
        " WHERE p.post_id = %s ORDER BY p.seq LIMIT 1",
        post_id,
    )
    if not rows:
        return None  # not applied yet: absence is never cached
    row = rows[0]
    row["v"] = max(row.pop("seq"), row.pop("stats_seq"))
    return row


async def _user_profile(conn: AsyncConnection, user_id: int) -> Value:
    rows = await _rows(
        conn,
        "SELECT (SELECT nickname FROM users WHERE user_id = %s) AS nickname,"
        " (SELECT seq FROM users WHERE user_id = %s) AS user_seq,"
        " (SELECT count(*) FROM follows WHERE followee_id = %s) AS follower_count,"
        " (SELECT max(seq) FROM follows WHERE followee_id = %s) AS follow_seq",
        user_id,
        user_id,
        user_id,
        user_id,
    )
    row = rows[0]
    return {
        "v": max(row["user_seq"] or 0, row["follow_seq"] or 0),
        "user_id": user_id,
        "nickname": row["nickname"] or f"user-{user_id}",
        "follower_count": row["follower_count"],
    }


async def _followees(conn: AsyncConnection, user_id: int) -> Value:
    rows = await _rows(
        conn,
        "SELECT followee_id, seq FROM follows WHERE follower_id = %s ORDER BY followee_id",
        user_id,
    )
    return {
        "v": max((r["seq"] for r in rows), default=0),
        "ids": [r["followee_id"] for r in rows],
    }


USER_POSTS = View("posts", _user_posts)
COMMENTS_SENT = View("comments_sent", _activity_loader("comments_sent"))
COMMENTS_RECEIVED = View("comments_received", _activity_loader("comments_received"))
LIKES_SENT = View("likes_sent", _activity_loader("likes_sent"))
LIKES_RECEIVED = View("likes_received", _activity_loader("likes_received"))
CARD = View("card", _card, ident_type=str)
USER = View("user", _user_profile)
FOLLOWEES = View("followees", _followees)

ALL_VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        USER_POSTS,
        COMMENTS_SENT,
        COMMENTS_RECEIVED,
        LIKES_SENT,
        LIKES_RECEIVED,
        CARD,
        USER,
        FOLLOWEES,
    )
}


def view_for_key(key: str) -> tuple[View, str]:
    """Split a cache key back into its view and identifier (used by the checkers)."""
    name, _, ident = key.partition(":")
    view = ALL_VIEWS[name]
    return view, view.ident_type(ident)
