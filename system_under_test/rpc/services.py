"""The three servicers. Each answers from ViewReader and maps store failures to UNAVAILABLE."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio

from system_under_test.rpc import feed_pb2 as pb
from system_under_test.rpc import feed_pb2_grpc as pb_grpc
from system_under_test.rpc.reader import StoreUnavailable, ViewReader
from system_under_test.store import views

ACTIVITY_VIEWS = {
    pb.COMMENTS_SENT: views.COMMENTS_SENT,
    pb.COMMENTS_RECEIVED: views.COMMENTS_RECEIVED,
    pb.LIKES_SENT: views.LIKES_SENT,
    pb.LIKES_RECEIVED: views.LIKES_RECEIVED,
}


def time_left(context: grpc.aio.ServicerContext, default_s: float = 5.0) -> float:
    remaining = context.time_remaining()
    return default_s if remaining is None else remaining


def store_errors(
    method: Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except StoreUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))

    return wrapper


class FeedServicer(pb_grpc.FeedServiceServicer):
    def __init__(self, reader: ViewReader) -> None:
        self.reader = reader

    @store_errors
    async def GetFeedEntries(self, request, context):
        followees = await self.reader.read(views.FOLLOWEES, request.user_id, time_left(context))
        authors = followees["ids"] if followees else []
        lists = await self.reader.read_many(views.USER_POSTS, authors, time_left(context))
        entries = [
            (item["created_at_ms"], item["post_id"], author)
            for author, posts in zip(authors, lists, strict=True)
            for item in (posts or {"items": []})["items"]
        ]
        entries.sort(reverse=True)
        limit = request.limit or 20
        return pb.GetFeedEntriesResponse(
            entries=[pb.FeedEntry(post_id=p, author_id=a) for _, p, a in entries[:limit]]
        )

    @store_errors
    async def ListUserPosts(self, request, context):
        posts = await self.reader.read(views.USER_POSTS, request.user_id, time_left(context))
        return pb.ListUserPostsResponse(
            posts=[
                pb.UserPost(post_id=i["post_id"], body=i["body"], created_at_ms=i["created_at_ms"])
                for i in (posts or {"items": []})["items"]
            ]
        )


class CardServicer(pb_grpc.CardServiceServicer):
    def __init__(self, reader: ViewReader) -> None:
        self.reader = reader

    @store_errors
    async def GetCards(self, request, context):
        cards = await self.reader.read_many(views.CARD, list(request.post_ids), time_left(context))
        return pb.GetCardsResponse(
            cards=[
                pb.PostCard(
                    post_id=c["post_id"],
                    author_id=c["author_id"],
                    body=c["body"],
                    created_at_ms=c["created_at_ms"],
                    like_count=c["like_count"],
                    comment_count=c["comment_count"],
                )
                for c in cards
                if c is not None
            ]
        )


class UserServicer(pb_grpc.UserServiceServicer):
    def __init__(self, reader: ViewReader) -> None:
        self.reader = reader

    @store_errors
    async def GetUsers(self, request, context):
        users = await self.reader.read_many(views.USER, list(request.user_ids), time_left(context))
        return pb.GetUsersResponse(
            users=[
                pb.UserProfile(
                    user_id=u["user_id"], nickname=u["nickname"], follower_count=u["follower_count"]
                )
                for u in users
                if u is not None
            ]
        )

    @store_errors
    async def ListActivity(self, request, context):
        view = ACTIVITY_VIEWS.get(request.kind)
        if view is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unknown activity kind")
        found = await self.reader.read(view, request.user_id, time_left(context))
        return pb.ListActivityResponse(
            items=[
                pb.ActivityItem(
                    event_id=i["event_id"],
                    post_id=i["post_id"],
                    other_user_id=i["other_user_id"],
                    body=i["body"],
                    created_at_ms=i["created_at_ms"],
                )
                for i in (found or {"items": []})["items"]
            ]
        )
