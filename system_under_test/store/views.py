"""The read views, each computed from the database and cached under one key.

One definition serves three readers: consumers refresh the cache from it after
a commit, RPC services fill a cache miss from it, and the checkers compare every
cached key with it. A view's value carries `v`, the newest row seq it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

# Lists are capped so a cache entry stays small; the suites stay well below.
LIST_LIMIT = 500

Value = dict[str, Any]
Rows = list[dict[str, Any]]
Query = Callable[[Any], tuple[str, tuple[Any, ...]]]  # ident -> (sql, params)
Shape = Callable[[Any, Rows], Value | None]  # ident, its rows -> the cached value


@dataclass(frozen=True)
class View:
    """One query and how its rows become the cached value (split, so several views can
    be read in one round trip by `load_many`)."""

    name: str
    query: Query
    shape: Shape
    ident_type: type = int  # user ids are ints; card keys are post uuids

    def key(self, ident: Any) -> str:
        return f"{self.name}:{ident}"

    async def load(self, conn: AsyncConnection, ident: Any) -> Value | None:
        sql, params = self.query(ident)
        cur = await conn.execute(sql, params)
        return self.shape(ident, await cur.fetchall())


async def load_many(
    conn: AsyncConnection, wanted: Sequence[tuple[View, Any]]
) -> list[Value | None]:
    """`view.load(conn, ident)` for each, pipelined: every query is sent before the first
    answer is read, so the lot costs one round trip instead of one each."""
    async with conn.pipeline():
        cursors = []
        for view, ident in wanted:
            sql, params = view.query(ident)
            cursors.append(await conn.execute(sql, params))
        return [
            view.shape(ident, await cur.fetchall())
            for (view, ident), cur in zip(wanted, cursors, strict=True)
        ]


def _user_posts_query(user_id: int) -> tuple[str, tuple[Any, ...]]:
    return (
        "SELECT seq, event_id::text, post_id::text, body, created_at_ms FROM posts"
        " WHERE author_id = %s ORDER BY seq DESC LIMIT %s",
        (user_id, LIST_LIMIT),
    )


def _list_shape(_ident: Any, rows: Rows) -> Value:
    version = max((r.pop("seq") for r in rows), default=0)
    return {"v": version, "items": rows}


def _activity_query(table: str) -> Query:
    sql = (
        f"SELECT seq, event_id::text, post_id::text, other_user_id, body, created_at_ms"
        f" FROM {table} WHERE user_id = %s ORDER BY seq DESC LIMIT %s"
    )
    return lambda user_id: (sql, (user_id, LIST_LIMIT))


def _card_query(post_id: str) -> tuple[str, tuple[Any, ...]]:
    return (
        "SELECT p.seq, p.post_id::text, p.author_id, p.body, p.created_at_ms,"
        " coalesce(s.like_count, 0) AS like_count, coalesce(s.comment_count, 0) AS comment_count,"
        " coalesce(s.seq, 0) AS stats_seq"
        " FROM posts p LEFT JOIN post_stats s ON s.post_id = p.post_id"
        " WHERE p.post_id = %s ORDER BY p.seq LIMIT 1",
        (post_id,),
    )


def _card_shape(_post_id: str, rows: Rows) -> Value | None:
    if not rows:
        return None  # not applied yet: absence is never cached
    row = rows[0]
    row["v"] = max(row.pop("seq"), row.pop("stats_seq"))
    return row


def _user_profile_query(user_id: int) -> tuple[str, tuple[Any, ...]]:
    return (
        "SELECT (SELECT nickname FROM users WHERE user_id = %s) AS nickname,"
        " (SELECT seq FROM users WHERE user_id = %s) AS user_seq,"
        " (SELECT count(*) FROM follows WHERE followee_id = %s) AS follower_count,"
        " (SELECT max(seq) FROM follows WHERE followee_id = %s) AS follow_seq",
        (user_id, user_id, user_id, user_id),
    )


def _user_profile_shape(user_id: int, rows: Rows) -> Value:
    row = rows[0]
    return {
        "v": max(row["user_seq"] or 0, row["follow_seq"] or 0),
        "user_id": user_id,
        "nickname": row["nickname"] or f"user-{user_id}",
        "follower_count": row["follower_count"],
    }


def _followees_query(user_id: int) -> tuple[str, tuple[Any, ...]]:
    return (
        "SELECT followee_id, seq FROM follows WHERE follower_id = %s ORDER BY followee_id",
        (user_id,),
    )


def _followees_shape(_user_id: int, rows: Rows) -> Value:
    return {
        "v": max((r["seq"] for r in rows), default=0),
        "ids": [r["followee_id"] for r in rows],
    }


USER_POSTS = View("posts", _user_posts_query, _list_shape)
COMMENTS_SENT = View("comments_sent", _activity_query("comments_sent"), _list_shape)
COMMENTS_RECEIVED = View("comments_received", _activity_query("comments_received"), _list_shape)
LIKES_SENT = View("likes_sent", _activity_query("likes_sent"), _list_shape)
LIKES_RECEIVED = View("likes_received", _activity_query("likes_received"), _list_shape)
CARD = View("card", _card_query, _card_shape, ident_type=str)
USER = View("user", _user_profile_query, _user_profile_shape)
FOLLOWEES = View("followees", _followees_query, _followees_shape)

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
