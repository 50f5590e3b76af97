"""report.html: the resilience report people read, one self-contained offline file.

Rendered with Jinja2 (reports/templates/report.html.j2) from the same dict as
report.json, plus history.jsonl for the plots. Everything is inline: CSS in
the page, plots as PNG data URIs, no script, no font or stylesheet from
elsewhere, so it opens from a CI artifact or a file:// URL as it is.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports import compare, plots
from reports.anchors import section_ids
from reports.summary import failure_line
from reports.timeline import Point, fault_start, first_failure

TEMPLATES = Path(__file__).resolve().parent / "templates"
FAILED = ("failed", "error")
NONE = "\N{EN DASH}"  # a missing figure


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,  # a typo in the template fails the report, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    env.filters["clock"] = _clock
    env.filters["figure"] = _figure
    return env


def _seconds(value: float | None, digits: int = 3) -> str:
    return NONE if value is None else f"{value:.{digits}f} s"


def _clock(epoch: float | None) -> str:
    """Wall time of day in UTC, to the millisecond: fault windows are short."""
    if epoch is None:
        return NONE
    return time.strftime("%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_figure(v)}" for k, v in value.items())
    return str(value)


def scorecard_groups(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scorecard as small matrices: rows that share targets share columns.

    Targets differ by kind of row (RPC links, RPC processes, consumers, the
    broker...), so one matrix of every row by every target would be mostly
    empty; rows are grouped by overlapping targets (in contract order) and
    each group gets its own target columns.
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        rows.setdefault(cell["row"], []).append(cell)
    groups: list[dict[str, Any]] = []
    for row_id, row_cells in rows.items():
        targets = [c["target"] for c in row_cells]
        touching = [g for g in groups if set(g["targets"]) & set(targets)]
        group = touching[0] if touching else {"targets": [], "rows": []}
        if not touching:
            groups.append(group)
        for other in touching[1:]:  # a row bridging two groups merges them
            group["rows"] += other["rows"]
            group["targets"] += [t for t in other["targets"] if t not in group["targets"]]
            groups.remove(other)
        group["targets"] += [t for t in targets if t not in group["targets"]]
        group["rows"].append({"id": row_id, "cells": {c["target"]: c for c in row_cells}})
    for group in groups:
        first = group["rows"][0]["cells"]
        group["title"] = next(iter(first.values()))["title"]
    return groups


def _windows(test: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(test.get("windows", []), key=lambda w: w.get("start") or 0.0)


def _detection(test: dict[str, Any], points: list[Point]) -> str | None:
    """Which operation first failed after the fault's start, e.g. 'read_feed 503'."""
    start = fault_start(test.get("windows", []))
    first = first_failure(points, start) if start is not None else None
    if first is None:
        return None
    return f"{first.kind} {first.status if first.status is not None else 'no answer'}"


def _data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()


def _sections(
    report: dict[str, Any], history: dict[str, list[Point]], anchors: dict[str, str]
) -> list[dict[str, Any]]:
    cells = {(c["row"], c["target"]): c for c in report["scorecard"]}
    flagged = compare.flagged_tests(report.get("comparison"))
    tests = [t for t in report["tests"] if t["nodeid"] in anchors]
    tests.sort(key=lambda t: t["outcome"] not in FAILED)  # failures first, else run order
    sections = []
    for test in tests:
        points = history.get(test["nodeid"], [])
        figures = test["figures"]
        acked, lost = figures.get("acked"), figures.get("lost")
        sections.append(
            {
                "test": test,
                "anchor": anchors[test["nodeid"]],
                "name": test.get("case") or test["nodeid"].rpartition("::")[2],
                "cell": cells.get((test.get("row"), test.get("target"))),
                "windows": _windows(test),
                "applied": None if acked is None or lost is None else acked - lost,
                "detected_by": _detection(test, points),
                "regressions": [compare.describe(r) for r in flagged.get(test["nodeid"], [])],
                "plot": _data_uri(plots.figure_png(test, points, report["bounds"])),
                "plot_has_backlog": plots.shows_backlog(test),
                "failed_checks": [v for v in test["verdicts"] if not v["valid"]],
            }
        )
    return sections


def _glance(tests: Iterable[dict[str, Any]], anchors: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for t in tests:
        durations = [w["duration_s"] for w in t.get("windows", []) if w.get("duration_s")]
        rows.append(
            {
                "test": t,
                "anchor": anchors.get(t["nodeid"]),
                "name": t.get("case") or t["nodeid"],
                "fault_on_s": max(durations, default=None),
            }
        )
    return rows


def render_html(report: dict[str, Any], history: dict[str, list[Point]]) -> str:
    started = time.perf_counter()
    anchors = section_ids(report["tests"])
    sections = _sections(report, history, anchors)
    comparison = report.get("comparison")
    regressed_cells = {
        (r["row"], r["target"])
        for r in (comparison or {}).get("regressions", [])
        if r["kind"] == "verdict"
    }
    failures = [
        {"test": t, "anchor": anchors.get(t["nodeid"]), "line": failure_line(t, limit=300)}
        for t in report["tests"]
        if t["outcome"] in FAILED
    ]
    run = report["run"]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            report=report,
            run=run,
            started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(run["started"])),
            duration_s=(run["finished"] - run["started"]) if run.get("finished") else None,
            groups=scorecard_groups(report["scorecard"]),
            regressed_cells=regressed_cells,
            anchors=anchors,
            comparison=comparison,
            kill_matrix=report.get("kill_matrix"),
            regressions=[
                {
                    "text": compare.describe(r),
                    "anchor": anchors.get((r.get("tests") or [r.get("nodeid")])[0]),
                }
                for r in (comparison or {}).get("regressions", [])
            ],
            failures=failures,
            glance=_glance(report["tests"], anchors),
            sections=sections,
            plotted=sum(1 for s in sections if s["plot"]),
            generated_s=time.perf_counter() - started,
        )
    )


def write_html(path: Path, report: dict[str, Any], history: dict[str, list[Point]]) -> None:
    path.write_text(render_html(report, history), encoding="utf-8")
