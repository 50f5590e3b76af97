"""The feedchaos pytest plugin: stack lifecycle, chaos fixtures, the run's report.

Loaded by the root conftest.py. Options:
  --stack=local|containers   where the system under test runs (env FEEDCHAOS_STACK)
  --seed=N                   replay a run's random choices (env FEEDCHAOS_SEED)
  --reports-dir=PATH         where reports/<run-id>/ goes (default: reports/)
  --baseline=PATH            a previous report.json or run dir to flag regressions against
                             (env FEEDCHAOS_BASELINE; reports/latest is the previous run)
"""

from __future__ import annotations

import os
import random
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reports.compare import BaselineError, baseline_file
from reports.record import TestRecord
from reports.writer import RunInfo, point_latest, write_run
from suites.checkers import feed_differences
from suites.client import FeedClient
from suites.contract import BOUNDS
from suites.scenario import ChaosRun, FeedWorld
from suites.state import StoreInspector
from suites.waiting import poll
from system_under_test import variants

REPO_ROOT = Path(__file__).resolve().parents[1]
STACK_TESTS_DIR = REPO_ROOT / "suites"


@dataclass
class RunState:
    info: RunInfo
    run_dir: Path
    reports_root: Path
    enabled: bool  # False for --collect-only: no files written
    records: dict[str, TestRecord] = field(default_factory=dict)


