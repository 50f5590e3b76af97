"""summary.md: the run in under 100 lines, for a CI job summary ($GITHUB_STEP_SUMMARY).

Order is what a reader needs first: the verdict, regressions against the
baseline, failures (one line each, linked to their section of report.html),
then the scorecard as one line per contract row with a mark per target, and
the slowest recovery and convergence. Long lists are cut with a pointer to
report.html, so the length stays bounded whatever fails.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from reports import compare
from reports.anchors import HTML_NAME, link, section_ids

MAX_FAILURES = 15
MAX_REGRESSIONS = 10
MARK = {"pass": "✅", "fail": "❌", "not run": "⬜"}
PATH_SHORT = {"read_path": "read", "write_path": "write"}


def _cut(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def failure_line(test: dict[str, Any], limit: int = 160) -> str:
    """Why a test failed, in one line: its broken checks, else the error pytest reported.

    The checkers' own words say the most; a test that failed before judging
    (an error in set-up) has only pytest's text, whose first 'E ' line is the
    error (the lines before it are the source and its arguments).
    """
    broken = [v for v in test.get("verdicts", []) if not v["valid"]]
    if broken:
        parts = [f"{v['checker']}: {(v['problems'] or ['failed'])[0]}" for v in broken[:2]]
        more = f" (+{len(broken) - 2} more checks)" if len(broken) > 2 else ""
        return _cut("; ".join(parts) + more, limit)
    lines = [line.strip() for line in (test.get("message") or "").splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return _cut((errors or lines or ["(no message)"])[0], limit)


def _num(value: Any) -> str:
    return "" if value is None else f"{value:.2f}"


def _header(report: dict[str, Any]) -> list[str]:
    run, totals = report["run"], report["totals"]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run["started"]))
    selection = f"`-m {run['selection']}`" if run.get("selection") else "all profiles"
    if run.get("keyword"):
        selection += f" `-k {run['keyword']}`"
    counts = ", ".join(f"{n} {k}" for k, n in sorted(totals.items()))
    return [
        f"# feedchaos resilience report: {report['verdict'].upper()}",
        "",
        f"Run `{run['id']}` ({when}), git `{run.get('git_revision') or '?'}`, "
        f"{run['stack']} stack, seed `{run['seed']}` (replay: `--seed {run['seed']}`), "
        f"{selection}: {sum(totals.values())} tests, {counts}. "
        f"Details: [{HTML_NAME}]({HTML_NAME}).",
    ]


def _regressions(report: dict[str, Any], anchors: dict[str, str]) -> list[str]:
    comparison = report.get("comparison")
    if not comparison:
        return []
    base = comparison["baseline"]
    found = comparison["regressions"]
    lines = [
        "",
        f"## Regressions against `{base.get('id') or base.get('path')}`: {len(found)}",
        "",
        f"Rule: {comparison['rule']['text']}.",
    ]
    if found:
        lines.append("")
    for r in found[:MAX_REGRESSIONS]:
        nodeid = (r.get("tests") or [r.get("nodeid")])[0]
        text = compare.describe(r)
        lines.append(f"- [{text}]({link(anchors[nodeid])})" if nodeid in anchors else f"- {text}")
    if len(found) > MAX_REGRESSIONS:
        lines.append(f"- … and {len(found) - MAX_REGRESSIONS} more in {HTML_NAME}")
    if comparison["fixed"]:
        fixed = ", ".join(f"`{f['case']}`" for f in comparison["fixed"][:MAX_REGRESSIONS])
        more = len(comparison["fixed"]) - MAX_REGRESSIONS
        lines += [
            "",
            f"Fixed since the baseline: {fixed}" + (f" and {more} more" if more > 0 else ""),
        ]
    return lines


def _failures(report: dict[str, Any], anchors: dict[str, str]) -> list[str]:
    failed = [t for t in report["tests"] if t["outcome"] in ("failed", "error")]
    if not failed:
        return []
    lines = ["", f"## Failures: {len(failed)}", ""]
    for t in failed[:MAX_FAILURES]:
        name = t.get("case") or t["nodeid"]
        label = f"[`{name}`]({link(anchors[t['nodeid']])})" if t["nodeid"] in anchors else name
        lines.append(f"- {label} {t['outcome']}: {failure_line(t)}")
    if len(failed) > MAX_FAILURES:
        lines.append(f"- … and {len(failed) - MAX_FAILURES} more in {HTML_NAME}")
    return lines


def _scorecard(report: dict[str, Any], anchors: dict[str, str]) -> list[str]:
    cells = report["scorecard"]
    tally = Counter(c["verdict"] for c in cells)
    regressed = {
        (r["row"], r["target"])
        for r in (report.get("comparison") or {}).get("regressions", [])
        if r["kind"] == "verdict"
    }
    lines = [
        "",
        f"## Scorecard: {tally['pass']} pass, {tally['fail']} fail, {tally['not run']} not run "
        f"of {len(cells)} cells",
        "",
        "| contract row | path | targets |",
        "|---|---|---|",
    ]
    rows: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        rows.setdefault(cell["row"], []).append(cell)
    idle = []  # rows none of whose cells ran: one line for all of them
    for row_id, row_cells in rows.items():
        if all(c["verdict"] == "not run" for c in row_cells):
            idle.append(row_id)
            continue
        marks = []
        for c in row_cells:
            mark = f"{MARK[c['verdict']]} {c['target']}"
            if (c["row"], c["target"]) in regressed:
                mark += " (regressed)"
            if c["verdict"] == "fail" and c["tests"] and c["tests"][0] in anchors:
                mark = f"[{mark}]({link(anchors[c['tests'][0]])})"
            marks.append(mark)
        paths = "+".join(PATH_SHORT.get(p, p) for p in row_cells[0]["paths"]) or "-"
        lines.append(f"| `{row_id}` {row_cells[0]['title']} | {paths} | {' · '.join(marks)} |")
    if idle:
        lines += ["", f"Not run ({len(idle)} rows): " + ", ".join(f"`{r}`" for r in idle) + "."]
    return lines


def _timings(report: dict[str, Any]) -> list[str]:
    bounds = report["bounds"]
    lines = []
    for key, bound, what in (
        ("time_to_recover_s", bounds.get("recovery_s"), "recovery"),
        ("time_to_converge_s", bounds.get("convergence_s"), "convergence"),
    ):
        timed = [t for t in report["tests"] if t["figures"].get(key) is not None]
        if timed:
            worst = max(timed, key=lambda t: t["figures"][key])
            lines.append(
                f"- slowest {what}: {_num(worst['figures'][key])} s "
                f"(`{worst.get('case') or worst['nodeid']}`, bound {bound:g} s)"
            )
    return ["", "## Timings", "", *lines] if lines else []


def _kill_matrix(report: dict[str, Any]) -> list[str]:
    matrix = report.get("kill_matrix")
    if not matrix:
        return []
    lines = [
        f"## Kill matrix: {matrix['caught']}/{matrix['variants']} bug variants caught",
        "",
        "| variant | caught by |",
        "|---|---|",
    ]
    for row in matrix["rows"]:
        names = ", ".join(f"`{n.split('::')[-1]}`" for n in row["caught_by"][:4])
        more = len(row["caught_by"]) - 4
        names += f" and {more} more" if more > 0 else ""
        lines.append(f"| {row['variant']} | {names or '**not caught**'} |")
    return [*lines, ""]


def render_summary(report: dict[str, Any]) -> str:
    anchors = section_ids(report["tests"])
    lines = [
        *_header(report),
        *_regressions(report, anchors),
        *_failures(report, anchors),
        *_kill_matrix(report),
        *_scorecard(report, anchors),
        *_timings(report),
    ]
    return "\n".join(lines) + "\n"
