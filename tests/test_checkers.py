"""Each checker on hand-made histories: it passes on a good one and fails where it must."""

from __future__ import annotations

from typing import ClassVar

import pytest

from suites import checkers
from suites.history import History, Op
from suites.state import CacheMismatch

BOUND = 1.3


def op(
    kind: str,
    status: int | None,
    outcome: str,
    latency: float = 0.01,
    response: object = None,
    event_id: str | None = None,
    **args: object,
) -> Op:
    o = Op(id=0, kind=kind, args=dict(args), invoke=100.0, invoke_wall=0.0)
    History.complete(o, outcome, status, response)  # type: ignore[arg-type]
    o.complete = 100.0 + latency
    o.event_id = event_id
    return o


def failed_read(
    status: int = 503, dependency: str = "card_rpc", latency: float = 0.01, **extra: object
) -> Op:
    body = {"error": "dependency_unavailable", "dependency": dependency, **extra}
    return op("read_feed", status, "fail", latency, body)


class TestReadsFailCleanly:
    def test_passes_on_clean_failures(self) -> None:
        v = checkers.reads_fail_cleanly([failed_read(503), failed_read(504)], "card_rpc", BOUND)
        assert v.valid, v

    @pytest.mark.parametrize(
        "bad",
        [
            op("read_feed", 200, "ok", response={"items": []}),  # success during the fault
            op("read_feed", 500, "fail", response={"error": "boom"}),  # a crash, not a clean fail
            failed_read(dependency="user_rpc"),  # names the wrong dependency
            failed_read(latency=BOUND + 0.5),  # too slow
            failed_read(items=[{"post_id": "x"}]),  # a partial feed inside an error
        ],
        ids=["200", "500", "wrong-dependency", "too-slow", "partial-feed"],
    )
    def test_fails(self, bad: Op) -> None:
        assert not checkers.reads_fail_cleanly([failed_read(), bad], "card_rpc", BOUND).valid

    def test_fails_when_nothing_was_read(self) -> None:
        assert not checkers.reads_fail_cleanly([], "card_rpc", BOUND).valid


class TestReadsOk:
    ITEMS: ClassVar[list[dict]] = [{"post_id": "a", "like_count": 1}]

    def test_passes(self) -> None:
        good = op("read_feed", 200, "ok", response={"items": self.ITEMS})
        assert checkers.reads_ok([good], self.ITEMS, BOUND).valid

    @pytest.mark.parametrize(
        "bad",
        [
            op("read_feed", 200, "ok", response={"items": []}),  # data missing
            op("read_feed", 200, "ok", response={"items": [{"post_id": "a", "like_count": 0}]}),
            op("read_feed", 503, "fail", response={"error": "x"}),
            op("read_feed", 200, "ok", latency=BOUND + 0.1, response={"items": ITEMS}),
        ],
        ids=["missing", "wrong-count", "503", "too-slow"],
    )
    def test_fails(self, bad: Op) -> None:
        assert not checkers.reads_ok([bad], self.ITEMS, BOUND).valid


def test_recovered() -> None:
    assert checkers.recovered(0.2, 3.0).valid
    assert not checkers.recovered(None, 3.0).valid
    assert not checkers.recovered(3.5, 3.0).valid


class TestWritesAcked:
    def test_passes(self) -> None:
        assert checkers.writes_acked([op("post", 202, "ok", event_id="e")], 0.5).valid

    @pytest.mark.parametrize(
        "bad",
        [
            op("post", 503, "info"),
            op("post", 422, "fail"),
            op("post", 202, "ok", latency=0.9),
        ],
        ids=["503", "422", "slow-ack"],
    )
    def test_fails(self, bad: Op) -> None:
        assert not checkers.writes_acked([bad], 0.5).valid


def rows(processed: int = 1, **tables: int) -> dict[str, int]:
    base = {
        "processed_events": processed,
        "posts": 0,
        "comments_sent": 0,
        "comments_received": 0,
        "likes_sent": 0,
        "likes_received": 0,
    }
    return {**base, **tables}


