"""Reads fail cleanly when a dependency fails, and come back after the heal.

One test per contract row with a read expectation and per target (RPC link).
"""

from __future__ import annotations

import pytest

from suites import contract
from suites.contract import Case, Reads
from suites.scenario import ChaosRun, FeedWorld
from suites.testing import assert_all_valid, case_params


@pytest.mark.parametrize("case", case_params(contract.read_cases(), "read_path"))
def test_read_path(case: Case, chaos: ChaosRun, feed_world: FeedWorld) -> None:
    verdicts = chaos.run_read_case(case, feed_world, expect_failure=case.row.reads is Reads.FAIL)
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
