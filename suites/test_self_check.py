"""Detection power: each classic resilience bug, switched on, makes the suites fail.

Not part of the default run (`-m self_check`; CI runs it): every probe starts a
fresh stack with a broken variant of the system (system_under_test/variants.py).
"""

from __future__ import annotations

import os

import pytest

from suites.plugin import RECORD, RunState
from suites.self_check import (
    NESTED_ENV,
    PROBES,
    Probe,
    run_selection,
)
from system_under_test import variants

pytestmark = [
    pytest.mark.self_check,
    pytest.mark.skipif(bool(os.environ.get(NESTED_ENV)), reason="inside a self-check run"),
]


def test_every_variant_has_a_probe() -> None:
    assert {p.variant for p in PROBES} == set(variants.CATALOGUE)


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.variant)
def test_variant_is_caught(
    probe: Probe, run_state: RunState, request: pytest.FixtureRequest
) -> None:
    out = run_state.run_dir / "self_check" / probe.variant
    run = run_selection(probe.variant, probe.selection, out, run_state.info.seed)
    record = request.node.stash[RECORD]
    record.figures.update(
        {"variant": probe.variant, "caught_by": run.failed, "tests_run": len(run.outcomes)}
    )
    assert run.outcomes, f"no test ran for {probe.variant}; see {out}/pytest-output.txt"
    assert run.failed, (
        f"variant {probe.variant} ({probe.why}) was not caught by -k {probe.selection!r}; see {out}"
    )


def test_correct_system_passes_every_probe_selection(run_state: RunState) -> None:
    selection = " or ".join(f"({p.selection})" for p in PROBES)
    out = run_state.run_dir / "self_check" / "correct"
    run = run_selection(None, selection, out, run_state.info.seed)
    assert run.outcomes, f"no test ran; see {out}/pytest-output.txt"
    assert not run.failed, f"the correct system failed {run.failed}; see {out}"
