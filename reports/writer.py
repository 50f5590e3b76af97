"""Writes a run's report files: report.json, summary.md (junit.xml comes from pytest).

The scorecard is drawn from the contract: one cell per (row, target),
green when every test of that cell passed, red when any failed, grey when
none ran.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.record import TestRecord
from suites.contract import BOUNDS, CONTRACT

SCHEMA_VERSION = 1


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


def build_report(info: RunInfo, records: list[TestRecord]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": info.run_id,
            "started": info.started,
            "finished": info.finished,
            "stack": info.stack,
            "seed": info.seed,
            "selection": info.selection,
            "git_revision": info.git_revision,
            "stack_timings_s": info.stack_timings,
        },
        "bounds": BOUNDS.to_json(),
        "verdict": overall_verdict(records),
        "totals": dict(Counter(r.outcome for r in records)),
        "scorecard": scorecard(records),
        "tests": [r.to_json() for r in records],
    }


def render_summary(report: dict[str, Any]) -> str:
    run, totals = report["run"], report["totals"]
    lines = [
        f"# feedchaos resilience report: {report['verdict'].upper()}",
        "",
        f"Run `{run['id']}` on the {run['stack']} stack, seed `{run['seed']}`, "
        f"selection `{run['selection'] or 'default'}`: "
        + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())),
        "",
    ]
    failed = [t for t in report["tests"] if t["outcome"] in ("failed", "error")]
    if failed:
        lines += ["## Failures", ""]
        for t in failed:
            lines.append(f"- `{t['nodeid']}`: {_first_line(t['message'])}")
        lines.append("")
    lines += ["## Scorecard", "", "| fault | target | verdict |", "|---|---|---|"]
    mark = {"pass": "pass", "fail": "**FAIL**", "not run": "not run"}
    for cell in report["scorecard"]:
        lines.append(f"| {cell['title']} | {cell['target']} | {mark[cell['verdict']]} |")
    timed = [t for t in report["tests"] if t["figures"]]
    if timed:
        lines += [
            "",
            "## Figures",
            "",
            "| test | acked | lost | dup | recover s | converge s |",
            "|---|---|---|---|---|---|",
        ]
        for t in timed:
            f = t["figures"]
            lines.append(
                f"| {t['case'] or t['nodeid']} | {f.get('acked', '')} | "
                f"{f.get('lost', '')} | {f.get('duplicated', '')} | "
                f"{_num(f.get('time_to_recover_s'))} | "
                f"{_num(f.get('time_to_converge_s'))} |"
            )
    return "\n".join(lines) + "\n"


def _num(value: Any) -> str:
    return "" if value is None else f"{value:.2f}"


def _first_line(text: str | None) -> str:
    if not text:
        return "(no message)"
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return "(no message)"


def write_run(run_dir: Path, info: RunInfo, records: list[TestRecord]) -> dict[str, Any]:
    info.finished = time.time()
    report = build_report(info, records)
    (run_dir / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    summary = render_summary(report)
    (run_dir / "summary.md").write_text(summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as out:
            out.write(summary)
    return report


def point_latest(reports_root: Path, run_dir: Path) -> None:
    """reports/latest -> the newest run, replaced atomically."""
    latest = reports_root / "latest"
    tmp = reports_root / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)
