"""The resilience report on recorded data (tests/fixtures/report_run, no stack).

The fixture is five tests of a real run (rpc_down, rpc_slow, rpc_slow_close,
consumers_killed on one consumer and on all), trimmed: feed bodies dropped
from history.jsonl. It is rendered again here, compared with altered copies
of itself, and opened in headless Chromium.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reports import compare, html, timeline
from reports.__main__ import load_run
from reports.anchors import section_ids
from reports.record import TestRecord as Record  # not Test*: pytest would collect it
from reports.summary import failure_line, render_summary
from reports.validate import ReportSchemaError, problems, validate
from reports.writer import RunInfo, build_report, write_run
from suites import contract

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "report_run"
DOWN = "suites/test_contract.py::test_contract[rpc_down-api__feed_rpc]"
ALL_KILLED = "suites/test_contract.py::test_contract[consumers_killed-all_consumers]"


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    return json.loads((FIXTURE / "report.json").read_text())


@pytest.fixture(scope="module")
def history() -> dict[str, list[timeline.Point]]:
    return timeline.load(FIXTURE / "history.jsonl")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture run written again by the current writer: report.json, summary.md, report.html."""
    out = tmp_path_factory.mktemp("run")
    shutil.copyfile(FIXTURE / "history.jsonl", out / "history.jsonl")
    info, records = load_run(FIXTURE)
    write_run(out, info, records)
    return out


def _test(report: dict[str, Any], nodeid: str) -> dict[str, Any]:
    return next(t for t in report["tests"] if t["nodeid"] == nodeid)


def _cell(report: dict[str, Any], row: str, target: str) -> dict[str, Any]:
    return next(c for c in report["scorecard"] if c["row"] == row and c["target"] == target)


# -- schema -------------------------------------------------------------------------


def test_the_recorded_report_matches_the_schema(recorded: dict[str, Any]) -> None:
    assert problems(recorded) == []
    assert recorded["schema_version"] == 2


def test_a_report_rendered_again_matches_the_schema(rendered: Path) -> None:
    report = json.loads((rendered / "report.json").read_text())
    assert problems(report) == []
    assert {p.name for p in rendered.iterdir()} >= {"report.json", "summary.md", "report.html"}


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r.pop("scorecard"),
        lambda r: r.update(verdict="mostly fine"),
        lambda r: r["tests"][0].update(outcome="flaky"),
        lambda r: r["tests"][0]["figures"].update(lost=-1),
        lambda r: r["scorecard"][0].update(verdict="green"),
        lambda r: r["run"].update(seed="abc"),
        lambda r: r.update(comparison={"regressions": []}),
    ],
    ids=["no scorecard", "verdict", "outcome", "negative count", "cell", "seed", "comparison"],
)
def test_the_schema_rejects_a_broken_report(recorded: dict[str, Any], breakage) -> None:
    broken = copy.deepcopy(recorded)
    breakage(broken)
    assert problems(broken)
    with pytest.raises(ReportSchemaError):
        validate(broken)


def test_the_writer_refuses_to_write_an_invalid_report(tmp_path: Path, monkeypatch) -> None:
    info, records = load_run(FIXTURE)
    records[0].outcome = "flaky"  # not an outcome the schema knows
    with pytest.raises(ReportSchemaError, match="outcome"):
        write_run(tmp_path, info, records)
    assert not (tmp_path / "report.json").exists()
    assert (tmp_path / "report.invalid.json").exists()  # kept to debug the writer


# -- figures derived from the history --------------------------------------------------


def test_time_to_detect_is_the_first_failed_operation_after_the_fault(
    recorded: dict[str, Any], history: dict[str, list[timeline.Point]]
) -> None:
    down = _test(recorded, DOWN)
    start = timeline.fault_start(down["windows"])
    first = timeline.first_failure(history[DOWN], start)
    assert first is not None and first.kind == "read_feed" and first.status == 503
    assert down["figures"]["time_to_detect_s"] == pytest.approx(first.done_at - start)
    # Consumers killed: writes are acked and reads answer, so nothing fails to see.
    assert _test(recorded, ALL_KILLED)["figures"]["time_to_detect_s"] is None


def test_time_to_detect_on_hand_made_points() -> None:
    def point(at: float, latency: float, outcome: str) -> timeline.Point:
        return timeline.Point("read_feed", at, latency, outcome, 200 if outcome == "ok" else 503)

    windows = [{"start": 100.0, "end": 103.0}]
    points = [
        point(99.0, 2.0, "fail"),  # answered after the start: counts, at 101.0
        point(100.5, 0.1, "ok"),
        point(100.6, 0.2, "fail"),  # answered at 100.8: the first
    ]
    assert timeline.time_to_detect(points, windows) == pytest.approx(0.8)
    assert timeline.time_to_detect(points[1:2], windows) is None
    assert timeline.time_to_detect(points, []) is None


# -- comparison with a baseline ----------------------------------------------------------


