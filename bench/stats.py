"""Percentiles and repeat summaries: the only maths the benchmark does (pure, unit-tested)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default).

    Linear interpolation keeps a p99 of a few hundred samples from jumping to
    the single worst one.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    return {f"p{q}_ms": percentile(samples_s, q) * 1000 for q in (50, 95, 99)}


@dataclass(frozen=True)
class Summary:
    """One figure over several repeats: its median, and how far the repeats spread."""

    median: float
    low: float
    high: float
    n: int

    @property
    def spread(self) -> float:
        """(high - low) / median: the whole range relative to the median (0 when n == 1)."""
        if self.n < 2 or self.median == 0:
            return 0.0
        return (self.high - self.low) / abs(self.median)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "spread": self.spread}


def summarize(values: Sequence[float]) -> Summary:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        raise ValueError("summary of no values")
    return Summary(statistics.median(values), min(values), max(values), len(values))


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.inf
