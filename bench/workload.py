"""The data the benchmark reads and the writes it sends.

Comments and likes go to posts that are already applied (a comment on a post
not applied yet would be parked and retried, which is not what a drain rate
should measure), spread over many posts by many authors so no single cached
list grows to its cap and no single post_stats row serialises every write.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from suites.state import StoreInspector

WRITE_KINDS = ("post", "comment", "like")
WRITE_PATHS = {"post": "/v1/posts", "comment": "/v1/comments", "like": "/v1/likes"}


@dataclass
class World:
    reader: int
    followed: list[int]
    posts: list[tuple[str, int]]  # (post_id, author_id), all applied
    rng: random.Random = field(default_factory=random.Random)

    def user_id(self) -> int:
        return self.rng.randrange(10**9, 10**12)

    def write(self, kind: str) -> tuple[str, dict[str, Any]]:
        """(path, JSON body) of one new write of `kind` by a fresh user."""
        actor = self.user_id()
        if kind == "post":
            return WRITE_PATHS[kind], {"author_id": actor, "body": f"bench post by {actor}"}
        post_id, author = self.posts[self.rng.randrange(len(self.posts))]
        if kind == "comment":
            body = {
                "author_id": actor,
                "post_id": post_id,
                "post_author_id": author,
                "body": "bench comment",
            }
        else:
            body = {"user_id": actor, "post_id": post_id, "post_author_id": author}
        return WRITE_PATHS[kind], body


def _accepted(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code != 202:
        raise RuntimeError(f"set-up write refused: {resp.status_code} {resp.text[:200]}")
    return resp.json()


def build_world(
    api_url: str, inspector: StoreInspector, seed: int, posts: int, followed: int, bound_s: float
) -> World:
    """Register a reader and the authors it follows, one post per author; wait until applied."""
    rng = random.Random(seed)
    world = World(reader=0, followed=[], posts=[], rng=rng)
    world.reader = world.user_id()
    authors = [world.user_id() for _ in range(posts)]
    world.followed = authors[:followed]
    events: list[str] = []
    with httpx.Client(base_url=api_url, timeout=10.0) as http:
        for user in (world.reader, *world.followed):
            body = {"user_id": user, "nickname": f"bench {user}"}
            events.append(_accepted(http.post("/v1/users", json=body))["event_id"])
        for author in world.followed:
            body = {"follower_id": world.reader, "followee_id": author}
            events.append(_accepted(http.post("/v1/follows", json=body))["event_id"])
        for author in authors:
            body = {"author_id": author, "body": f"bench seed post by {author}"}
            answer = _accepted(http.post("/v1/posts", json=body))
            events.append(answer["event_id"])
            world.posts.append((answer["post_id"], author))
        wait_applied(inspector, events, bound_s)
        # Then the feed itself: every followed author's post, with its author profile.
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            resp = http.get(f"/v1/feed/{world.reader}")
            if resp.status_code == 200 and len(resp.json()["items"]) == followed:
                return world
            time.sleep(0.1)  # polling period while the consumers catch up
    raise RuntimeError(f"the bench feed did not show its {followed} posts within {bound_s}s")


def wait_applied(inspector: StoreInspector, event_ids: list[str], bound_s: float) -> None:
    deadline = time.monotonic() + bound_s
    done = 0
    while time.monotonic() < deadline:
        done = applied_count(inspector, event_ids)
        if done == len(set(event_ids)):
            return
        time.sleep(0.1)  # polling period
    queues = {name: (q.ready, q.consumers) for name, q in inspector.queues().items()}
    raise RuntimeError(
        f"set-up writes not applied within {bound_s}s: {done} of {len(set(event_ids))};"
        f" queues (ready, consumers): {queues}"
    )


def applied_count(inspector: StoreInspector, event_ids: list[str]) -> int:
    """How many of `event_ids` have their processed_events row (committed with the change)."""
    with psycopg.connect(inspector.postgres_dsn, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM processed_events WHERE event_id = ANY(%s::uuid[])",
            (event_ids,),
        ).fetchone()
    return int(row[0]) if row else 0
