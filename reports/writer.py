"""Writes a run's report files: report.json, summary.md, report.html (junit.xml comes from pytest).

The scorecard is drawn from the contract: one cell per (row, target),
green when every test of that cell passed, red when any failed, grey when
none ran. report.json is validated against reports/schema/report.schema.json
before it is written; summary.md (reports/summary.py) and report.html
(reports/html.py) are rendered from that same dict, plus history.jsonl for
the plots, and compared with a baseline run when one is given.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports import compare, html, timeline
from reports.record import TestRecord
from reports.summary import render_summary
from reports.validate import ReportSchemaError, validate
from suites.contract import BOUNDS, CONTRACT

# 2: a published schema, run.keyword, figures.time_to_detect_s, comparison.
SCHEMA_VERSION = 2


@dataclass
class RunInfo:
    run_id: str
    started: float
    stack: str
    seed: int
    selection: str | None
    git_revision: str | None
    stack_timings: dict[str, float] = field(default_factory=dict)
    finished: float | None = None
    keyword: str | None = None  # the -k expression
    baseline: str | None = None  # report.json of the run to compare with


def scorecard(records: list[TestRecord]) -> list[dict[str, Any]]:
    """One cell per contract row and target: pass, fail, or not run."""
    cells = []
    for row in CONTRACT:
        for target in row.targets:
            tests = [r for r in records if r.row == row.id and r.target == target]
            outcomes = {r.outcome for r in tests}
            if not tests or outcomes <= {"skipped", "not run"}:
                verdict = "not run"
            elif outcomes & {"failed", "error"}:
                verdict = "fail"
            else:
                verdict = "pass"
            cells.append(
                {
                    "row": row.id,
                    "title": row.title,
                    "fault": row.fault_kind,
                    "target": target,
                    "paths": list(row.paths),
                    "reads": row.reads.value,
                    "writes": row.writes.value,
                    "verdict": verdict,
                    "tests": [r.nodeid for r in tests],
                }
            )
    return cells


def overall_verdict(records: list[TestRecord]) -> str:
    outcomes = Counter(r.outcome for r in records)
    if outcomes["failed"] or outcomes["error"]:
        return "fail"
    return "pass" if outcomes["passed"] else "empty"


def _test_json(record: TestRecord, history: dict[str, list[timeline.Point]]) -> dict[str, Any]:
    test = record.to_json()
    if test["windows"]:  # derived here so the suites need not time it
        test["figures"]["time_to_detect_s"] = timeline.time_to_detect(
            history.get(record.nodeid, []), test["windows"]
        )
    return test


def build_report(
    info: RunInfo,
    records: list[TestRecord],
    history: dict[str, list[timeline.Point]] | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": info.run_id,
            "started": info.started,
            "finished": info.finished,
            "stack": info.stack,
            "seed": info.seed,
            "selection": info.selection,
            "keyword": info.keyword,
            "git_revision": info.git_revision,
            "stack_timings_s": info.stack_timings,
        },
        "bounds": BOUNDS.to_json(),
        "verdict": overall_verdict(records),
        "totals": dict(Counter(r.outcome for r in records)),
        "scorecard": scorecard(records),
        "tests": [_test_json(r, history or {}) for r in records],
        "comparison": None,
        "kill_matrix": kill_matrix(records),
    }


def kill_matrix(records: list[TestRecord]) -> dict[str, Any] | None:
    """From the self-check's tests (figures.variant): each bug variant and the tests that caught
    it, and the detection score. None when the run had no self-check."""
    probes = [r for r in records if "variant" in r.figures]
    if not probes:
        return None
    rows = [
        {
            "variant": r.figures["variant"],
            "caught_by": list(r.figures.get("caught_by", [])),
            "tests_run": r.figures.get("tests_run", 0),
            "nodeid": r.nodeid,
        }
        for r in probes
    ]
    caught = sum(1 for row in rows if row["caught_by"])
    return {"caught": caught, "variants": len(rows), "rows": rows}


def write_run(run_dir: Path, info: RunInfo, records: list[TestRecord]) -> dict[str, Any]:
    if info.finished is None:  # set already when a past run is rendered again
        info.finished = time.time()
    history = timeline.load(run_dir / "history.jsonl")
    report = build_report(info, records, history)
    if info.baseline:
        report["comparison"] = compare.compare(report, compare.load_baseline(info.baseline))
    text = json.dumps(report, indent=2, default=str) + "\n"
    try:
        validate(json.loads(text))  # what readers will parse, not the dict before it
    except ReportSchemaError:
        (run_dir / "report.invalid.json").write_text(text)  # kept to debug the writer
        raise
    (run_dir / "report.json").write_text(text)
    summary = render_summary(report)
    (run_dir / "summary.md").write_text(summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as out:
            out.write(summary)
    # Last: the slowest file to make, and the two above must exist even if it fails.
    html.write_html(run_dir / "report.html", report, history)
    return report


def point_latest(reports_root: Path, run_dir: Path) -> None:
    """reports/latest -> the newest run, replaced atomically."""
    latest = reports_root / "latest"
    tmp = reports_root / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)
