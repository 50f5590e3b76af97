"""The benchmark's pure parts: percentiles, repeat summaries, the suite's overhead ratio."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.cpu import ceiling_per_s, per_op_ms
from bench.drain import check_exactly_once
from bench.overhead import find_report, is_full_default_run, overhead_of, union_length
from bench.report import Row, table
from bench.stats import latency_percentiles, percentile, ratio, summarize

FIXTURE = Path(__file__).parent / "fixtures" / "bench_report.json"


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    assert percentile([7.0], 99) == 7.0
    assert percentile(list(reversed(values)), 50) == 3.0  # order does not matter


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_percentiles_are_milliseconds() -> None:
    pcts = latency_percentiles([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert pcts["p50_ms"] == pytest.approx(50.5)
    assert pcts["p95_ms"] == pytest.approx(95.05)
    assert pcts["p99_ms"] == pytest.approx(99.01)


def test_summary_median_and_spread() -> None:
    s = summarize([10.0, 12.0, 11.0, 9.0, 30.0])
    assert (s.median, s.low, s.high, s.n) == (11.0, 9.0, 30.0, 5)
    assert s.spread == pytest.approx(21 / 11)
    single = summarize([4.0])
    assert single.spread == 0.0
    assert summarize([1.0, float("nan"), 3.0]).median == 2.0
    assert ratio(3.0, 2.0) == 1.5
    assert math.isinf(ratio(1.0, 0.0))


def test_union_of_overlapping_windows() -> None:
    assert union_length([]) == 0.0
    assert union_length([(0, 2), (1, 3), (5, 6)]) == 4.0
    assert union_length([(5, 6), (0, 10)]) == 10.0  # nested, out of order


def test_overhead_ratio_on_a_fixture_report() -> None:
    report = json.loads(FIXTURE.read_text())
    o = overhead_of(report, str(FIXTURE))
    # windows: 2 (one test) + 7 (a nested window counts once, a later one adds 1)
    # waits: max(0.5, 1.5) + max(2.0, None) = 3.5; wall 30 s
    assert o.wall_s == 30.0
    assert o.windows_s == pytest.approx(9.0)
    assert o.waits_s == pytest.approx(3.5)
    assert o.ratio == pytest.approx(30 / 12.5)
    assert (o.tests, o.tests_with_faults) == (3, 2)
    assert is_full_default_run(report)


def test_report_picked_only_from_full_default_runs(tmp_path: Path) -> None:
    report = json.loads(FIXTURE.read_text())
    report["verdict"] = "pass"
    subset = json.loads(FIXTURE.read_text())
    subset["run"]["keyword"] = "rpc_down"
    assert not is_full_default_run(subset)
    (tmp_path / "run-20260101-000000-aaaa").mkdir()
    (tmp_path / "run-20260101-000000-aaaa" / "report.json").write_text(json.dumps(report))
    (tmp_path / "run-20260102-000000-bbbb").mkdir()
    (tmp_path / "run-20260102-000000-bbbb" / "report.json").write_text(json.dumps(subset))
    found, why = find_report(None, tmp_path)
    assert found is not None and found.parent.name == "run-20260101-000000-aaaa", why
    assert find_report(None, tmp_path / "nothing")[0] is None


def test_exactly_once_counts() -> None:
    zero = dict.fromkeys(("processed_events", "posts", "likes_sent", "likes_received"), 0)
    rows = {
        "ok": {**zero, "processed_events": 1, "likes_sent": 1, "likes_received": 1},
        "missing": dict(zero),
        "twice": {**zero, "processed_events": 1, "likes_sent": 2, "likes_received": 2},
        "half": {**zero, "processed_events": 1, "likes_sent": 1},
    }
    kinds = dict.fromkeys(rows, "like")
    assert check_exactly_once(rows, kinds) == {"missing": 1, "duplicated": 1, "one_sided": 1}


def test_table_renders_targets() -> None:
    text = table(
        [
            Row("write acks", 1200.0, 1100.0, 1300.0, "/s", ">= 1000", True),
            Row("drain", 157.0, 150.0, 160.0, "events/s", ">= 1000", False),
        ]
    )
    assert "yes" in text and "NO" in text and "1100 .. 1300" in text


def test_suites_only_ratio_leaves_unit_tests_out() -> None:
    report = json.loads(FIXTURE.read_text())
    report["tests"][0]["duration_s"] = 5.0  # a unit test in the same session
    o = overhead_of(report)
    assert o.non_suite_tests_s == 5.0
    assert o.ratio_suites_only == pytest.approx(25 / 12.5)
    assert o.ratio == pytest.approx(30 / 12.5)


def test_cpu_per_operation_and_ceiling() -> None:
    before = {"api": 1.0, "rabbitmq": 2.0, "bench client": 0.5, "idle": 3.0}
    after = {"api": 2.0, "rabbitmq": 2.5, "bench client": 1.0, "idle": 3.0, "new": 0.5}
    got = per_op_ms(before, after, 1000)
    assert got["parts"] == {"api": 1.0, "rabbitmq": 0.5, "bench client": 0.5, "new": 0.5}
    assert (got["total"], got["stack"]) == (2.5, 2.0)
    assert per_op_ms(before, after, 0) == {}
    assert ceiling_per_s(2.0, cores=2) == 1000.0


def test_a_passing_run_is_preferred_to_a_newer_failing_one(tmp_path: Path) -> None:
    for name, verdict in (
        ("run-20260101-000000-aaaa", "pass"),
        ("run-20260102-000000-bbbb", "fail"),
    ):
        report = {**json.loads(FIXTURE.read_text()), "verdict": verdict}
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(report))
    found, _ = find_report(None, tmp_path)
    assert found is not None and found.parent.name == "run-20260101-000000-aaaa"
    (tmp_path / "run-20260101-000000-aaaa" / "report.json").unlink()
    found, why = find_report(None, tmp_path)
    assert found is not None and found.parent.name == "run-20260102-000000-bbbb"
    assert "failed" in why