class TestExactlyOnce:
    def test_passes_when_each_write_is_applied_once_on_both_sides(self) -> None:
        writes = [op("post", 202, "ok", event_id="p"), op("comment", 202, "ok", event_id="c")]
        state = {"p": rows(posts=1), "c": rows(comments_sent=1, comments_received=1)}
        v = checkers.exactly_once(writes, state)
        assert v.valid, v
        assert v.figures["acked"] == 2

    def test_lost(self) -> None:
        v = checkers.exactly_once([op("post", 202, "ok", event_id="p")], {"p": rows(0)})
        assert not v.valid and v.figures["lost"] == 1

    def test_duplicated(self) -> None:
        v = checkers.exactly_once([op("post", 202, "ok", event_id="p")], {"p": rows(posts=2)})
        assert not v.valid and v.figures["duplicated"] == 1

    def test_one_side_only(self) -> None:
        writes = [op("like", 202, "ok", event_id="l")]
        v = checkers.exactly_once(writes, {"l": rows(likes_sent=1, likes_received=0)})
        assert not v.valid and v.figures["one_sided"] == 1

    def test_info_write_may_be_applied_once_but_never_twice(self) -> None:
        once = checkers.exactly_once([op("post", 503, "info", event_id="p")], {"p": rows(posts=1)})
        assert once.valid and once.figures["info_applied"] == 1
        twice = checkers.exactly_once([op("post", 503, "info", event_id="p")], {"p": rows(posts=2)})
        assert not twice.valid

    def test_failed_writes_are_not_expected_anywhere(self) -> None:
        assert checkers.exactly_once([op("post", 422, "fail")], {}).valid


class TestViewsShowWrites:
    def test_passes_and_fails(self) -> None:
        writes = [
            op("comment", 202, "ok", event_id="c", author_id=1, post_author_id=2, post_id="p")
        ]
        good = {
            (1, "comments/sent"): [{"event_id": "c"}],
            (2, "comments/received"): [{"event_id": "c"}],
        }
        assert checkers.views_show_writes(writes, good).valid
        missing = {**good, (2, "comments/received"): []}
        assert not checkers.views_show_writes(writes, missing).valid
        doubled = {**good, (1, "comments/sent"): [{"event_id": "c"}, {"event_id": "c"}]}
        assert not checkers.views_show_writes(writes, doubled).valid


def test_cache_matches_db() -> None:
    assert checkers.cache_matches_db([], 3).valid
    v = checkers.cache_matches_db([CacheMismatch("posts:1", {"v": 1}, {"v": 2})], 3)
    assert not v.valid and v.figures["mismatched"] == 1


def test_converged() -> None:
    assert checkers.converged(1.0, 30).valid
    assert not checkers.converged(None, 30).valid


FULL_ITEM = {
    "post_id": "a",
    "author": {"user_id": 1, "nickname": "n", "follower_count": 0},
    "body": "b",
    "created_at_ms": 1,
    "like_count": 0,
    "comment_count": 0,
}


class TestReadsOkOrFailCleanly:
    DEPS: ClassVar[set[str]] = {"feed_rpc", "card_rpc", "user_rpc"}

    def test_mixed_good_and_clean_failures_pass(self) -> None:
        ops = [op("read_feed", 200, "ok", response={"items": [FULL_ITEM]}), failed_read(504)]
        v = checkers.reads_ok_or_fail_cleanly(ops, None, self.DEPS, BOUND)
        assert v.valid, v
        assert v.figures["ok"] == 1 and v.figures["failed_cleanly"] == 1

    @pytest.mark.parametrize(
        "bad",
        [
            op("read_feed", 200, "ok", response={"items": [{"post_id": "a"}]}),  # incomplete item
            op("read_feed", 500, "fail", response={"error": "x"}),
            failed_read(dependency="redis"),  # names something the API does not call
            failed_read(items=[FULL_ITEM]),
            op("read_feed", 200, "ok", latency=BOUND + 1, response={"items": [FULL_ITEM]}),
        ],
        ids=["incomplete", "500", "unknown-dependency", "partial-in-error", "slow"],
    )
    def test_fails(self, bad: Op) -> None:
        assert not checkers.reads_ok_or_fail_cleanly([bad], None, self.DEPS, BOUND).valid

    def test_compares_with_the_expected_feed_when_known(self) -> None:
        ok = op("read_feed", 200, "ok", response={"items": [FULL_ITEM]})
        assert not checkers.reads_ok_or_fail_cleanly([ok], [], self.DEPS, BOUND).valid


