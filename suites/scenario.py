"""One chaos test, composed: a workload (client), a fault (nemesis), checkers.

    with the fault applied:  read and write through it, recording every op
    after the heal:          wait (bounded) for recovery and convergence
    then:                    the checkers judge the history and the final state

`ChaosRun.run_case` does this for any contract row; which checkers judge it
follows from the row's read and write expectations. `ChaosRun` is what the
suites get from the `chaos` fixture.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from faults import make_fault
from faults.base import FaultWindow, Target
from faults.composite import Schedule
from reports.record import TestRecord
from suites import checkers
from suites.checkers import Verdict
from suites.client import FeedClient
from suites.contract import CONSUMERS, RPC_SERVICES, Bounds, Case, Reads, Writes
from suites.history import Op
from suites.state import ROWS_PER_KIND, StoreInspector, keys_touched_by
from suites.waiting import poll
from system_under_test.messaging.topology import QUEUES

READS_DURING_FAULT = 3
WORK_QUEUES = {spec.queue for spec in QUEUES.values()}
READ_EVERY_S = 0.1  # pace of reads while a fault is held on
KIND_OF_CONSUMER = {"post_consumer": "post", "comment_consumer": "comment", "like_consumer": "like"}


@dataclass
class FeedWorld:
    """Read-path data written once per session: a reader following two authors."""

    reader: int
    authors: list[int]
    expected_items: list[dict[str, Any]]

    def cache_keys(self) -> set[str]:
        """Every cache entry a read of the reader's feed uses."""
        return {
            f"followees:{self.reader}",
            *(f"posts:{a}" for a in self.authors),
            *(f"user:{a}" for a in self.authors),
            *(f"card:{item['post_id']}" for item in self.expected_items),
        }


class Stalled(Exception):
    """Convergence stopped: writes are missing and nothing is left to deliver them."""


def pending_writes(acked: list[Op], rows: dict[str, dict[str, int]]) -> int:
    """How many acknowledged writes are not (fully) applied in `rows`."""
    return sum(
        1
        for o in acked
        if rows[o.event_id]["processed_events"] < 1
        or any(rows[o.event_id][t] < 1 for t in ROWS_PER_KIND.get(o.kind, ()))
    )


