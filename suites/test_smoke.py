"""The stack works end to end with no fault: a write shows up in a read."""

from __future__ import annotations

import pytest

from suites import checkers
from suites.scenario import ChaosRun, FeedWorld
from suites.testing import assert_all_valid
from suites.waiting import poll

pytestmark = [pytest.mark.smoke]


def test_feed_read_answers_the_world(chaos: ChaosRun, feed_world: FeedWorld) -> None:
    ops = [chaos.client.read_feed(feed_world.reader) for _ in range(3)]
    verdicts = [checkers.reads_ok(ops, feed_world.expected_items, chaos.bounds.read_bound_s)]
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)


@pytest.mark.write_path
def test_a_post_reaches_the_followers_feed(chaos: ChaosRun) -> None:
    follower, author = chaos.fresh_user_ids(2)
    setup = [
        chaos.client.register(author, "smoke author", chaos.key()),
        chaos.client.follow(follower, author, chaos.key()),
    ]
    post = chaos.client.post(author, "smoke test", chaos.key())

    def in_feed() -> bool:
        op = chaos.client.read_feed(follower)
        return op.status == 200 and [i["post_id"] for i in op.response["items"]] == [
            post.response["post_id"]
        ]

    shown, took = poll(in_feed, chaos.bounds.convergence_s, interval_s=0.1)
    verdicts = [
        checkers.writes_acked([*setup, post], chaos.bounds.write_ack_s),
        checkers.converged(took if shown else None, chaos.bounds.convergence_s),
    ]
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