def test_reads_fail_cleanly_can_demand_a_fast_503() -> None:
    assert not checkers.reads_fail_cleanly([failed_read(504)], "card_rpc", BOUND, (503,)).valid
    assert checkers.reads_fail_cleanly([failed_read(503)], "card_rpc", BOUND, (503,)).valid


class TestBrokerWrites:
    def test_rejected_cleanly(self) -> None:
        assert checkers.writes_rejected_cleanly([op("post", 503, "info")], 1.3).valid
        assert not checkers.writes_rejected_cleanly([op("post", 202, "ok")], 1.3).valid
        assert not checkers.writes_rejected_cleanly([op("post", 503, "info", latency=2)], 1.3).valid
        assert not checkers.writes_rejected_cleanly([op("post", 500, "info")], 1.3).valid

    def test_ok_or_rejected(self) -> None:
        ops = [op("post", 202, "ok"), op("post", 503, "info")]
        assert checkers.writes_ok_or_rejected(ops, 1.3).valid
        assert not checkers.writes_ok_or_rejected([op("post", 400, "fail")], 1.3).valid


class TestFaultBit:
    def test_a_held_write_must_not_be_applied_during_the_fault(self) -> None:
        writes = [op("post", 202, "ok", event_id="p")]
        assert checkers.fault_bit(writes, {"p": rows(0)}, {"post_consumer"}).valid
        assert not checkers.fault_bit(writes, {"p": rows(1, posts=1)}, {"post_consumer"}).valid

    def test_a_fault_that_held_nothing_proves_nothing(self) -> None:
        writes = [op("like", 202, "ok", event_id="l")]
        assert not checkers.fault_bit(writes, {"l": rows(0)}, {"post_consumer"}).valid


def test_consumers_attached() -> None:
    assert checkers.consumers_attached({"feed.post": 1}, 0.5, 20).valid
    assert not checkers.consumers_attached(None, None, 20).valid


def test_bad_input_refused() -> None:
    refused = op("raw", 422, "fail", response={"error": "invalid_body"})
    assert checkers.bad_input_refused([refused]).valid
    for bad in (
        op("raw", 500, "info", response={"error": "x"}),
        op("raw", 202, "ok"),
        op("raw", 400, "fail", response="not json"),
        op("raw", None, "info"),
    ):
        assert not checkers.bad_input_refused([bad]).valid, bad


def test_feed_differences_catches_order_text_and_counts() -> None:
    model = {k: v for k, v in FULL_ITEM.items() if k != "created_at_ms"}
    written = [dict(model, post_id="a", body="first"), dict(model, post_id="b")]
    shown = [dict(written[1], created_at_ms=2), dict(written[0], created_at_ms=1)]
    assert checkers.feed_differences(shown, written) == []
    assert checkers.feed_differences(list(reversed(shown)), written)  # oldest first
    truncated = [shown[0], dict(shown[1], body="fir")]
    assert checkers.feed_differences(truncated, written)
    recount = [shown[0], dict(shown[1], like_count=5)]
    assert checkers.feed_differences(recount, written)
    assert checkers.feed_differences(shown[:1], written)  # a post missing
