"""The contract table is well formed and every row names things that exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.links import link_pairs
from suites import contract

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = {
    "api",
    "feed_rpc",
    "card_rpc",
    "user_rpc",
    "post_consumer",
    "comment_consumer",
    "like_consumer",
    "social_consumer",
    "redis",
    "rabbitmq",
    "postgres",
}


def registered_markers() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in contract.cases()]
    assert len(ids) == len(set(ids))


def test_profiles_are_registered_markers() -> None:
    markers = registered_markers()
    for row in contract.CONTRACT:
        assert set(row.profiles) <= markers, row.id


def test_targets_exist() -> None:
    links = {f"{client}__{server}" for client, server in link_pairs()}
    for row in contract.CONTRACT:
        for case in row.cases():
            for leaf in case.fault.leaves():
                assert leaf.target in links | PROCESSES, f"{case.id}: {leaf.target}"


def test_failing_reads_name_an_rpc_dependency() -> None:
    """The API only sees its RPC dependencies: that is what a failed read must name."""
    naming = {contract.Reads.FAIL, contract.Reads.WARM_OK_MISS_FAIL}
    for case in contract.cases():
        if case.row.reads in naming:
            assert case.dependency in {"feed_rpc", "card_rpc", "user_rpc"}, case.id


def test_bounds_configure_the_stack() -> None:
    env = contract.BOUNDS.sut_env()
    assert env["FEED_READ_BUDGET_MS"] == str(int(contract.BOUNDS.read_budget_s * 1000))


def test_docs_table_is_in_sync() -> None:
    assert (ROOT / "docs" / "contract.md").read_text() == contract.markdown(), (
        "docs/contract.md is stale: run python -m suites.contract > docs/contract.md"
    )