STATE = pytest.StashKey[RunState]()
RECORD = pytest.StashKey[TestRecord]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("feedchaos")
    group.addoption(
        "--stack",
        choices=("local", "containers"),
        default=os.environ.get("FEEDCHAOS_STACK", "local"),
        help="where the system under test runs (default: local processes)",
    )
    group.addoption(
        "--seed",
        type=int,
        default=None,
        help="seed for every random choice; printed at the start to replay a run",
    )
    group.addoption(
        "--reports-dir", default=str(REPO_ROOT / "reports"), help="root folder of the run reports"
    )
    group.addoption(
        "--baseline",
        default=os.environ.get("FEEDCHAOS_BASELINE") or None,
        help="report.json or run dir of a previous run: the report flags regressions against it",
    )


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@pytest.hookimpl(tryfirst=True)  # before junitxml reads --junitxml
def pytest_configure(config: pytest.Config) -> None:
    seed = config.getoption("--seed")
    if seed is None:
        env_seed = os.environ.get("FEEDCHAOS_SEED")
        seed = int(env_seed) if env_seed else random.SystemRandom().randrange(2**32)
    run_id = time.strftime("run-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    reports_root = Path(config.getoption("--reports-dir")).resolve()
    run_dir = reports_root / run_id
    enabled = not config.option.collectonly
    info = RunInfo(
        run_id=run_id,
        started=time.time(),
        stack=config.getoption("--stack"),
        seed=seed,
        selection=config.option.markexpr or None,
        git_revision=_git_revision(),
        keyword=config.option.keyword or None,
    )
    if config.getoption("--baseline"):
        try:  # resolved now: reports/latest moves to this run at the end
            info.baseline = str(baseline_file(config.getoption("--baseline")).resolve())
        except BaselineError as e:
            raise pytest.UsageError(str(e)) from None
    config.stash[STATE] = RunState(info, run_dir, reports_root, enabled)
    # One seed replays everything: our random choices and Hypothesis's examples.
    if getattr(config.option, "hypothesis_seed", None) is None:
        config.option.hypothesis_seed = seed
    if enabled:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not config.option.xmlpath:
            config.option.xmlpath = str(run_dir / "junit.xml")


def pytest_report_header(config: pytest.Config) -> list[str]:
    variant = os.environ.get(variants.ENV)
    if variant:
        return [
            *_header(config),
            f"feedchaos: SUT variant {variant!r} (a deliberately broken system)",
        ]
    return _header(config)


def _header(config: pytest.Config) -> list[str]:
    state = config.stash[STATE]
    return [
        f"feedchaos: stack={state.info.stack} seed={state.info.seed} "
        f"(replay with --seed={state.info.seed}) report={state.run_dir}"
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).is_relative_to(STACK_TESTS_DIR):
            item.add_marker(pytest.mark.stack)


def _profiles(item: pytest.Item) -> list[str]:
    known = {line.split(":")[0] for line in item.config.getini("markers")}
    return sorted({m.name for m in item.iter_markers()} & known - {"parametrize", "stack"})


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[STATE]
    record = TestRecord(nodeid=item.nodeid, profiles=_profiles(item), seed=state.info.seed)
    item.stash[RECORD] = record
    state.records[item.nodeid] = record
    for profile in record.profiles:
        item.user_properties.append(("profile", profile))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    record = item.stash.get(RECORD, None)
    if record is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped:
            record.outcome = "skipped"
        elif report.failed:
            record.outcome = "failed" if report.when == "call" else "error"
            record.message = report.longreprtext[-4000:]
        else:
            record.outcome = "passed"
    elif report.when == "teardown" and report.failed and record.outcome == "passed":
        record.outcome, record.message = "error", report.longreprtext[-4000:]
    record.duration_s = round(record.duration_s + report.duration, 3)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash[STATE]
    if not state.enabled:
        return
    write_run(state.run_dir, state.info, list(state.records.values()))
    point_latest(state.reports_root, state.run_dir)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash[STATE]
    if state.enabled:
        terminalreporter.write_line(
            f"feedchaos report: {state.run_dir}/report.html (and report.json, summary.md, "
            f"junit.xml, history.jsonl); seed {state.info.seed}"
        )


# -- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="session")
def run_state(request: pytest.FixtureRequest) -> RunState:
    return request.config.stash[STATE]


@pytest.fixture(scope="session")
def stack(run_state: RunState) -> Iterator[object]:
    """The whole system, started once per session and stopped at the end (also on Ctrl-C)."""
    if run_state.info.stack == "containers":  # the same interface, every service in Docker
        from harness.containers import ContainerStack as Stack
    else:
        from harness import LocalStack as Stack

    local = Stack(run_state.run_dir / "stack", sut_env=sut_env(run_state))
    try:
        local.start()
        run_state.info.stack_timings = dict(local.timings)
        yield local
    finally:
        local.stop()


def sut_env(run_state: RunState) -> dict[str, str]:
    """What the stack's services are configured with: the contract's bounds, and the
    bug variant under test when FEED_VARIANT names one (see system_under_test/variants.py)."""
    env = BOUNDS.sut_env()
    variant = os.environ.get(variants.ENV)
    if variant:
        if variant not in variants.CATALOGUE:
            pytest.fail(f"{variants.ENV}={variant!r} is not a known variant", pytrace=False)
        env[variants.ENV] = variant
    return env


@pytest.fixture(scope="session")
def inspector(stack) -> StoreInspector:
    e = stack.endpoints
    return StoreInspector(e.postgres_dsn, e.redis_url, e.amqp_url)


@pytest.fixture
def rng(run_state: RunState, request: pytest.FixtureRequest) -> random.Random:
    """Per test, derived from the run's seed and the test id: a seed replays every test."""
    return random.Random(f"{run_state.info.seed}:{request.node.nodeid}")


@pytest.fixture
def chaos(
    stack,
    inspector: StoreInspector,
    rng: random.Random,
    run_state: RunState,
    request: pytest.FixtureRequest,
) -> Iterator[ChaosRun]:
    """A clean stack (no toxic, every process up) and a recorded client for one test."""
    stack.reset_faults()
    _wait_until_serving(stack.endpoints.api_url)
    record = request.node.stash[RECORD]
    client = FeedClient(stack.endpoints.api_url)
    run = ChaosRun(stack, client, inspector, BOUNDS, rng, record)
    try:
        yield run
    finally:
        if run.backlog is not None:  # a test that failed before converging
            run.backlog.stop()
        record.operations = len(client.history)
        if run_state.enabled:
            client.history.dump_jsonl(run_state.run_dir / "history.jsonl", request.node.nodeid)
        client.close()
        stack.reset_faults()


# How long a test waits, before it starts, for the stack to serve reads and writes again
# after the previous test's faults (its processes are up; pools may still be reconnecting).
HEALTHY_BOUND_S = 15.0


def _wait_until_serving(api_url: str) -> None:
    """Every test starts from a stack that answers: cache-miss reads through the RPC
    services to the database (the processes being up is not enough)."""
    client = FeedClient(api_url)
    probe_user = random.SystemRandom().randrange(10**12, 10**13)  # never written: misses

    def serving() -> bool:
        reads = (
            client.read_feed(probe_user),
            client.read_view(probe_user, "posts"),
            client.read_view(probe_user, "likes/received"),
        )
        return all(op.status == 200 for op in reads) and client.healthy()

    try:
        ok, _ = poll(serving, HEALTHY_BOUND_S, interval_s=0.2)
    finally:
        client.close()
    if not ok:
        pytest.fail(
            f"the stack did not serve reads {HEALTHY_BOUND_S:.0f}s after the reset", pytrace=False
        )


@pytest.fixture(scope="session")
def feed_world(stack, run_state: RunState) -> FeedWorld:
    """A reader following two authors with posts, likes and comments, fully applied.

    The feed the read-path tests expect is checked once against a model of these
    writes (which posts, in which order, with which text, counts and authors);
    later reads must equal that verified feed exactly.
    """
    rng = random.Random(f"{run_state.info.seed}:feed_world")
    reader, *authors = (rng.randrange(10**9, 10**12) for _ in range(3))
    client = FeedClient(stack.endpoints.api_url)
    model: list[dict] = []  # oldest first, as written
    try:
        for user in (reader, *authors):
            _must(client.register(user, f"user {user}"))
        for author in authors:
            _must(client.follow(reader, author))
            for n in range(2):
                post = _must(client.post(author, f"hello {n} from {author}"))
                reacted = n == 0
                if reacted:
                    _must(client.comment(reader, post.response["post_id"], author, "nice"))
                    _must(client.like(reader, post.response["post_id"], author))
                model.append(
                    {
                        "post_id": post.response["post_id"],
                        "author": {
                            "user_id": author,
                            "nickname": f"user {author}",
                            "follower_count": 1,
                        },
                        "body": f"hello {n} from {author}",
                        "like_count": int(reacted),
                        "comment_count": int(reacted),
                    }
                )

        def matches_model() -> list | None:
            op = client.read_feed(reader)
            items = op.response.get("items", []) if op.status == 200 else []
            return items if not feed_differences(items, model) else None

        items, _ = poll(matches_model, BOUNDS.convergence_s, interval_s=0.1)
        if items is None:
            op = client.read_feed(reader)
            problems = feed_differences((op.response or {}).get("items", []), model)
            raise AssertionError(f"the reader's feed never matched the writes: {problems}")
        return FeedWorld(reader=reader, authors=authors, expected_items=items)
    finally:
        client.close()


def _must(op):
    assert op.outcome == "ok", f"set-up write failed: {op.kind} {op.status} {op.response}"
    return op
