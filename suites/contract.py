"""The resilience contract as data: what each fault must do to reads and writes.

One row per (fault, set of targets). The suites are parametrized from these
rows (adding a row adds tests; each test id names the fault and the target)
and the report's scorecard is drawn from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from faults import Fault, make_fault
from faults.composite import AllOf


@dataclass(frozen=True)
class Bounds:
    """Every number the contract promises, in one place (the stack is configured from it)."""

    read_budget_s: float = 1.0  # FEED_READ_BUDGET_MS: the whole feed read
    margin_s: float = 0.3  # a failed read answers within budget + margin
    recovery_s: float = 3.0  # first good read after a heal
    write_ack_s: float = 0.5  # a 202 at "normal latency"
    publish_timeout_s: float = 1.0  # FEED_PUBLISH_TIMEOUT_MS
    convergence_s: float = 30.0  # every acked write applied after the heal

    @property
    def read_bound_s(self) -> float:
        return self.read_budget_s + self.margin_s

    def sut_env(self) -> dict[str, str]:
        return {
            "FEED_READ_BUDGET_MS": str(int(self.read_budget_s * 1000)),
            "FEED_PUBLISH_TIMEOUT_MS": str(int(self.publish_timeout_s * 1000)),
        }

    def to_json(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


BOUNDS = Bounds()


class Reads(Enum):
    FAIL = "503/504 within budget + margin, naming the dependency, no partial feed"
    OK = "200 with the right data within budget + margin"
    UNAFFECTED = "unaffected"


class Writes(Enum):
    APPLIED_AFTER_HEAL = "202 at normal latency; every acked write applied exactly once after heal"
    UNAFFECTED = "unaffected"


RPC_LINKS = ("api__feed_rpc", "api__card_rpc", "api__user_rpc")
CONSUMERS = ("post_consumer", "comment_consumer", "like_consumer")
ALL_CONSUMERS = "all_consumers"


@dataclass(frozen=True)
class Case:
    """One row applied to one target: what a single test runs."""

    row: ContractRow
    target: str
    fault: Fault

    @property
    def id(self) -> str:
        return f"{self.row.id}-{self.target}"

    @property
    def dependency(self) -> str:
        """The dependency a failed read must name: the server end of the link."""
        return self.target.partition("__")[2] or self.target

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class ContractRow:
    id: str  # short, used in test ids: "rpc_down"
    title: str
    fault_kind: str
    targets: tuple[str, ...]
    reads: Reads
    writes: Writes
    profiles: tuple[str, ...]  # pytest markers that select this row's tests
    attributes: dict[str, Any] = field(default_factory=dict)
    build: Callable[[str], Fault] | None = None  # for composite faults

    def fault_for(self, target: str) -> Fault:
        if self.build is not None:
            return self.build(target)
        return make_fault(self.fault_kind, target, **self.attributes)

    def cases(self) -> list[Case]:
        return [Case(self, t, self.fault_for(t)) for t in self.targets]


def _kill_consumers(target: str) -> Fault:
    names = CONSUMERS if target == ALL_CONSUMERS else (target,)
    return AllOf(target=target, parts=tuple(make_fault("kill", n) for n in names))


CONTRACT: tuple[ContractRow, ...] = (
    ContractRow(
        "rpc_down",
        "RPC link down (proxy disabled)",
        "down",
        RPC_LINKS,
        Reads.FAIL,
        Writes.UNAFFECTED,
        ("rpc_outage", "down"),
    ),
    ContractRow(
        "rpc_blackhole",
        "RPC link blackholed",
        "timeout",
        RPC_LINKS,
        Reads.FAIL,
        Writes.UNAFFECTED,
        ("rpc_outage", "blackhole"),
        {"timeout": 0, "stream": "downstream"},
    ),
    ContractRow(
        "rpc_reset",
        "RPC connections reset by peer",
        "reset_peer",
        RPC_LINKS,
        Reads.FAIL,
        Writes.UNAFFECTED,
        ("rpc_outage", "reset"),
        {"timeout": 0, "stream": "both"},
    ),
    ContractRow(
        "rpc_slow",
        "RPC slower than the read budget",
        "latency",
        RPC_LINKS,
        Reads.FAIL,
        Writes.UNAFFECTED,
        ("rpc_outage", "latency"),
        {"latency": int(BOUNDS.read_budget_s * 1500)},
    ),
    ContractRow(
        "rpc_latency",
        "RPC latency below the budget",
        "latency",
        RPC_LINKS,
        Reads.OK,
        Writes.UNAFFECTED,
        ("latency",),
        {"latency": 100, "jitter": 20},
    ),
    ContractRow(
        "consumers_killed",
        "Consumers killed while writes arrive",
        "kill",
        (*CONSUMERS, ALL_CONSUMERS),
        Reads.UNAFFECTED,
        Writes.APPLIED_AFTER_HEAL,
        ("consumer_outage", "process_kill"),
        build=_kill_consumers,
    ),
)


def read_cases() -> list[Case]:
    return [c for row in CONTRACT if row.reads is not Reads.UNAFFECTED for c in row.cases()]


def write_cases() -> list[Case]:
    return [c for row in CONTRACT if row.writes is not Writes.UNAFFECTED for c in row.cases()]


def row_by_id(row_id: str) -> ContractRow:
    return next(r for r in CONTRACT if r.id == row_id)
