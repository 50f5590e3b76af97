"""Checkers: pure functions from a history (and a final state) to a verdict with figures.

None of them talks to a service: the suites gather the state, the checkers
judge it, so each checker is unit-tested on hand-made histories
(tests/test_checkers.py) and shown failing where it must.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from suites.history import Op
from suites.state import ROWS_PER_KIND, CacheMismatch

MAX_PROBLEMS = 10
# Which consumer applies which kind of write.
CONSUMER_OF_KIND = {
    "post": "post_consumer",
    "comment": "comment_consumer",
    "like": "like_consumer",
    "user": "social_consumer",
    "follow": "social_consumer",
}  # per verdict: enough to see the pattern, short enough to read


@dataclass
class Verdict:
    checker: str
    valid: bool
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "checker": self.checker,
            "valid": self.valid,
            "figures": self.figures,
            "problems": self.problems[:MAX_PROBLEMS],
        }

    def __str__(self) -> str:
        state = "ok" if self.valid else "FAILED"
        lines = [f"{self.checker}: {state} {self.figures}"]
        lines += [f"  - {p}" for p in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_PROBLEMS} more")
        return "\n".join(lines)


def _verdict(name: str, problems: list[str], **figures: Any) -> Verdict:
    return Verdict(name, not problems, figures, problems)


def _latencies(ops: Iterable[Op]) -> list[float]:
    return [o.latency for o in ops if o.complete is not None]


def _latency_figures(ops: list[Op]) -> dict[str, Any]:
    lat = _latencies(ops)
    if not lat:
        return {"count": 0}
    return {
        "count": len(lat),
        "p50_s": round(statistics.median(lat), 4),
        "max_s": round(max(lat), 4),
    }


# -- reads ------------------------------------------------------------------


def reads_fail_cleanly(
    ops: list[Op], dependency: str, bound_s: float, statuses: tuple[int, ...] = (503, 504)
) -> Verdict:
    """Each read failed with one of `statuses` naming `dependency`, within `bound_s`, with no
    feed data. (A dependency known to be down calls for a fast 503, not a timeout's 504.)"""
    problems: list[str] = []
    if not ops:
        problems.append("no read was made during the fault")
    for op in ops:
        body = op.response if isinstance(op.response, dict) else {}
        if op.status not in statuses:
            expected = "/".join(map(str, statuses))
            problems.append(f"op {op.id}: status {op.status}, expected {expected}")
        elif body.get("dependency") != dependency:
            problems.append(f"op {op.id}: names {body.get('dependency')!r}, not {dependency!r}")
        if "items" in body:
            problems.append(f"op {op.id}: a failed read carried feed items (partial feed)")
        if op.latency > bound_s:
            problems.append(f"op {op.id}: took {op.latency:.3f}s > bound {bound_s:.3f}s")
    statuses = dict(Counter(str(o.status) for o in ops))
    return _verdict(
        "reads_fail_cleanly", problems, statuses=statuses, bound_s=bound_s, **_latency_figures(ops)
    )


def reads_ok(ops: list[Op], expected_items: list[dict[str, Any]], bound_s: float) -> Verdict:
    """Each read answered 200 with exactly the expected feed, within `bound_s`."""
    problems: list[str] = []
    if not ops:
        problems.append("no read was made")
    for op in ops:
        if op.status != 200:
            problems.append(f"op {op.id}: status {op.status}, expected 200: {op.response}")
            continue
        if op.response.get("items") != expected_items:
            got = len(op.response.get("items") or [])
            problems.append(
                f"op {op.id}: feed differs from the expected one "
                f"({got} items, expected {len(expected_items)})"
            )
        if op.latency > bound_s:
            problems.append(f"op {op.id}: took {op.latency:.3f}s > bound {bound_s:.3f}s")
    return _verdict("reads_ok", problems, bound_s=bound_s, **_latency_figures(ops))


FEED_ITEM_FIELDS = {"post_id", "author", "body", "created_at_ms", "like_count", "comment_count"}
AUTHOR_FIELDS = {"user_id", "nickname", "follower_count"}


def _incomplete(items: list[dict[str, Any]]) -> list[str]:
    """Feed items missing a part: what a partial answer looks like from the outside."""
    return [
        str(item.get("post_id"))
        for item in items
        if set(item) != FEED_ITEM_FIELDS or set(item.get("author") or {}) != AUTHOR_FIELDS
    ]


def reads_ok_or_fail_cleanly(
    ops: list[Op],
    expected_items: list[dict[str, Any]] | None,
    dependencies: set[str],
    bound_s: float,
    must_see_both: bool = False,
) -> Verdict:
    """Under an intermittent fault each read is right (or at least complete, when the
    expected feed is not known) or a clean failure naming a dependency; never partial.
    With `must_see_both`, a run without a failure or without a success proves nothing
    about an intermittent fault, and fails."""
    problems: list[str] = []
    if not ops:
        problems.append("no read was made")
    ok = failed = 0
    for op in ops:
        body = op.response if isinstance(op.response, dict) else {}
        if op.latency > bound_s:
            problems.append(f"op {op.id}: took {op.latency:.3f}s > bound {bound_s:.3f}s")
        if op.status == 200:
            ok += 1
            items = body.get("items")
            if expected_items is not None and items != expected_items:
                problems.append(f"op {op.id}: a 200 with a feed that differs from the expected one")
            elif not isinstance(items, list) or _incomplete(items):
                problems.append(f"op {op.id}: a 200 with incomplete items (partial feed)")
        elif op.status in (503, 504) and body.get("dependency") in dependencies:
            failed += 1
            if "items" in body:
                problems.append(f"op {op.id}: a failed read carried feed items (partial feed)")
        else:
            problems.append(f"op {op.id}: status {op.status} naming {body.get('dependency')!r}")
    if must_see_both and ops and not (ok and failed):
        problems.append(f"the fault never showed both sides: {ok} good, {failed} failed reads")
    return _verdict(
        "reads_ok_or_fail_cleanly",
        problems,
        ok=ok,
        failed_cleanly=failed,
        bound_s=bound_s,
        **_latency_figures(ops),
    )


def feed_differences(items: list[dict], written: list[dict]) -> list[str]:
    """How a feed differs from the model of what was written (newest post first)."""
    expected = list(reversed(written))
    got = [{k: v for k, v in item.items() if k != "created_at_ms"} for item in items]
    problems = []
    if [i["post_id"] for i in got] != [e["post_id"] for e in expected]:
        problems.append(f"posts or their order differ: {[i['post_id'] for i in got]}")
    for item, want in zip(got, expected, strict=False):
        if item != want:
            problems.append(f"post {want['post_id']}: {item} != {want}")
    stamps = [item.get("created_at_ms", 0) for item in items]
    if stamps != sorted(stamps, reverse=True):
        problems.append(f"not newest first: {stamps}")
    return problems


def recovered(time_to_recover_s: float | None, bound_s: float, what: str = "read") -> Verdict:
    """The first good `what` (read or write) after the heal came within `bound_s`."""
    problems = []
    if time_to_recover_s is None:
        problems.append(f"no good {what} within {bound_s:.1f}s of the heal")
    elif time_to_recover_s > bound_s:
        problems.append(f"first good {what} {time_to_recover_s:.3f}s after heal > {bound_s:.1f}s")
    name = "recovered" if what == "read" else f"{what}r_recovered"
    figure = "time_to_recover_s" if what == "read" else f"time_to_recover_{what}s_s"
    return _verdict(name, problems, **{figure: time_to_recover_s, "bound_s": bound_s})


# -- writes -----------------------------------------------------------------


def writes_acked(ops: list[Op], bound_s: float) -> Verdict:
    """Every write answered 202 (ok), each within `bound_s`."""
    problems: list[str] = []
    if not ops:
        problems.append("no write was made")
    for op in ops:
        if op.outcome != "ok":
            problems.append(
                f"op {op.id} ({op.kind}): {op.outcome} status {op.status} {op.error or ''}"
            )
        elif op.latency > bound_s:
            problems.append(
                f"op {op.id} ({op.kind}): acked after {op.latency:.3f}s > {bound_s:.3f}s"
            )
    return _verdict("writes_acked", problems, bound_s=bound_s, **_latency_figures(ops))


def bad_input_refused(ops: list[Op]) -> Verdict:
    """Every bad request got a 4xx with a JSON error body: never a 2xx, a 5xx or no answer."""
    problems = []
    if not ops:
        problems.append("no bad request was sent")
    for op in ops:
        what = op.args.get("what", op.kind)
        if op.status is None or not 400 <= op.status < 500:
            problems.append(f"op {op.id} ({what} {op.args.get('path')}): status {op.status}")
        elif not (isinstance(op.response, dict) and "error" in op.response):
            problems.append(f"op {op.id} ({what}): {op.status} without a JSON error body")
    statuses = dict(Counter(str(o.status) for o in ops))
    return _verdict("bad_input_refused", problems, requests=len(ops), statuses=statuses)


def writes_rejected_cleanly(ops: list[Op], bound_s: float) -> Verdict:
    """With the broker unreachable, every write answers 503 within `bound_s`; never a 202."""
    problems: list[str] = []
    if not ops:
        problems.append("no write was made")
    for op in ops:
        if op.status == 202:
            problems.append(f"op {op.id} ({op.kind}): 202 although the broker could not confirm")
        elif op.status != 503:
            problems.append(f"op {op.id} ({op.kind}): status {op.status}, expected 503")
        if op.complete is not None and op.latency > bound_s:
            problems.append(
                f"op {op.id} ({op.kind}): answered after {op.latency:.3f}s > {bound_s}s"
            )
    return _verdict("writes_rejected_cleanly", problems, bound_s=bound_s, **_latency_figures(ops))


def writes_ok_or_rejected(ops: list[Op], bound_s: float, must_see_both: bool = False) -> Verdict:
    """Under an intermittent broker fault each write is a 202 or a 503 within `bound_s`
    (with `must_see_both`, at least one of each, or the fault never bit)."""
    problems: list[str] = []
    if not ops:
        problems.append("no write was made")
    for op in ops:
        if op.status not in (202, 503):
            problems.append(f"op {op.id} ({op.kind}): status {op.status}, expected 202 or 503")
        if op.complete is not None and op.latency > bound_s:
            problems.append(
                f"op {op.id} ({op.kind}): answered after {op.latency:.3f}s > {bound_s}s"
            )
    counts = dict(Counter(str(o.status) for o in ops))
    if must_see_both and ops and not ({"202", "503"} <= set(counts)):
        problems.append(f"the fault never showed both sides: {counts}")
    return _verdict("writes_ok_or_rejected", problems, statuses=counts, **_latency_figures(ops))


def reads_slowed(ops: list[Op], at_least_s: float) -> Verdict:
    """Every read under an added latency took at least that long: the fault was really on."""
    fast = [o for o in ops if o.complete is not None and o.latency < at_least_s]
    problems = [f"op {o.id}: {o.latency:.3f}s, faster than the {at_least_s}s added" for o in fast]
    return _verdict("reads_slowed", problems, at_least_s=at_least_s, **_latency_figures(ops))


def fault_bit(
    writes: list[Op], applied_during: Mapping[str, Mapping[str, int]], stopped_consumers: set[str]
) -> Verdict:
    """While a consumer was out, none of its writes may have been applied.

    This guards the suite itself: a fault that silently did nothing would
    otherwise pass every other check.
    """
    problems = []
    held = 0
    for op in writes:
        if (
            op.event_id
            and op.outcome == "ok"
            and CONSUMER_OF_KIND.get(op.kind) in stopped_consumers
        ):
            held += 1
            if applied_during.get(op.event_id, {}).get("processed_events"):
                problems.append(f"{op.kind} {op.event_id} was applied while its consumer was out")
    if stopped_consumers and not held:
        problems.append("no write went to a consumer that was out")
    return _verdict("fault_bit", problems, held_back=held)


def consumers_attached(
    consumers_per_queue: Mapping[str, int] | None, waited_s: float | None, bound_s: float
) -> Verdict:
    """After the heal every queue has a consumer again, without anyone restarting them."""
    problems = []
    if consumers_per_queue is None or waited_s is None:
        problems.append(f"some queue had no consumer {bound_s:.0f}s after the heal")
    figures = {"consumers": dict(consumers_per_queue or {}), "time_to_reattach_s": waited_s}
    return _verdict("consumers_attached", problems, **figures)


def exactly_once(writes: list[Op], rows: Mapping[str, Mapping[str, int]]) -> Verdict:
    """Acked writes applied exactly once (both sides); info writes at most once; none partial.

    `rows` maps event id -> table -> row count, read straight from PostgreSQL.
    """
    problems: list[str] = []
    acked = lost = duplicated = one_sided = info_applied = 0
    for op in writes:
        if op.outcome == "fail" or op.event_id is None:
            continue
        counts = rows.get(op.event_id, {})
        tables = ROWS_PER_KIND.get(op.kind, ())
        sides = [counts.get(t, 0) for t in tables]
        marker = counts.get("processed_events", 0)
        if op.outcome == "ok":
            acked += 1
            if marker == 0 and not any(sides):
                lost += 1
                problems.append(f"lost: {op.kind} {op.event_id} was acked and never applied")
                continue
        elif marker or any(sides):
            info_applied += 1
        if any(n > 1 for n in sides) or marker > 1:
            duplicated += 1
            problems.append(f"duplicated: {op.kind} {op.event_id} rows {dict(counts)}")
        if len(set(sides)) > 1:
            one_sided += 1
            problems.append(f"one side only: {op.kind} {op.event_id} rows {dict(counts)}")
        elif marker and sides and sides[0] == 0:
            problems.append(f"marked applied without its rows: {op.kind} {op.event_id}")
        elif not marker and any(sides):
            problems.append(f"rows without their event-id record: {op.kind} {op.event_id}")
    return _verdict(
        "exactly_once",
        problems,
        acked=acked,
        lost=lost,
        duplicated=duplicated,
        one_sided=one_sided,
        info_applied=info_applied,
    )


def views_show_writes(
    writes: list[Op], views: Mapping[tuple[int, str], list[dict[str, Any]]]
) -> Verdict:
    """Through the API's read views, each acked write shows up exactly once on each side.

    `views` maps (user id, view name) -> the items the API returned.
    """
    expected: list[tuple[tuple[int, str], str, str]] = []  # (view key, id field, id)
    for op in writes:
        if op.outcome != "ok" or op.event_id is None:
            continue
        a = op.args
        if op.kind == "post":
            expected.append(((a["author_id"], "posts"), "post_id", op.event_id))
        elif op.kind in ("comment", "like"):
            actor = a["author_id"] if op.kind == "comment" else a["user_id"]
            base = "comments" if op.kind == "comment" else "likes"
            expected.append(((actor, f"{base}/sent"), "event_id", op.event_id))
            expected.append(((a["post_author_id"], f"{base}/received"), "event_id", op.event_id))
    problems = []
    for key, id_field, ident in expected:
        if key not in views:
            problems.append(f"view {key} was not read")
            continue
        n = sum(1 for item in views[key] if item.get(id_field) == ident)
        if n != 1:
            problems.append(f"view {key[1]} of user {key[0]} shows {ident} {n} times")
    return _verdict("views_show_writes", problems, entries_checked=len(expected))


def cache_matches_db(mismatches: list[CacheMismatch], keys_checked: int) -> Verdict:
    problems = [f"{m.key}: cache {m.cached} != database {m.database}" for m in mismatches]
    return _verdict(
        "cache_matches_db", problems, keys_checked=keys_checked, mismatched=len(mismatches)
    )


def converged(time_to_converge_s: float | None, bound_s: float) -> Verdict:
    problems = []
    if time_to_converge_s is None:
        problems.append(f"not converged within {bound_s:.1f}s")
    return _verdict("converged", problems, time_to_converge_s=time_to_converge_s, bound_s=bound_s)