class BacklogSampler:
    """Samples on a thread how many acked writes wait to be applied: the drain curve.

    It watches the test's list of writes as it grows and keeps [wall time,
    pending] pairs until stopped (or for `bound_s` at most).
    """

    def __init__(
        self,
        inspector: StoreInspector,
        writes: list[Op],
        interval_s: float = 0.1,
        bound_s: float = 120.0,
    ) -> None:
        self.inspector, self.writes = inspector, writes
        self.interval_s, self.bound_s = interval_s, bound_s
        self.samples: list[list[float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backlog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = time.monotonic() + self.bound_s
        while time.monotonic() < end:
            acked = [o for o in list(self.writes) if o.outcome == "ok" and o.event_id]
            try:
                rows = self.inspector.applied_rows(o.event_id for o in acked)
            except psycopg.Error:
                rows = None  # the database itself is out: no sample
            if rows is not None:
                self.samples.append([time.time(), pending_writes(acked, rows)])
            if self._stop.wait(self.interval_s):  # the sampling period, not a synchronisation
                return

    def stop(self) -> list[list[float]]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.samples


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
        self.backlog: BacklogSampler | None = None

    # -- small helpers -----------------------------------------------------------

    def fresh_user_ids(self, n: int) -> list[int]:
        """Ids no other test uses, drawn from the seeded generator (so a seed replays them)."""
        return [self.rng.randrange(10**9, 10**12) for _ in range(n)]

    def key(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _note_case(self, case: Case) -> None:
        self.record.path = "+".join(case.row.paths)
        self.record.case, self.record.row, self.record.target = case.id, case.row.id, case.target
        self.record.fault = case.fault.to_json()

    def read_for(self, seconds: float, read: Callable[[], Op]) -> list[Op]:
        """Keep reading at a steady pace for `seconds`: the workload while a fault is held."""
        ops, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            ops.append(read())
            time.sleep(max(0.0, READ_EVERY_S - ops[-1].latency))  # pacing, not synchronisation
        return ops

    # -- workloads ---------------------------------------------------------------

    def write_workload(
        self,
        posts: int = 4,
        kinds: tuple[str, ...] = ("post", "comment", "like"),
        on_posts: list[tuple[str, int]] | None = None,
        users: list[int] | None = None,
    ) -> list[Op]:
        """Posts by one author, each commented on and liked by two others.

        Comments and likes name a post id even when the post itself is held
        back (the API gives the id at once), so all three consumers get work.
        Without "post" in `kinds` they go to `on_posts`, (post id, author)
        pairs that exist already. `users` are (author, commenter, liker), fresh
        ones by default. Every write carries an Idempotency-Key, as a
        careful client's would, so an indeterminate one can be retried safely.
        """
        author, commenter, liker = users or self.fresh_user_ids(3)
        targets = list(on_posts or [])
        ops: list[Op] = []
        for n in range(posts):
            if "post" in kinds:
                post = self.client.post(author, f"post {n} by {author}", self.key())
                ops.append(post)
                # The post id is the event id, answered with a 503 too: a keyed
                # retry of the post will create exactly that post.
                targets.append((post.event_id or self.key(), author))
            post_id, post_author = targets[n % len(targets)]
            if "comment" in kinds:
                ops.append(
                    self.client.comment(commenter, post_id, post_author, f"on {n}", self.key())
                )
            if "like" in kinds:
                ops.append(self.client.like(liker, post_id, post_author, self.key()))
        return ops

    def warm_views(self, users: list[int]) -> None:
        """Read the lists the workload will change, so their cache entries exist before
        the fault: a consumer that fails to refresh them then leaves them visibly stale."""
        author, commenter, liker = users
        for user, view in (
            (author, "posts"),
            (author, "comments/received"),
            (author, "likes/received"),
            (commenter, "comments/sent"),
            (liker, "likes/sent"),
        ):
            op = self.client.read_view(user, view)
            assert op.status == 200, f"set-up read failed: {view} {op.status} {op.response}"

    def applied_posts(self, n: int) -> list[tuple[str, int]]:
        """Set-up: n posts written and applied, as (post id, author) pairs."""
        ops = self.write_workload(posts=n, kinds=("post",))
        ids = [o.event_id for o in ops if o.outcome == "ok"]
        assert len(ids) == n, f"set-up posts not accepted: {[o.response for o in ops]}"
        done, _ = poll(
            lambda: all(r["posts"] for r in self.inspector.applied_rows(ids).values()),
            self.bounds.convergence_s,
            interval_s=0.1,
        )
        assert done, "set-up posts were never applied"
        return [(o.event_id, o.args["author_id"]) for o in ops]

    def retry_unacked(self, ops: list[Op]) -> tuple[list[Op], list[Op]]:
        """After the heal, retry every write that did not get its 202, with the same key.

        Returns (the last attempt for each such write, every attempt made).
        """
        finals, attempts = [], []
        for op in ops:
            if op.outcome == "ok":
                continue

            def attempt(op: Op = op) -> Op | None:
                retry = self.client.retry(op)
                attempts.append(retry)
                return retry if retry.outcome == "ok" else None

            poll(attempt, self.bounds.recovery_s, interval_s=0.1)
            finals.append(attempts[-1])
        return finals, attempts

    # -- the generic case ----------------------------------------------------------

    def run_case(self, case: Case, world: FeedWorld) -> list[Verdict]:
        row = case.row
        if row.scenario == "redelivery":
            return self.run_redelivery(case)
        if row.scenario == "crash_mid_apply":
            return self.run_crash_mid_apply(case)
        self._note_case(case)
        baseline = self.client.read_feed(world.reader)
        assert baseline.status == 200, f"stack not healthy before the fault: {baseline.response}"
        if row.reads is Reads.WARM_OK_MISS_FAIL:
            self._warm_cache(world)
        users = self.fresh_user_ids(3)
        self.warm_views(users)
        warm_reads, miss_reads, writes = [], [], []
        held_during: dict[str, dict[str, int]] | None = None

        def read_warm() -> Op:
            return self.client.read_feed(world.reader)

        def read_miss() -> Op:  # a user never read before: every cache lookup misses
            return self.client.read_feed(self.fresh_user_ids(1)[0])

        with case.fault.applied(self.stack) as window:
            self.backlog = BacklogSampler(self.inspector, writes)
            warm_reads += [read_warm() for _ in range(READS_DURING_FAULT)]
            if row.reads is Reads.WARM_OK_MISS_FAIL:
                miss_reads += [read_miss() for _ in range(READS_DURING_FAULT)]
            if row.writes is Writes.OK_OR_REJECTED:
                writes += self._write_for(case)
            else:
                # A rejected write costs a publish timeout: keep those workloads short.
                light = row.writes in (Writes.REJECTED, Writes.UNAFFECTED)
                writes += self.write_workload(posts=1 if light else 4, users=users)
            if row.writes in (Writes.HELD_THEN_APPLIED, Writes.SURVIVE_RESTART):
                held_during = self._applied_if_observable(writes)
            if row.then is not None:
                with row.then().applied(self.stack) as inner:
                    pass
                self.record.add_window(inner)
            if row.hold_s:
                warm_reads += self.read_for(row.hold_s, read_warm)
            if isinstance(case.fault, Schedule):  # read through the whole schedule
                remaining = case.fault.total_s() - (time.monotonic() - window.start)
                warm_reads += self.read_for(max(remaining, 0.0), read_warm)
        self.record.add_window(window)

        probe = read_miss if row.reads is Reads.WARM_OK_MISS_FAIL else read_warm
        good, _ = poll(lambda: probe().status == 200, self.bounds.recovery_s)
        verdicts = self._read_verdicts(case, world, warm_reads, miss_reads)
        verdicts.append(
            checkers.recovered(window.since_heal() if good else None, self.bounds.recovery_s)
        )
        verdicts += self._write_verdicts(case, writes, held_during, window)
        return verdicts

    def _warm_cache(self, world: FeedWorld) -> None:
        """The precondition of a warm read: every entry it needs is in the cache.

        Reads fill the cache; right after a cache outage a service may still be
        skipping the cache for a moment, so read until the entries are there.
        """
        keys = world.cache_keys()

        def warm() -> bool:
            self.client.read_feed(world.reader)
            return self.inspector.cached(keys) == keys

        ok, _ = poll(warm, self.bounds.recovery_s, interval_s=0.2)
        assert ok, f"cache not warm: missing {sorted(keys - self.inspector.cached(keys))}"

    def _write_for(self, case: Case) -> list[Op]:
        """Keyed writes for as long as a time-driven fault runs."""
        assert isinstance(case.fault, Schedule)
        ops: list[Op] = []
        end = time.monotonic() + case.fault.total_s()
        while time.monotonic() < end:
            ops += self.write_workload(posts=1)
        return ops

    def _read_verdicts(
        self, case: Case, world: FeedWorld, warm: list[Op], miss: list[Op]
    ) -> list[Verdict]:
        bound = self.bounds.read_bound_s
        match case.row.reads:
            case Reads.FAIL:
                return [checkers.reads_fail_cleanly(warm, case.dependency, bound)]
            case Reads.WARM_OK_MISS_FAIL:
                return [
                    checkers.reads_ok(warm, world.expected_items, bound),
                    # The database is known down (refused): a fast 503, not a 504.
                    checkers.reads_fail_cleanly(miss, case.dependency, bound, statuses=(503,)),
                ]
            case Reads.OK_OR_FAIL:
                return [
                    checkers.reads_ok_or_fail_cleanly(
                        warm, world.expected_items, set(RPC_SERVICES), bound, must_see_both=True
                    )
                ]
            case _:  # OK, DEGRADED, UNAFFECTED: the right feed, in time
                verdicts = [checkers.reads_ok(warm, world.expected_items, bound)]
                if case.row.reads_slower_than_s is not None:
                    verdicts.append(checkers.reads_slowed(warm, case.row.reads_slower_than_s))
                return verdicts

    def _write_verdicts(
        self, case: Case, writes: list[Op], held_during: dict, window: FaultWindow
    ) -> list[Verdict]:
        row = case.row
        verdicts: list[Verdict] = []
        all_writes = list(writes)
        match row.writes:
            case Writes.REJECTED | Writes.OK_OR_REJECTED:
                if row.writes is Writes.REJECTED:
                    first = checkers.writes_rejected_cleanly(writes, self.bounds.reject_bound_s)
                else:
                    first = checkers.writes_ok_or_rejected(
                        writes, self.bounds.reject_bound_s, must_see_both=True
                    )
                finals, attempts = self.retry_unacked(writes)
                retried = checkers.writes_acked(finals, self.bounds.recovery_s)
                retried.checker = "keyed_retries_acked"
                verdicts += [first, retried]
                all_writes += attempts
            case _:
                verdicts.append(checkers.writes_acked(writes, self.bounds.write_ack_s))
        if held_during is not None:
            verdicts.append(checkers.fault_bit(writes, held_during, self._stopped(case)))
        if row.writes is Writes.SURVIVE_RESTART:
            verdicts += self._reconnected(all_writes, window)
        verdicts += self.check_applied(all_writes, window)
        return verdicts

    def _applied_if_observable(self, writes: list[Op]) -> dict[str, dict[str, int]] | None:
        """What is applied so far, or None when the fault took the database itself away."""
        try:
            return self.inspector.applied_rows(o.event_id for o in writes if o.event_id)
        except psycopg.OperationalError:
            return None

    def _stopped(self, case: Case) -> set[str]:
        """The consumers a held-writes fault keeps from applying anything."""
        if case.target in CONSUMERS:
            return {case.target}
        return set(CONSUMERS)

    def _reconnected(self, writes: list[Op], window: FaultWindow) -> list[Verdict]:
        """After a broker restart, nobody restarts the API or the consumers: they must come back."""
        author = self.fresh_user_ids(1)[0]

        def write_goes_through() -> Op | None:
            op = self.client.post(author, "after the restart", self.key())
            writes.append(op)
            return op if op.outcome == "ok" else None

        ok, _ = poll(write_goes_through, self.bounds.recovery_s, interval_s=0.1)
        writer = checkers.recovered(
            window.since_heal() if ok else None, self.bounds.recovery_s, what="write"
        )

        def all_attached() -> dict[str, int] | None:
            counts = {
                q: s.consumers for q, s in self.inspector.queues().items() if q in WORK_QUEUES
            }
            return counts if all(n >= 1 for n in counts.values()) else None

        counts, waited = poll(all_attached, self.bounds.reattach_s, interval_s=0.2)
        return [writer, checkers.consumers_attached(counts, waited, self.bounds.reattach_s)]

    def check_applied(
        self,
        writes: list[Op],
        window: FaultWindow | None = None,
        give_up_when_stalled_s: float | None = None,
    ) -> list[Verdict]:
        """Wait for convergence, then judge exactly-once, the API views and the cache.

        Converged means every acknowledged write is applied and every cache
        entry it touched equals the database. The time to converge runs from
        the start of the heal (with no fault, from now). With
        `give_up_when_stalled_s`, the wait ends early once nothing changed for
        that long and every queue is empty: what is missing then is lost, and
        waiting out the bound would only slow the shrinking of a failing
        property example.
        """
        start = time.monotonic()
        acked = [o for o in writes if o.outcome == "ok" and o.event_id]
        keys = {k for o in acked for k in keys_touched_by(o)}
        progress: dict[str, Any] = {"state": None, "since": start}

        def converged() -> dict[str, dict[str, int]] | None:
            rows = self.inspector.applied_rows(o.event_id for o in acked)
            pending = pending_writes(acked, rows)
            stale = None if pending else len(self.inspector.cache_mismatches(keys))
            if (pending, stale) != progress["state"]:
                progress.update(state=(pending, stale), since=time.monotonic())
            elif give_up_when_stalled_s and (
                time.monotonic() - progress["since"] > give_up_when_stalled_s
                and all(q.ready == 0 for q in self.inspector.queues().values())
            ):
                raise Stalled(pending)
            return rows if pending == 0 and stale == 0 else None

        try:
            rows, _ = poll(converged, self.bounds.convergence_s, interval_s=0.1)
        except Stalled:
            rows = None
        since = time.monotonic() - start if window is None else window.since_heal()
        time_to_converge = since if rows is not None else None
        if self.backlog is not None:
            samples = self.backlog.stop()
            if rows is not None:  # converged: the backlog is verified empty now
                samples.append([time.time(), 0])
            self.record.series["backlog"] = samples
            self.backlog = None
        # Judge every write, not only the acknowledged ones: an indeterminate
        # write may be applied (at most once), and what is missing gets named.
        rows = self.inspector.applied_rows(o.event_id for o in writes if o.event_id)
        views = self.read_views(acked)
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
            # Right after a heal the API may still be reconnecting to a restarted RPC
            # service; reads' recovery is judged elsewhere, here we want the contents.
            op, _ = poll(
                lambda u=user_id, v=view: (o := self.client.read_view(u, v)).status == 200 and o,
                self.bounds.recovery_s,
                interval_s=0.1,
            )
            if op:
                views[(user_id, view)] = op.response["items"]
        return views

    # -- a crash between commit and ack ------------------------------------------------

    def run_redelivery(self, case: Case) -> list[Verdict]:
        """Acks lost, consumer killed after its commits: the broker redelivers, nothing doubles.

        The consumer's acks are swallowed (its broker link blackholed upstream)
        while it applies the writes; once they are committed it is killed, the
        link heals, the broker requeues the unacked messages, and the restarted
        consumer must turn each redelivery into a no-op.
        """
        self._note_case(case)
        consumer, kind = case.target, KIND_OF_CONSUMER[case.target]
        acks_lost = make_fault("timeout", f"{consumer}__rabbitmq", timeout=0, stream="upstream")
        kill = make_fault("kill", consumer)
        queue = f"feed.{kind}"
        targets = None if kind == "post" else self.applied_posts(3)
        window = FaultWindow(f"{acks_lost.describe()}, then {kill.describe()} after the commits")
        window.open()
        try:
            with acks_lost.applied(self.stack) as lost_window:
                writes = self.write_workload(posts=3, kinds=(kind,), on_posts=targets)
                self.backlog = BacklogSampler(self.inspector, writes)
                acked = [o.event_id for o in writes if o.outcome == "ok"]
                committed, _ = poll(
                    lambda: all(
                        r["processed_events"] for r in self.inspector.applied_rows(acked).values()
                    ),
                    self.bounds.convergence_s,
                    interval_s=0.1,
                )
                kill.inject(self.stack)  # dies holding deliveries it committed, unacked
            self.record.add_window(lost_window)
            requeued, waited = poll(
                lambda: self.inspector.queues()[queue].ready >= len(acked),
                self.bounds.convergence_s,
                interval_s=0.2,
            )
        finally:
            window.begin_heal()
            kill.heal(self.stack)
            window.close()
        self.record.add_window(window)
        pending = Verdict(
            "redelivery_pending",
            bool(committed and requeued),
            {
                "committed_before_kill": bool(committed),
                "requeued": bool(requeued),
                "time_to_requeue_s": waited,
            },
            []
            if committed and requeued
            else ["the scenario did not set up a redelivery (commits or requeue missing)"],
        )
        drained, _ = poll(
            lambda: self.inspector.queues()[queue].ready == 0,
            self.bounds.convergence_s,
            interval_s=0.2,
        )
        drained_verdict = checkers.converged(
            window.since_heal() if drained else None, self.bounds.convergence_s
        )
        drained_verdict.checker = "redeliveries_drained"
        return [
            checkers.writes_acked(writes, self.bounds.write_ack_s),
            pending,
            drained_verdict,
            *self.check_applied(writes, window),
        ]

    # -- a crash in the middle of applying ---------------------------------------------

    def run_crash_mid_apply(self, case: Case) -> list[Verdict]:
        """Kill a consumer the moment any trace of an event shows in the database.

        Its database link is slowed (every round trip +300 ms) so applying one
        event takes seconds; the test watches the database directly and kills
        the consumer as soon as anything of the event is visible. Atomic apply
        means what is visible then is all of it (both sides and the event-id
        record) or nothing; after the restart the event is applied exactly once.
        """
        self._note_case(case)
        consumer = case.target
        kind = KIND_OF_CONSUMER[consumer]
        targets = self.applied_posts(1)
        slow_db = make_fault("latency", f"{consumer}__postgres", latency=100)
        kill = make_fault("kill", consumer)
        window = FaultWindow(f"{slow_db.describe()}, then {kill.describe()} mid-apply")
        window.open()
        try:
            with slow_db.applied(self.stack) as slow_window:
                writes = self.write_workload(posts=1, kinds=(kind,), on_posts=targets)
                event = writes[0].event_id

                def visible() -> dict[str, int] | None:
                    rows = self.inspector.applied_rows([event])[event]
                    return rows if any(rows.values()) else None

                seen, _ = poll(visible, self.bounds.convergence_s, interval_s=0.02)
                kill.inject(self.stack)
                at_kill = self.inspector.applied_rows([event])[event]
            self.record.add_window(slow_window)
        finally:
            window.begin_heal()
            kill.heal(self.stack)
            window.close()
        self.record.add_window(window)
        tables = ("processed_events", *ROWS_PER_KIND[kind])
        counts = {t: at_kill[t] for t in tables}
        atomic = len(set(counts.values())) == 1
        problems = [] if seen else ["nothing of the event became visible before the bound"]
        if not atomic:
            problems.append(f"a partial apply was visible when the consumer died: {counts}")
        return [
            checkers.writes_acked(writes, self.bounds.write_ack_s),
            Verdict("atomic_apply", not problems, {"visible_at_kill": counts}, problems),
            *self.check_applied(writes, window),
        ]
