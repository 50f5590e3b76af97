"""The benchmark's results: the targets, the printed table, and the JSON files.

Targets (docs/benchmark.md): read and write p50 through the proxies within
1.2x of direct; at least 1,000 acknowledged writes per second; drain at least
1,000 events per second; fault to detection within the read budget + 10 %;
heal to first good read within 1 s; the suite's overhead ratio at most 1.5.
A target that needs every repeat to pass (detection, recovery) is judged on
the worst repeat, the others on the median.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.infra import REPO_ROOT


@dataclass(frozen=True)
class Row:
    name: str
    median: float | None
    low: float | None
    high: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target, or not measured
    note: str = ""


def machine() -> dict[str, Any]:
    """What this ran on, and how busy it was when it started."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    os_name = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_revision() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    return {"revision": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "-s"))}


def _s(summary: dict[str, Any] | None, key: str = "median") -> float | None:
    return None if summary is None else summary[key]


def rows(results: dict[str, Any], read_budget_s: float) -> list[Row]:
    """The table, one row per figure, targets beside them."""
    out: list[Row] = []
    cold = results.get("cold_start", {}).get("local", {})
    for key, summary in cold.items():
        out.append(
            Row(
                f"cold start local: {key}",
                _s(summary),
                _s(summary, "low"),
                _s(summary, "high"),
                "s",
            )
        )
    containers = results.get("cold_start", {}).get("containers", {})
    if "timings" in containers:
        for key in ("total", "total_without_images"):
            summary = containers["timings"].get(key)
            if summary:
                out.append(
                    Row(
                        f"cold start containers: {key}",
                        _s(summary),
                        _s(summary, "low"),
                        _s(summary, "high"),
                        "s",
                    )
                )
    elif containers:
        out.append(Row("cold start containers", None, None, None, "s", note=containers["skipped"]))

    lat = results.get("latency")
    if lat:
        for path in ("read", "write"):
            if "error" in lat[path]:
                out.append(Row(f"{path} latency", None, None, None, "ms", note=lat[path]["error"]))
                continue
            for mode in ("proxied", "direct"):
                for q in ("p50_ms", "p95_ms", "p99_ms"):
                    s = lat[path][mode][q]
                    out.append(
                        Row(f"{path} {q[:3]} {mode}", s["median"], s["low"], s["high"], "ms")
                    )
            for q in ("p50_ms", "p95_ms", "p99_ms"):
                s = lat[path]["ratio"][q]
                target = "<= 1.2" if q == "p50_ms" else ""
                met = s["median"] <= 1.2 if q == "p50_ms" else None
                out.append(
                    Row(
                        f"{path} {q[:3]} proxied/direct",
                        s["median"],
                        s["low"],
                        s["high"],
                        "x",
                        target,
                        met,
                    )
                )

    tp = results.get("throughput")
    if tp:
        s = tp["acked_per_s"]
        out.append(
            Row(
                "write acks (confirmed)",
                s["median"],
                s["low"],
                s["high"],
                "/s",
                ">= 1000",
                s["median"] >= 1000,
                f"{tp['concurrency']} concurrent clients",
            )
        )
        if "cpu_ms_per_write" in tp:
            s = tp["cpu_ms_per_write"]
            out.append(
                Row(
                    "write CPU per ack (whole stack + client)",
                    s["median"],
                    s["low"],
                    s["high"],
                    "ms",
                    note=f"ceiling on idle cores: {tp['ceiling_per_s']}/s",
                )
            )
    dr = results.get("drain")
    if dr:
        s = dr["events_per_s"]
        out.append(
            Row(
                "backlog drain",
                s["median"],
                s["low"],
                s["high"],
                "events/s",
                ">= 1000",
                s["median"] >= 1000,
                f"backlog {dr['backlog']} per repeat",
            )
        )
        if "cpu_ms_per_event" in dr:
            s = dr["cpu_ms_per_event"]
            out.append(
                Row(
                    "drain CPU per event (whole stack)",
                    s["median"],
                    s["low"],
                    s["high"],
                    "ms",
                    note=f"ceiling on idle cores: {dr['ceiling_per_s']}/s",
                )
            )

    ft = results.get("faults")
    if ft:
        detect_bound = read_budget_s * 1.1
        for kind in ft.get("kinds", []):
            figures = ft[kind]
            d, r = figures["detect_s"], figures["recover_s"]
            worst_d, worst_r = figures["detect_s_max"], figures["recover_s_max"]
            missed = figures["detect_s_missed"] + figures["recover_s_missed"]
            out.append(
                Row(
                    f"fault to detection: {kind} {ft['target']}",
                    _s(d),
                    _s(d, "low"),
                    _s(d, "high"),
                    "s",
                    f"<= {detect_bound:.2f} (worst)",
                    worst_d is not None and worst_d <= detect_bound and not missed,
                )
            )
            out.append(
                Row(
                    f"heal to first good read: {kind}",
                    _s(r),
                    _s(r, "low"),
                    _s(r, "high"),
                    "s",
                    "<= 1.00 (worst)",
                    worst_r is not None and worst_r <= 1.0 and not missed,
                )
            )

    ov = results.get("suite_overhead")
    if ov:
        if "ratio" in ov:
            out.append(
                Row(
                    "suite overhead ratio",
                    ov["ratio"],
                    None,
                    None,
                    "x",
                    "<= 1.5",
                    ov["ratio"] <= 1.5,
                    f"{ov['run_id']} ({ov['git_revision']}, {ov.get('verdict')}): "
                    f"{ov['wall_s']:.0f}s wall / "
                    f"{ov['windows_s'] + ov['waits_s']:.0f}s observed; suites only "
                    f"{ov['ratio_suites_only']:.2f}",
                )
            )
        else:
            out.append(
                Row("suite overhead ratio", None, None, None, "x", "<= 1.5", None, ov["skipped"])
            )

    mem = results.get("memory")
    if mem:
        out.append(
            Row(
                "stack peak RSS (sampled sum)",
                mem["peak_rss_mib"],
                None,
                None,
                "MiB",
                note=f"{mem['processes']} processes",
            )
        )
        out.append(Row("stack sum of per-process VmHWM", mem["sum_hwm_mib"], None, None, "MiB"))
        out.append(Row("stack PSS at the end", mem["pss_now_mib"], None, None, "MiB"))
    return out


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}" if abs(x) < 1 else f"{x:.2f}"