def _worse(report: dict[str, Any]) -> dict[str, Any]:
    """The fixture with rpc_down failing and the all-consumers convergence 3x slower."""
    now = copy.deepcopy(report)
    _cell(now, "rpc_down", "api__feed_rpc")["verdict"] = "fail"
    _test(now, DOWN)["outcome"] = "failed"
    _test(now, DOWN)["message"] = "AssertionError: 1 of 7 checks failed\nmore"
    killed = _test(now, ALL_KILLED)["figures"]
    killed["time_to_converge_s"] *= 3  # 1.35 s -> 4.04 s: 3x and +2.7 s
    killed["time_to_recover_s"] += 0.4  # 1.4x: within noise
    return now


def test_a_green_cell_turned_red_and_a_slower_convergence_are_regressions(
    recorded: dict[str, Any],
) -> None:
    comparison = compare.compare(_worse(recorded), recorded)
    found = {(r["kind"], r["case"], r.get("figure")) for r in comparison["regressions"]}
    assert found == {
        ("verdict", "rpc_down-api__feed_rpc", None),
        ("slower", "consumers_killed-all_consumers", "time_to_converge_s"),
    }
    assert comparison["fixed"] == []
    assert "2x" in comparison["rule"]["text"] and "0.5 s" in comparison["rule"]["text"]
    # Read the other way round: the red cell got fixed, nothing regressed.
    back = compare.compare(recorded, _worse(recorded))
    assert back["regressions"] == []
    assert [f["case"] for f in back["fixed"]] == ["rpc_down-api__feed_rpc"]


@pytest.mark.parametrize(
    ("before", "now", "slower"),
    [
        (0.1, 0.59, False),  # 5.9x but only +0.49 s: noise on a fast heal
        (0.1, 0.61, True),
        (1.0, 2.0, False),  # exactly 2x is not more than 2x
        (1.0, 2.01, True),
        (1.0, None, False),  # never recovered: the failed test says so
        (None, 5.0, False),
    ],
)
def test_the_slower_rule(before: float | None, now: float | None, slower: bool) -> None:
    assert compare.is_slower(before, now) is slower


def test_summary_and_html_flag_regressions(
    recorded: dict[str, Any], history: dict[str, list[timeline.Point]]
) -> None:
    now = _worse(recorded)
    now["comparison"] = compare.compare(now, recorded)
    assert problems(now) == []
    summary = render_summary(now)
    assert "## Regressions against `run-" in summary
    assert "Rule: a regression is" in summary
    assert "rpc_down-api__feed_rpc: pass before, fail now" in summary
    assert "(report.html#rpc_down-api__feed_rpc)" in summary
    assert "time to converge 1.35 s -> 4.04 s" in summary
    page = html.render_html(now, history)
    assert page.count('class="regression"') == 2
    assert "cell fail regressed" in page


def test_a_baseline_is_a_report_or_a_run_dir(tmp_path: Path) -> None:
    assert compare.baseline_file(FIXTURE) == FIXTURE / "report.json"
    assert compare.load_baseline(FIXTURE / "report.json")["run"]["id"].startswith("run-")
    with pytest.raises(compare.BaselineError, match="no baseline report"):
        compare.baseline_file(tmp_path)
    (tmp_path / "report.json").write_text('{"hello": 1}')
    with pytest.raises(compare.BaselineError, match="not a feedchaos report"):
        compare.load_baseline(tmp_path)


# -- summary.md ----------------------------------------------------------------------------


def _full_run(failing: int) -> dict[str, Any]:
    """A default-sized run: every contract case plus two smoke tests, the first `failing` red."""
    records = []
    for n, case in enumerate(contract.cases()):
        record = Record(
            nodeid=f"suites/test_contract.py::test_contract[{case.id}]",
            case=case.id,
            row=case.row.id,
            target=case.target,
            outcome="failed" if n < failing else "passed",
            message="AssertionError: 2 of 7 checks failed (fault: ...)" if n < failing else None,
            windows=[{"fault": "f", "start": 1.0, "end": 2.0, "duration_s": 1.0, "heal_s": 0.1}],
            figures={"acked": 3, "lost": 0, "time_to_recover_s": 0.2, "time_to_converge_s": 0.3},
        )
        records.append(record)
    records += [Record(nodeid=f"suites/test_smoke.py::test_{n}", outcome="passed") for n in (1, 2)]
    info = RunInfo("run-20260101-000000-abcd", time.time(), "local", 7, "not slow", "abc1234")
    return build_report(info, records)


def test_the_summary_of_a_full_run_fits_a_ci_job_summary() -> None:
    report = _full_run(failing=0)
    assert len(report["tests"]) >= 75 and len({c["row"] for c in report["scorecard"]}) >= 35
    summary = render_summary(report)
    assert len(summary.splitlines()) < 100
    assert summary.startswith("# feedchaos resilience report: PASS")
    assert "✅ api__feed_rpc · ✅ api__card_rpc · ✅ api__user_rpc" in summary


