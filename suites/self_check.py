"""The self-check: every bug variant must make the suites fail; the correct system must not.

Each probe names a variant and the tests that should catch it. The check
runs those tests in a subprocess against a fresh stack with FEED_VARIANT set
and reads which failed (the report's kill matrix: variant x catching tests), then
runs the union of the selections against the correct system, which must pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from system_under_test import variants

REPO_ROOT = Path(__file__).resolve().parents[1]
NESTED_ENV = "FEEDCHAOS_INSIDE_SELF_CHECK"


@dataclass(frozen=True)
class Probe:
    variant: str
    selection: str  # a pytest -k expression over suites/
    why: str  # which promise the bug breaks, in a few words


PROBES: tuple[Probe, ...] = (
    Probe(
        "ack_before_confirm",
        "api_broker_down or api_broker_blackhole",
        "a 202 while the broker cannot confirm",
    ),
    Probe(
        "non_persistent", "broker_kill9 or broker_restart", "acked writes lost in a broker restart"
    ),
    Probe(
        "non_durable_queues",
        "broker_kill9 or broker_restart",
        "the queue and its backlog gone after a broker restart",
    ),
    Probe(
        "ack_before_commit",
        "consumers_cut_db_long",
        "acked deliveries lost when the database stays out past the retries",
    ),
    Probe("no_dedupe", "redelivery", "a redelivery applied twice"),
    Probe("rpc_no_deadline", "rpc_blackhole-api__card_rpc", "a read hanging past its budget"),
    Probe(
        "partial_feed", "rpc_down-api__card_rpc or rpc_down-api__user_rpc", "a 200 with half a feed"
    ),
    Probe("swallows_cache_error", "consumers_cut_cache", "the cache left behind the database"),
    Probe(
        "no_resume_after_broker_restart",
        "broker_restart or consumers_cut_broker",
        "consumers gone for good after the broker came back",
    ),
    Probe("poison_requeued_forever", "test_poison", "poison never dead-lettered"),
    Probe(
        "retries_past_deadline",
        "db_down or db_killed",
        "a database known down answered by the deadline instead of at once",
    ),
    Probe("one_sided_no_transaction", "crash_mid_apply", "half a comment or like after a crash"),
)


@dataclass
class SelectionRun:
    variant: str | None
    selection: str
    exit_code: int
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> passed/failed/...
    report_dir: str = ""

    @property
    def failed(self) -> list[str]:
        """Tests that failed or errored: either way the variant broke a promise the correct
        system keeps (the correct system must pass the same tests, see the self-check), be it
        in a test's verdicts or in a fixture's set-up check (e.g. the read-path world)."""
        return sorted(n for n, o in self.outcomes.items() if o in ("failed", "error"))

    @property
    def passed(self) -> list[str]:
        return sorted(n for n, o in self.outcomes.items() if o == "passed")


def run_selection(
    variant: str | None, selection: str, reports_dir: Path, seed: int, timeout_s: float = 1200
) -> SelectionRun:
    """`pytest suites -k selection` in a subprocess, on its own fresh stack."""
    env = {k: v for k, v in os.environ.items() if k != variants.ENV}
    if variant is not None:
        env[variants.ENV] = variant
    reports_dir.mkdir(parents=True, exist_ok=True)
    # Never the self-check itself: a -k word such as "broker_restart" also matches a
    # probe's id, and probes running the probes would never end.
    env[NESTED_ENV] = "1"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "suites",
        "-k",
        selection,
        "-m",
        "not slow and not self_check",
        "-p",
        "no:cacheprovider",
        "-q",
        "--seed",
        str(seed),
        "--reports-dir",
        str(reports_dir),
    ]
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    (reports_dir / "pytest-output.txt").write_text(done.stdout + done.stderr)
    result = SelectionRun(variant, selection, done.returncode, report_dir=str(reports_dir))
    report = reports_dir / "latest" / "report.json"
    if report.exists():
        data = json.loads(report.read_text())
        result.outcomes = {t["nodeid"]: t["outcome"] for t in data["tests"]}
    return result
