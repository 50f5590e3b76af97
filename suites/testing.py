"""Glue between the contract and pytest: parameters with markers, one readable assertion."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from suites.checkers import Verdict
from suites.contract import Case
from suites.scenario import ChaosRun


def case_params(cases: Iterable[Case]) -> list:
    """One pytest param per case: the id names row and target; marks are its profiles and paths."""
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[getattr(pytest.mark, m) for m in (*case.row.paths, *case.row.profiles)],
        )
        for case in cases
    ]


def assert_all_valid(verdicts: list[Verdict], run: ChaosRun) -> None:
    failed = [v for v in verdicts if not v.valid]
    if failed:
        windows = "; ".join(f"{w['fault']} for {w['duration_s']:.2f}s" for w in run.record.windows)
        report = "\n".join(str(v) for v in failed)
        raise AssertionError(
            f"{len(failed)} of {len(verdicts)} checks failed (fault: {windows}; "
            f"replay with --seed={run.record.seed})\n{report}"
        )