def test_the_summary_stays_short_when_everything_fails_and_regresses() -> None:
    baseline = _full_run(failing=0)
    report = _full_run(failing=len(contract.cases()))
    report["comparison"] = compare.compare(report, baseline)
    summary = render_summary(report)
    lines = summary.splitlines()
    assert len(lines) < 100, summary
    assert lines[0] == "# feedchaos resilience report: FAIL"
    # Failures come before the scorecard, one line each, linked to report.html.
    assert summary.index("## Failures") < summary.index("## Scorecard")
    failures = [line for line in lines if line.startswith("- [`rpc_down-api__feed_rpc`]")]
    assert failures == [
        "- [`rpc_down-api__feed_rpc`](report.html#rpc_down-api__feed_rpc) failed: "
        "AssertionError: 2 of 7 checks failed (fault: ...)"
    ]
    assert "more in report.html" in summary


def test_a_failure_reads_as_its_broken_checks_else_the_pytest_error() -> None:
    verdicts = [
        {"checker": "reads_ok", "valid": False, "figures": {}, "problems": ["op 1: status 503"]},
        {"checker": "recovered", "valid": True, "figures": {}, "problems": []},
        {"checker": "converged", "valid": False, "figures": {}, "problems": []},
    ]
    assert failure_line({"verdicts": verdicts}) == "reads_ok: op 1: status 503; converged: failed"
    longrepr = "case = Case(...)\n\n>   assert x\nE   AssertionError: cache not warm\nE   more"
    assert failure_line({"verdicts": [], "message": longrepr}) == "AssertionError: cache not warm"
    assert failure_line({"verdicts": [], "message": None}) == "(no message)"
    assert failure_line({"message": "x" * 500}, limit=20) == "x" * 19 + "…"


# -- report.html -------------------------------------------------------------------------


def test_the_html_is_self_contained_and_complete(
    recorded: dict[str, Any], history: dict[str, list[timeline.Point]]
) -> None:
    started = time.perf_counter()
    page = html.render_html(recorded, history)
    took = time.perf_counter() - started
    run = recorded["run"]
    for fact in (run["id"], str(run["seed"]), run["git_revision"], "-m not slow", "-k "):
        assert fact in page
    # Offline: no script, nothing fetched from elsewhere; images are data URIs.
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count('src="data:image/png;base64,') == 5  # one plot per test with a window
    # The scorecard: a cell per contract row and target, each run cell linked to a section.
    cells = page.count('<td class="cell ') - page.count('<td class="cell na"')
    assert cells == len(recorded["scorecard"])
    for nodeid, anchor in section_ids(recorded["tests"]).items():
        assert f'id="{anchor}"' in page, nodeid
        assert f'<a href="#{anchor}">' in page
    # Per test: the figures a reader looks for.
    for label in ("time to detect", "time to recover", "time to converge", "acked", "applied"):
        assert label in page
    assert took < 10, f"rendering five tests took {took:.1f} s"


def test_scorecard_groups_share_target_columns(recorded: dict[str, Any]) -> None:
    groups = html.scorecard_groups(recorded["scorecard"])
    assert groups[0]["targets"] == ["api__feed_rpc", "api__card_rpc", "api__user_rpc"]
    rows = [r["id"] for g in groups for r in g["rows"]]
    assert sorted(rows) == sorted({c["row"] for c in recorded["scorecard"]})
    consumers = next(g for g in groups if "all_consumers" in g["targets"])
    assert "redelivery" in [r["id"] for r in consumers["rows"]]


# -- junit.xml and the plugin's files ------------------------------------------------------


def _pytest_in(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "suites.plugin", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "--reports-dir", str(tmp_path / "reports"), "-q", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "FEEDCHAOS_BASELINE": ""},
    )  # fmt: skip


def test_a_session_writes_every_report_file_and_junit_profiles(tmp_path: Path) -> None:
    (tmp_path / "test_tiny.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.consumer_outage\n@pytest.mark.write_path\n"
        "def test_marked():\n    pass\n"
    )
    result = _pytest_in(tmp_path, "test_tiny.py", "--baseline", str(FIXTURE))
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = (tmp_path / "reports" / "latest").resolve()
    assert {"report.json", "summary.md", "report.html", "junit.xml"} <= {
        p.name for p in run_dir.iterdir()
    }
    junit = (run_dir / "junit.xml").read_text()
    assert '<property name="profile" value="consumer_outage" />' in junit
    assert '<property name="profile" value="write_path" />' in junit
    report = json.loads((run_dir / "report.json").read_text())
    assert problems(report) == []
    assert (
        report["comparison"]["baseline"]["id"]
        == json.loads((FIXTURE / "report.json").read_text())["run"]["id"]
    )


def test_a_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "test_tiny.py").write_text("def test_nothing():\n    pass\n")
    result = _pytest_in(tmp_path, "test_tiny.py", "--baseline", str(tmp_path / "nowhere"))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "no baseline report" in result.stderr