def table(table_rows: list[Row]) -> str:
    header = ("figure", "median", "range (repeats)", "unit", "target", "met", "note")
    lines = [header]
    for r in table_rows:
        spread = "" if r.low is None else f"{_fmt(r.low)} .. {_fmt(r.high)}"
        met = "" if r.met is None else ("yes" if r.met else "NO")
        lines.append((r.name, _fmt(r.median), spread, r.unit, r.target, met, r.note))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    text = []
    for i, line in enumerate(lines):
        cells = [str(c).ljust(w) for c, w in zip(line[:-1], widths, strict=True)]
        text.append("  ".join(cells) + "  " + str(line[-1]))
        if i == 0:
            text.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(line.rstrip() for line in text)


def markdown(table_rows: list[Row]) -> str:
    """The same table for docs/benchmark.md."""
    lines = [
        "| figure | median | range (repeats) | target | met | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in table_rows:
        value = "-" if r.median is None else f"{_fmt(r.median)} {r.unit}"
        spread = "" if r.low is None else f"{_fmt(r.low)} .. {_fmt(r.high)}"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.name} | {value} | {spread} | {r.target} | {met} | {r.note} |")
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> Path:
    """reports/bench/<timestamp>.json and a copy as latest.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    shutil.copyfile(path, out_dir / "latest.json")
    return path
