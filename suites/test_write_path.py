"""Writes are acknowledged while consumers are down and applied exactly once after.

One test per contract row with a write expectation and per target.
"""

from __future__ import annotations

import pytest

from faults.composite import AllOf
from suites import contract
from suites.contract import Case
from suites.scenario import ChaosRun
from suites.testing import assert_all_valid, case_params


def stopped_processes(case: Case) -> set[str]:
    parts = case.fault.parts if isinstance(case.fault, AllOf) else (case.fault,)
    return {p.target for p in parts if p.kind in ("kill", "terminate", "pause")}


@pytest.mark.parametrize("case", case_params(contract.write_cases(), "write_path"))
def test_write_path(case: Case, chaos: ChaosRun) -> None:
    verdicts = chaos.run_write_case(case, stopped_processes(case))
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
