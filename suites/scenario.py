"""One chaos test, composed: a workload (client), a fault (nemesis), checkers.

    with fault applied:  run the workload, recording every op in the history
    after the heal:      wait (bounded) for recovery or convergence
    then:                the checkers judge the history and the final state

`ChaosRun` is what the suites get from the `chaos` fixture.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from faults.base import FaultWindow, Target
from reports.record import TestRecord
from suites import checkers
from suites.checkers import Verdict
from suites.client import FeedClient
from suites.contract import Bounds, Case
from suites.history import Op
from suites.state import ROWS_PER_KIND, StoreInspector, keys_touched_by
from suites.waiting import poll

READS_DURING_FAULT = 3
# Which consumer applies which kind of write (to tell whether a fault really bit).
CONSUMER_OF_KIND = {
    "post": "post_consumer",
    "comment": "comment_consumer",
    "like": "like_consumer",
    "user": "social_consumer",
    "follow": "social_consumer",
}


@dataclass
class FeedWorld:
    """Read-path data written once per session: a reader following two authors."""

    reader: int
    authors: list[int]
    expected_items: list[dict[str, Any]]


class ChaosRun:
    def __init__(
        self,
        stack: Target,
        client: FeedClient,
        inspector: StoreInspector,
        bounds: Bounds,
        rng: random.Random,
        record: TestRecord,
    ) -> None:
        self.stack = stack
        self.client = client
        self.inspector = inspector
        self.bounds = bounds
        self.rng = rng
        self.record = record

    def fresh_user_ids(self, n: int) -> list[int]:
        """Ids no other test uses, drawn from the seeded generator (so a seed replays them)."""
        return [self.rng.randrange(10**9, 10**12) for _ in range(n)]

    def _note_case(self, case: Case, path: str) -> None:
        self.record.path, self.record.case = path, case.id
        self.record.row, self.record.target = case.row.id, case.target
        self.record.fault = case.fault.to_json()

    # -- the read path ------------------------------------------------------

    def run_read_case(self, case: Case, world: FeedWorld, expect_failure: bool) -> list[Verdict]:
        self._note_case(case, "read_path")
        baseline = self.client.read_feed(world.reader)
        assert baseline.status == 200, f"stack not healthy before the fault: {baseline.response}"
        with case.fault.applied(self.stack) as window:
            during = [self.client.read_feed(world.reader) for _ in range(READS_DURING_FAULT)]
        self.record.add_window(window)
        good, _ = poll(
            lambda: self.client.read_feed(world.reader).status == 200, self.bounds.recovery_s
        )
        time_to_recover = window.since_heal() if good else None
        if expect_failure:
            first = checkers.reads_fail_cleanly(during, case.dependency, self.bounds.read_bound_s)
        else:
            first = checkers.reads_ok(during, world.expected_items, self.bounds.read_bound_s)
        return [first, checkers.recovered(time_to_recover, self.bounds.recovery_s)]

    # -- the write path -----------------------------------------------------

    def write_workload(self, posts: int = 4) -> list[Op]:
        """Posts by one author, each commented on and liked by two others."""
        author, commenter, liker = self.fresh_user_ids(3)
        ops: list[Op] = []
        for n in range(posts):
            post = self.client.post(author, f"post {n} by {author}")
            ops.append(post)
            post_id = (post.response or {}).get("post_id") if post.outcome == "ok" else None
            post_id = post_id or _placeholder_post_id(self.rng)
            ops.append(self.client.comment(commenter, post_id, author, f"comment on {n}"))
            ops.append(self.client.like(liker, post_id, author))
        return ops

    def run_write_case(self, case: Case, stopped: set[str]) -> list[Verdict]:
        """`stopped`: the consumers the fault takes down (their writes must wait for the heal)."""
        self._note_case(case, "write_path")
        with case.fault.applied(self.stack) as window:
            writes = self.write_workload()
            applied_during = self.inspector.applied_rows(o.event_id for o in writes if o.event_id)
        self.record.add_window(window)
        verdicts = [
            checkers.writes_acked(writes, self.bounds.write_ack_s),
            fault_bit(writes, applied_during, stopped),
        ]
        verdicts += self.check_applied(writes, window)
        return verdicts

    def check_applied(self, writes: list[Op], window: FaultWindow) -> list[Verdict]:
        """Wait for convergence, then judge exactly-once, the API views and the cache.

        The time to converge runs from the start of the heal.
        """
        acked = [o for o in writes if o.outcome == "ok" and o.event_id]

        def all_applied() -> dict[str, dict[str, int]] | None:
            rows = self.inspector.applied_rows(o.event_id for o in acked)
            done = all(
                rows[o.event_id]["processed_events"] >= 1
                and all(rows[o.event_id][t] >= 1 for t in ROWS_PER_KIND.get(o.kind, ()))
                for o in acked
            )
            return rows if done else None

        rows, _ = poll(all_applied, self.bounds.convergence_s, interval_s=0.1)
        time_to_converge = window.since_heal() if rows is not None else None
        if rows is None:  # judge what is there: the verdict names what is missing
            rows = self.inspector.applied_rows(o.event_id for o in writes if o.event_id)
        views = self.read_views(acked)
        keys = {k for o in acked for k in keys_touched_by(o)}
        return [
            checkers.converged(time_to_converge, self.bounds.convergence_s),
            checkers.exactly_once(writes, rows),
            checkers.views_show_writes(writes, views),
            checkers.cache_matches_db(self.inspector.cache_mismatches(keys), len(keys)),
        ]

    def read_views(self, acked: list[Op]) -> dict[tuple[int, str], list[dict[str, Any]]]:
        wanted: set[tuple[int, str]] = set()
        for op in acked:
            a = op.args
            if op.kind == "post":
                wanted.add((a["author_id"], "posts"))
            elif op.kind == "comment":
                wanted |= {
                    (a["author_id"], "comments/sent"),
                    (a["post_author_id"], "comments/received"),
                }
            elif op.kind == "like":
                wanted |= {(a["user_id"], "likes/sent"), (a["post_author_id"], "likes/received")}
        views = {}
        for user_id, view in sorted(wanted):
            op = self.client.read_view(user_id, view)
            if op.status == 200:
                views[(user_id, view)] = op.response["items"]
        return views


def fault_bit(
    writes: list[Op], applied_during: dict[str, dict[str, int]], stopped: set[str]
) -> Verdict:
    """While a consumer was down, none of its writes may have been applied.

    This guards the suite itself: a fault that silently did nothing would
    otherwise pass every other check.
    """
    problems = []
    held = 0
    for op in writes:
        if op.event_id and CONSUMER_OF_KIND.get(op.kind) in stopped:
            held += 1
            if applied_during.get(op.event_id, {}).get("processed_events"):
                problems.append(f"{op.kind} {op.event_id} was applied while its consumer was down")
    if stopped and not held:
        problems.append("no write went to a stopped consumer")
    return Verdict("fault_bit", not problems, {"held_back": held}, problems)


def _placeholder_post_id(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
