"""Per-test plots for report.html: request latency over time and the backlog drain curve.

One PNG per test that had a fault window: on top every operation's latency
(reads and writes, failed ones marked) with the fault window shaded, and,
when writes were held back, the backlog below on the same time axis. Time
is in seconds from the fault's start, so every plot reads the same way.

matplotlib's object API (Figure + Agg canvas, no pyplot) keeps no global
state and is the fastest way to render many small figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from reports.timeline import Point, fault_start

DPI = 100
WIDTH_IN = 8.0
LATENCY_H_IN = 2.6
BACKLOG_H_IN = 1.5
FAULT_COLOUR = "#e45756"
READ_COLOUR = "#4c78a8"
WRITE_COLOUR = "#f58518"
FAILED_COLOUR = "#b00020"
MIN_LATENCY_S = 1e-3


def _seconds(value: float, _pos: int) -> str:
    return f"{value * 1000:g} ms" if value < 1 else f"{value:g} s"


def _series(points: Sequence[Point], t0: float, reads: bool, ok: bool) -> tuple[list, list]:
    xs, ys = [], []
    for p in points:
        if p.is_read is reads and (p.outcome == "ok") is ok and p.latency_s is not None:
            xs.append(p.at - t0)
            ys.append(max(p.latency_s, MIN_LATENCY_S))
    return xs, ys


def _heal_start(window: dict[str, Any]) -> float:
    end = window.get("end") or window["start"]
    return end - (window.get("heal_s") or 0.0)


def _shade(ax: Any, windows: list[dict[str, Any]], t0: float, label: bool) -> None:
    """The fault on (strong) and its heal in progress (pale): a restart can take a second."""
    for n, w in enumerate(sorted(windows, key=lambda w: w["start"])):
        first = label and n == 0
        heal, end = _heal_start(w), w.get("end") or w["start"]
        # A fault nested in the outer one (a restart inside a cut) stacks a darker band.
        nested = n > 0
        ax.axvspan(
            w["start"] - t0,
            heal - t0,
            facecolor=FAULT_COLOUR,
            edgecolor=FAULT_COLOUR if nested else "none",
            hatch="///" if nested else None,  # told apart from the outer fault in the legend
            alpha=0.2,
            lw=0,
            label=("nested fault on" if nested else "fault on") if label and n <= 1 else None,
        )
        if end - heal > 0.02:
            ax.axvspan(
                heal - t0,
                end - t0,
                color=FAULT_COLOUR,
                alpha=0.07,
                lw=0,
                label="healing" if first else None,
            )


def _marks(ax: Any, test: dict[str, Any], t0: float) -> None:
    """Dotted lines where the reads recovered and the writes converged (timed from the heal)."""
    outer = min(test["windows"], key=lambda w: w["start"])
    if outer.get("end") is None:
        return
    heal_start = _heal_start(outer)
    figures = test.get("figures", {})
    for key, colour, label in (
        ("time_to_recover_s", "#54a24b", "recovered"),
        ("time_to_converge_s", "#72b7b2", "converged"),
    ):
        if figures.get(key) is not None:
            ax.axvline(heal_start + figures[key] - t0, color=colour, ls=":", lw=1.4, label=label)


def shows_backlog(test: dict[str, Any]) -> bool:
    """A drain curve only when writes were held back: a flat zero line says nothing."""
    return any(v for _, v in test.get("series", {}).get("backlog") or [])


def figure_png(
    test: dict[str, Any], points: Sequence[Point], bounds: dict[str, float]
) -> bytes | None:
    """The PNG of one test, or None when it had no fault window (nothing to shade)."""
    windows = [w for w in test.get("windows", []) if w.get("start")]
    start = fault_start(windows)
    if start is None:
        return None
    t0 = start
    backlog = test.get("series", {}).get("backlog") or []
    show_backlog = shows_backlog(test)
    heights = [LATENCY_H_IN, BACKLOG_H_IN] if show_backlog else [LATENCY_H_IN]
    total_h = sum(heights) + 0.5
    fig = Figure(figsize=(WIDTH_IN, total_h), dpi=DPI)
    # Fixed margins, not a layout engine: constrained layout doubles the render time.
    fig.subplots_adjust(
        left=0.12, right=0.76, top=1 - 0.1 / total_h, bottom=0.5 / total_h, hspace=0.12
    )
    axes = fig.subplots(len(heights), 1, sharex=True, squeeze=False, height_ratios=heights)[:, 0]

    ax = axes[0]
    _shade(ax, windows, t0, label=True)
    for reads, ok, colour, marker, label in (
        (True, True, READ_COLOUR, "o", "read ok"),
        (True, False, FAILED_COLOUR, "x", "read failed"),
        (False, True, WRITE_COLOUR, "^", "write acked"),
        (False, False, "#9d4edd", "v", "write refused/unknown"),
    ):
        xs, ys = _series(points, t0, reads, ok)
        if xs:
            ax.scatter(xs, ys, s=18, c=colour, marker=marker, label=label, zorder=3, lw=1)
    bound = bounds.get("read_budget_s", 0.0) + bounds.get("margin_s", 0.0)
    if bound:
        ax.axhline(bound, color="#777777", ls="--", lw=0.9, label=f"read bound {bound:g} s")
    _marks(ax, test, t0)
    # Log scale: a healthy read takes milliseconds, a timed-out one a second; both must show.
    ax.set_yscale("log")
    # Faster answers are drawn at 1 ms: the floor sits a little below so they stay whole.
    ax.set_ylim(MIN_LATENCY_S / 1.6, max([bound, *(p.latency_s or 0 for p in points)]) * 2)
    ax.yaxis.set_major_formatter(FuncFormatter(_seconds))
    ax.yaxis.set_minor_locator(NullLocator())  # log minor ticks cost a third of the render
    ax.set_ylabel("latency")
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)

    if show_backlog:
        bx = axes[1]
        _shade(bx, windows, t0, label=False)
        bx.step([t - t0 for t, _ in backlog], [v for _, v in backlog], where="post", color="#333")
        bx.fill_between(
            [t - t0 for t, _ in backlog], [v for _, v in backlog], step="post", alpha=0.25
        )
        bx.set_ylabel("backlog\n(acked, not applied)", fontsize=8)
        bx.set_ylim(bottom=0)
        bx.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))  # writes, not fractions
        bx.grid(alpha=0.3, lw=0.5)
    axes[-1].set_xlabel("seconds from the fault's start")

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()
