"""A run compared with a baseline run: which cells turned red, which timings got slower.

The rule, stated in every report that has a baseline:
- a scorecard cell is a regression when it passed in the baseline and fails now;
- a recovery or convergence time is a regression when it is more than SLOWER_FACTOR
  times the baseline's and at least SLOWER_MIN_S slower (so millisecond noise on
  fast heals is not flagged).
Tests are matched by node id, cells by row and target. Only what the two runs
both have is compared; the baseline may be any report.json with a scorecard
and tests (older schema versions included), so it is read leniently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SLOWER_FACTOR = 2.0
SLOWER_MIN_S = 0.5
TIMED = ("time_to_recover_s", "time_to_converge_s")
RULE = (
    f"a regression is a scorecard cell that passed in the baseline and fails now, or a "
    f"recovery or convergence time more than {SLOWER_FACTOR:g}x the baseline's and at "
    f"least {SLOWER_MIN_S:g} s slower"
)


class BaselineError(ValueError):
    """The baseline cannot be read as a report."""


def baseline_file(path: str | Path) -> Path:
    """A report.json, or a run directory (reports/<run-id>, reports/latest) holding one."""
    p = Path(path)
    if p.is_dir():
        p = p / "report.json"
    if not p.is_file():
        raise BaselineError(f"no baseline report at {p}")
    return p


def load_baseline(path: str | Path) -> dict[str, Any]:
    file = baseline_file(path)
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise BaselineError(f"cannot read the baseline {file}: {e}") from e
    if not isinstance(report, dict) or "scorecard" not in report or "tests" not in report:
        raise BaselineError(f"{file} is not a feedchaos report (no scorecard or tests)")
    report["_path"] = str(file.resolve())
    return report


def is_slower(before: float | None, now: float | None) -> bool:
    if before is None or now is None:
        return False  # a time that is missing now shows up as a failed test instead
    return now > SLOWER_FACTOR * before and now - before >= SLOWER_MIN_S


def compare(report: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """The comparison block of report.json: what regressed and what got fixed."""
    regressions: list[dict[str, Any]] = []
    fixed: list[dict[str, Any]] = []
    before_cells = {(c["row"], c["target"]): c for c in baseline.get("scorecard", [])}
    for cell in report["scorecard"]:
        before = before_cells.get((cell["row"], cell["target"]))
        if before is None:
            continue
        entry = {
            "kind": "verdict",
            "case": f"{cell['row']}-{cell['target']}",
            "row": cell["row"],
            "target": cell["target"],
            "before": before["verdict"],
            "now": cell["verdict"],
            "tests": cell["tests"],
        }
        if before["verdict"] == "pass" and cell["verdict"] == "fail":
            regressions.append(entry)
        elif before["verdict"] == "fail" and cell["verdict"] == "pass":
            fixed.append(entry)
    before_tests = {t["nodeid"]: t for t in baseline.get("tests", [])}
    for test in report["tests"]:
        old = before_tests.get(test["nodeid"])
        if old is None:
            continue
        for figure in TIMED:
            before_s = (old.get("figures") or {}).get(figure)
            now_s = test["figures"].get(figure)
            if is_slower(before_s, now_s):
                regressions.append(
                    {
                        "kind": "slower",
                        "case": test.get("case") or test["nodeid"],
                        "row": test.get("row"),
                        "target": test.get("target"),
                        "nodeid": test["nodeid"],
                        "figure": figure,
                        "before": before_s,
                        "now": now_s,
                    }
                )
    run = baseline.get("run", {})
    return {
        "baseline": {
            "id": run.get("id"),
            "path": baseline.get("_path"),
            "git_revision": run.get("git_revision"),
            "started": run.get("started"),
            "verdict": baseline.get("verdict"),
        },
        "rule": {"text": RULE, "slower_factor": SLOWER_FACTOR, "slower_min_s": SLOWER_MIN_S},
        "regressions": regressions,
        "fixed": fixed,
    }


def flagged_tests(comparison: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """node id -> the regressions that concern it, to flag each test's section."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not comparison:
        return out
    for r in comparison["regressions"]:
        for nodeid in r.get("tests") or [r.get("nodeid")]:
            if nodeid:
                out.setdefault(nodeid, []).append(r)
    return out


def describe(regression: dict[str, Any]) -> str:
    """One line a person reads: what got worse, from what to what."""
    where = regression["case"]
    if regression["kind"] == "verdict":
        return f"{where}: {regression['before']} before, {regression['now']} now"
    name = regression["figure"].removeprefix("time_to_").removesuffix("_s")
    return (
        f"{where}: time to {name} {regression['before']:.2f} s -> {regression['now']:.2f} s "
        f"({regression['now'] / max(regression['before'], 1e-9):.1f}x)"
    )
