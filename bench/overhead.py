"""The suite's own overhead: its wall time over the time it must spend watching faults.

    overhead = (run finished - run started)
               / sum over tests of ( |union of the test's fault windows|
                                     + max(time_to_recover_s, time_to_converge_s) )

A test must keep its fault on for its window(s) (nested windows, e.g. a
restart inside a cut, count once: their union), and after the heal it must
wait for the first good read and for convergence; both are timed from the
start of the heal and run one after the other, so the longer one is what it
waits. Everything else (stack start, set-up writes, checkers, resets between
tests, unit tests in the same session) is overhead. 1.0 would be a suite that
does nothing but observe. A session that also ran tests/ (plain `pytest`) gets a
second ratio with those unit tests' time taken out of the wall time, which is
what `./feedchaos chaos` (suites/ only) would have cost.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_SELECTIONS = {"not slow and not self_check", "not slow"}  # pyproject's -m, then and now


@dataclass(frozen=True)
class Overhead:
    report: str
    run_id: str
    git_revision: str | None
    tests: int
    tests_with_faults: int
    wall_s: float
    windows_s: float
    waits_s: float
    ratio: float
    # Where the rest goes (seconds): outside any test (collection, stack start, report),
    # the stack's own start, tests outside suites/ (unit tests in the same session),
    # and the part of each suite test that observes nothing, the largest first.
    outside_tests_s: float = 0.0
    stack_start_s: float = 0.0
    non_suite_tests_s: float = 0.0
    top_unobserved: list[tuple[str, float]] | None = None
    ratio_suites_only: float = 0.0  # the same with the non-suite tests' time taken out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping [start, end] intervals."""
    total, current = 0.0, None
    for start, end in sorted(intervals):
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            total += current[1] - current[0]
        current = (start, end)
    if current is not None:
        total += current[1] - current[0]
    return total


def must_observe_s(test: dict[str, Any]) -> tuple[float, float]:
    """(fault windows, post-heal waits) of one test in report.json."""
    intervals = [
        (w["start"], w["end"])
        for w in test.get("windows") or []
        if w.get("start") is not None and w.get("end") is not None
    ]
    figures = test.get("figures") or {}
    waits = [figures.get("time_to_recover_s"), figures.get("time_to_converge_s")]
    return union_length(intervals), max((w for w in waits if w is not None), default=0.0)


def overhead_of(report: dict[str, Any], source: str = "") -> Overhead:
    run = report["run"]
    wall = run["finished"] - run["started"]
    tests = report.get("tests") or []
    windows = waits = in_tests = non_suite = 0.0
    with_faults = 0
    unobserved: list[tuple[str, float]] = []
    for test in tests:
        w, c = must_observe_s(test)
        windows, waits = windows + w, waits + c
        with_faults += bool(test.get("windows"))
        duration = test.get("duration_s") or 0.0
        in_tests += duration
        if test["nodeid"].startswith("suites/"):
            unobserved.append((test["nodeid"], round(duration - w - c, 3)))
        else:
            non_suite += duration
    unobserved.sort(key=lambda item: -item[1])
    observed = windows + waits
    return Overhead(
        report=source,
        run_id=run.get("id", ""),
        git_revision=run.get("git_revision"),
        tests=len(tests),
        tests_with_faults=with_faults,
        wall_s=wall,
        windows_s=windows,
        waits_s=waits,
        ratio=wall / observed if observed else float("inf"),
        outside_tests_s=round(wall - in_tests, 3),
        stack_start_s=(run.get("stack_timings_s") or {}).get("total", 0.0),
        non_suite_tests_s=round(non_suite, 3),
        top_unobserved=unobserved[:8],
        ratio_suites_only=(wall - non_suite) / observed if observed else float("inf"),
    )


def is_full_default_run(report: dict[str, Any]) -> bool:
    """A whole default selection on the local stack (not a -k subset or a profile)."""
    run = report.get("run") or {}
    suites = [t for t in report.get("tests") or [] if t["nodeid"].startswith("suites/")]
    return (
        run.get("finished") is not None
        and run.get("stack") == "local"
        and (run.get("selection") in DEFAULT_SELECTIONS)
        and not run.get("keyword")
        and any(t.get("windows") for t in suites)
        and any(t["nodeid"].startswith("suites/test_contract.py") for t in suites)
    )


def report_file(path: Path) -> Path:
    return path / "report.json" if path.is_dir() else path


def find_report(given: Path | None, reports_root: Path) -> tuple[Path | None, str]:
    """The report to read and a note on why: the given one, else reports/latest when it is a
    full default run, else the newest full default run under reports/."""
    if given is not None:
        return report_file(given), "given with --suite-report"
    latest = reports_root / "latest" / "report.json"
    candidates = [latest] if latest.is_file() else []
    candidates += sorted(reports_root.glob("run-*/report.json"), reverse=True)
    failed: Path | None = None  # a failing run's shrinking and retries inflate its wall time
    for candidate in candidates:
        try:
            data = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if not is_full_default_run(data):
            continue
        if data.get("verdict") != "pass":
            failed = failed or candidate
            continue
        why = "reports/latest" if candidate == latest else "newest passing full default run"
        return candidate, why
    if failed is not None:
        return failed, "newest full default run; none passed, this one failed"
    return None, "no full default run found under reports/ (run ./feedchaos chaos first)"


def measure(given: Path | None, reports_root: Path) -> dict[str, Any]:
    path, note = find_report(given, reports_root)
    if path is None:
        return {"skipped": note}
    data = json.loads(path.read_text())
    result = overhead_of(data, str(path)).to_json()
    if not is_full_default_run(data):
        note += " (not a full default run: the ratio covers that selection only)"
    return {**result, "verdict": data.get("verdict"), "note": note}
