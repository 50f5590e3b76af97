"""Render a past run's report again: python -m reports RUN_DIR [--baseline PATH] [--out DIR].

Reads RUN_DIR/report.json and RUN_DIR/history.jsonl and writes report.json,
summary.md and report.html (into --out, RUN_DIR by default), e.g. after a
change to the report code or to compare a run with another after the fact.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

from reports.compare import BaselineError, baseline_file
from reports.record import TestRecord
from reports.writer import RunInfo, write_run

RECORD_FIELDS = {f.name for f in dataclasses.fields(TestRecord)}


def load_run(run_dir: Path) -> tuple[RunInfo, list[TestRecord]]:
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    run = report["run"]
    info = RunInfo(
        run_id=run["id"],
        started=run["started"],
        stack=run["stack"],
        seed=run["seed"],
        selection=run.get("selection"),
        git_revision=run.get("git_revision"),
        stack_timings=run.get("stack_timings_s") or {},
        finished=run.get("finished"),
        keyword=run.get("keyword"),
    )
    records = [
        TestRecord(**{k: v for k, v in t.items() if k in RECORD_FIELDS}) for t in report["tests"]
    ]
    return info, records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.splitlines()[0])
    parser.add_argument(
        "run_dir", type=Path, help="a run's folder: reports/<run-id> or reports/latest"
    )
    parser.add_argument("--baseline", help="a report.json or run folder to compare with")
    parser.add_argument("--out", type=Path, help="where to write (default: the run's folder)")
    args = parser.parse_args(argv)
    info, records = load_run(args.run_dir)
    try:
        info.baseline = str(baseline_file(args.baseline)) if args.baseline else None
    except BaselineError as e:
        parser.error(str(e))
    out = args.out or args.run_dir
    if out.resolve() != args.run_dir.resolve():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.run_dir / "history.jsonl", out / "history.jsonl")
    started = time.perf_counter()
    report = write_run(out, info, records)
    print(
        f"{out}/report.html, summary.md, report.json: {report['verdict']}, "
        f"{len(report['tests'])} tests, written in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
