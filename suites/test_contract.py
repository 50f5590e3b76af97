"""The resilience contract, row by row and target by target.

Each test applies one fault to one target, reads and writes through it,
heals, and checks both promises the row makes (see suites/contract.py).
"""

from __future__ import annotations

import pytest

from suites import contract
from suites.contract import Case
from suites.scenario import ChaosRun, FeedWorld
from suites.testing import assert_all_valid, case_params


@pytest.mark.parametrize("case", case_params(contract.cases()))
def test_contract(case: Case, chaos: ChaosRun, feed_world: FeedWorld) -> None:
    verdicts = chaos.run_case(case, feed_world)
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
