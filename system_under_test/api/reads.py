"""The read path: one deadline budget, three RPC dependencies, all or nothing.

Feed RPC gives the entries, then Card and User RPC run in parallel. Each call's
gRPC deadline is what is left of the budget, so the whole read answers within
it; if any call fails the read fails naming that dependency, never a partial feed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import grpc.aio

from system_under_test import variants
from system_under_test.api.errors import DependencyFailed
from system_under_test.rpc import feed_pb2 as pb
from system_under_test.rpc import feed_pb2_grpc as pb_grpc
from system_under_test.rpc.channel_options import CLIENT_OPTIONS
from system_under_test.store.bounded import bounded

T = TypeVar("T")

# What the API needs at least to attempt one more call.
MIN_CALL_S = 0.005


@dataclass
class RpcClients:
    feed: pb_grpc.FeedServiceStub
    card: pb_grpc.CardServiceStub
    user: pb_grpc.UserServiceStub
    channels: list[grpc.aio.Channel]

    @classmethod
    def connect(cls, feed_addr: str, card_addr: str, user_addr: str) -> RpcClients:
        channels = [
            grpc.aio.insecure_channel(addr, options=CLIENT_OPTIONS)
            for addr in (feed_addr, card_addr, user_addr)
        ]
        return cls(
            feed=pb_grpc.FeedServiceStub(channels[0]),
            card=pb_grpc.CardServiceStub(channels[1]),
            user=pb_grpc.UserServiceStub(channels[2]),
            channels=channels,
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class Budget:
    """The time left of one request's deadline."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


async def call(dependency: str, budget: Budget, make_call: Any, request: Any) -> Any:
    """One RPC under what is left of the budget; any failure names the dependency."""
    remaining = budget.remaining()
    if remaining < MIN_CALL_S:
        raise DependencyFailed(dependency, True, "read budget spent before the call")
    try:
        if dependency == "card_rpc" and variants.active("rpc_no_deadline"):
            return await make_call(request)  # the bug: no deadline, no bound
        # The gRPC deadline travels to the server; the bound guards the client
        # side too (a call can hang in name resolution or a stuck channel).
        return await bounded(make_call(request, timeout=remaining), remaining + 0.05)
    except grpc.aio.AioRpcError as exc:
        timed_out = exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        raise DependencyFailed(
            dependency, timed_out, f"{exc.code().name}: {exc.details()}"
        ) from exc
    except TimeoutError as exc:
        raise DependencyFailed(dependency, True, "no answer within the read budget") from exc


async def all_or_nothing(*calls: Awaitable[T]) -> list[T]:
    """Run calls in parallel; the first failure cancels the rest and is raised."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


async def _whatever_answered(*calls: Awaitable[Any]) -> list[Any]:
    """The partial_feed bug: a failed call counts as an empty answer."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    empty = [pb.GetCardsResponse(), pb.GetUsersResponse()]
    return [e if isinstance(r, BaseException) else r for r, e in zip(results, empty, strict=True)]


async def read_feed(rpc: RpcClients, user_id: int, limit: int, budget_s: float) -> dict[str, Any]:
    budget = Budget(budget_s)
    feed = await call(
        "feed_rpc",
        budget,
        rpc.feed.GetFeedEntries,
        pb.GetFeedEntriesRequest(user_id=user_id, limit=limit),
    )
    post_ids = [e.post_id for e in feed.entries]
    author_ids = sorted({e.author_id for e in feed.entries})
    cards_call = call("card_rpc", budget, rpc.card.GetCards, pb.GetCardsRequest(post_ids=post_ids))
    users_call = call(
        "user_rpc", budget, rpc.user.GetUsers, pb.GetUsersRequest(user_ids=author_ids)
    )
    if variants.active("partial_feed"):
        cards, users = await _whatever_answered(cards_call, users_call)
    else:
        cards, users = await all_or_nothing(cards_call, users_call)
    cards_by_id = {c.post_id: c for c in cards.cards}
    users_by_id = {u.user_id: u for u in users.users}
    items = []
    for entry in feed.entries:
        card = cards_by_id.get(entry.post_id)
        author = users_by_id.get(entry.author_id)
        if card is None and variants.active("partial_feed"):
            card = pb.PostCard(post_id=entry.post_id, author_id=entry.author_id)
        if author is None and variants.active("partial_feed"):
            author = pb.UserProfile(user_id=entry.author_id)
        if card is None or author is None:
            # Every dependency answered, and this post is not applied everywhere
            # yet: leave the post out rather than show half of it.
            continue
        items.append(
            {
                "post_id": card.post_id,
                "author": {
                    "user_id": author.user_id,
                    "nickname": author.nickname,
                    "follower_count": author.follower_count,
                },
                "body": card.body,
                "created_at_ms": card.created_at_ms,
                "like_count": card.like_count,
                "comment_count": card.comment_count,
            }
        )
    return {"user_id": user_id, "items": items}


async def read_user_posts(rpc: RpcClients, user_id: int, budget_s: float) -> dict[str, Any]:
    reply = await call(
        "feed_rpc",
        Budget(budget_s),
        rpc.feed.ListUserPosts,
        pb.ListUserPostsRequest(user_id=user_id),
    )
    return {
        "user_id": user_id,
        "items": [
            {"post_id": p.post_id, "body": p.body, "created_at_ms": p.created_at_ms}
            for p in reply.posts
        ],
    }


ACTIVITY_KINDS = {
    ("comments", "sent"): pb.COMMENTS_SENT,
    ("comments", "received"): pb.COMMENTS_RECEIVED,
    ("likes", "sent"): pb.LIKES_SENT,
    ("likes", "received"): pb.LIKES_RECEIVED,
}


async def read_activity(
    rpc: RpcClients, user_id: int, kind: int, budget_s: float
) -> dict[str, Any]:
    reply = await call(
        "user_rpc",
        Budget(budget_s),
        rpc.user.ListActivity,
        pb.ListActivityRequest(user_id=user_id, kind=kind),
    )
    return {
        "user_id": user_id,
        "items": [
            {
                "event_id": i.event_id,
                "post_id": i.post_id,
                "other_user_id": i.other_user_id,
                "body": i.body,
                "created_at_ms": i.created_at_ms,
            }
            for i in reply.items
        ],
    }
