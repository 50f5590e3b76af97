"""A run's history.jsonl, read back per test for the report: points to plot, time to detect.

The chaos fixture appends every operation of every test to one history.jsonl;
the report needs, per test, when each operation ran, how long it took and how
it ended. Bodies are dropped on load: they are large and the report never
shows them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READ_KINDS = ("read_feed", "read_view")


@dataclass(frozen=True)
class Point:
    """One operation on the wall clock: invoked at `at`, answered after `latency_s`."""

    kind: str
    at: float  # invoke, wall epoch seconds
    latency_s: float | None  # None: never completed
    outcome: str | None  # ok, fail, info
    status: int | None

    @property
    def is_read(self) -> bool:
        return self.kind in READ_KINDS

    @property
    def done_at(self) -> float | None:
        return None if self.latency_s is None else self.at + self.latency_s


def load(path: Path) -> dict[str, list[Point]]:
    """test node id -> its operations in invoke order; empty when the file is missing."""
    per_test: dict[str, list[Point]] = {}
    if not path.exists():
        return per_test
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            op = json.loads(line)
            per_test.setdefault(op["test"], []).append(
                Point(
                    kind=op["kind"],
                    at=op["invoke_wall"],
                    latency_s=op.get("latency_s"),
                    outcome=op.get("outcome"),
                    status=op.get("status"),
                )
            )
    for points in per_test.values():
        points.sort(key=lambda p: p.at)
    return per_test


def fault_start(windows: Iterable[dict[str, Any]]) -> float | None:
    """The earliest window start: nested faults (a restart inside a cut) share the outer start."""
    starts = [w["start"] for w in windows if w.get("start")]
    return min(starts) if starts else None


def first_failure(points: Iterable[Point], start: float) -> Point | None:
    """The first operation answered after `start` that did not succeed (fail or info).

    That is when a client could first tell something was wrong: a read that
    failed, or a write that was refused or left without an answer.
    """
    failed = [
        p
        for p in points
        if p.outcome in ("fail", "info") and p.done_at is not None and p.done_at >= start
    ]
    return min(failed, key=lambda p: p.done_at or 0.0, default=None)


def time_to_detect(points: Iterable[Point], windows: list[dict[str, Any]]) -> float | None:
    """Seconds from the fault's start to the first failed operation, None if none failed."""
    start = fault_start(windows)
    if start is None:
        return None
    first = first_failure(points, start)
    return None if first is None or first.done_at is None else first.done_at - start
