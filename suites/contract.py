"""The resilience contract as data: what each fault must do to reads and writes.

One row per (fault, set of targets). Every row is checked on both paths: the
test for a row and a target applies the fault, reads and writes through it,
heals, and judges the read expectation and the write expectation of the row
(an "unaffected" side is checked too). Adding a row adds tests; each test id
names the row and the target. The report's scorecard is drawn from the rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from faults import Fault, make_fault
from faults.composite import AllOf, Flapping, Partition, random_schedule


@dataclass(frozen=True)
class Bounds:
    """Every number the contract promises, in one place (the stack is configured from it)."""

    read_budget_s: float = 1.0  # FEED_READ_BUDGET_MS: the whole feed read
    margin_s: float = 0.3  # a failed read answers within budget + margin
    recovery_s: float = 3.0  # first good read (or write) after a heal
    write_ack_s: float = 0.5  # a 202 at "normal latency"
    publish_timeout_s: float = 1.0  # FEED_PUBLISH_TIMEOUT_MS: a write's 503 comes by then
    convergence_s: float = 30.0  # every acked write applied after the heal
    reattach_s: float = 20.0  # consumers back on their queues after a broker restart
    consumer_retry_s: float = 2.0  # FEED_RETRY_SECONDS: a consumer's retries of one delivery

    @property
    def read_bound_s(self) -> float:
        return self.read_budget_s + self.margin_s

    @property
    def reject_bound_s(self) -> float:
        return self.publish_timeout_s + self.margin_s

    def sut_env(self) -> dict[str, str]:
        return {
            "FEED_READ_BUDGET_MS": str(int(self.read_budget_s * 1000)),
            "FEED_PUBLISH_TIMEOUT_MS": str(int(self.publish_timeout_s * 1000)),
            "FEED_RETRY_SECONDS": str(self.consumer_retry_s),
        }

    def to_json(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


BOUNDS = Bounds()


class Reads(Enum):
    FAIL = "503/504 within budget + margin, naming the dependency, no partial feed"
    OK = "200 with the right data within budget + margin"
    DEGRADED = "200 with the right data, served from the database"
    WARM_OK_MISS_FAIL = "200 on a warm cache; 503 naming the dependency on a miss"
    OK_OR_FAIL = "each read right or a clean failure, never partial"
    UNAFFECTED = "unaffected"


class Writes(Enum):
    HELD_THEN_APPLIED = "202 at normal latency; held during the fault, applied exactly once after"
    APPLIED = "202 at normal latency; applied exactly once; cache equals database after heal"
    REJECTED = "503 within the publish bound, never 202; a keyed retry after heal applies once"
    OK_OR_REJECTED = "202 or 503 each; keyed retries after heal; all applied exactly once"
    SURVIVE_RESTART = "acked writes survive; publisher and consumers reconnect by themselves"
    REDELIVERED_ONCE = "a redelivery after a crash between commit and ack applies nothing twice"
    ATOMIC = "a crash in the middle of applying leaves both sides or neither; applied once after"
    UNAFFECTED = "unaffected"


RPC_SERVICES = ("feed_rpc", "card_rpc", "user_rpc")
RPC_LINKS = tuple(f"api__{s}" for s in RPC_SERVICES)
CONSUMERS = ("post_consumer", "comment_consumer", "like_consumer")
ALL_CONSUMERS = "all_consumers"
STORE_CLIENTS = (*RPC_SERVICES, *CONSUMERS, "social_consumer")


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
        """The dependency a failed read must name."""
        if self.row.names_dependency:
            return self.row.names_dependency
        server = self.target.partition("__")[2]
        return server or self.target

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
    build: Callable[[str], Fault] | None = None  # composite faults
    hold_s: float = 0.0  # keep the fault on this long (reading meanwhile) before healing
    then: Callable[[], Fault] | None = None  # a second fault applied inside the first
    names_dependency: str | None = None  # when it is not the link's server side
    scenario: str = "standard"
    reads_slower_than_s: float | None = None  # proof that an OK-reads fault was really on

    def fault_for(self, target: str) -> Fault:
        if self.build is not None:
            return self.build(target)
        return make_fault(self.fault_kind, target, **self.attributes)

    def cases(self) -> list[Case]:
        return [Case(self, t, self.fault_for(t)) for t in self.targets]

    @property
    def paths(self) -> tuple[str, ...]:
        out = []
        if self.reads is not Reads.UNAFFECTED:
            out.append("read_path")
        if self.writes is not Writes.UNAFFECTED:
            out.append("write_path")
        return tuple(out)


def _consumers(target: str) -> tuple[str, ...]:
    return CONSUMERS if target == ALL_CONSUMERS else (target,)


def _on_consumers(kind: str, **attrs: Any) -> Callable[[str], Fault]:
    def build(target: str) -> Fault:
        return AllOf(
            target=target, parts=tuple(make_fault(kind, c, **attrs) for c in _consumers(target))
        )

    return build


def _on_consumer_links(server: str, kind: str, **attrs: Any) -> Callable[[str], Fault]:
    def build(target: str) -> Fault:
        return AllOf(
            target=target,
            parts=tuple(make_fault(kind, f"{c}__{server}", **attrs) for c in _consumers(target)),
        )

    return build


def _all_links_to(server: str) -> Callable[[str], Fault]:
    return lambda target: Partition(
        target=target, links=tuple(f"{c}__{server}" for c in STORE_CLIENTS)
    )


def _all_links_blackholed(server: str) -> Callable[[str], Fault]:
    return lambda target: AllOf(
        target=target,
        parts=tuple(make_fault("timeout", f"{c}__{server}", timeout=0) for c in STORE_CLIENTS),
    )


def _db_cut_for_all_consumers(target: str) -> Fault:
    return Partition(target=target, links=tuple(f"{c}__postgres" for c in CONSUMERS))


def _restart_broker(graceful: bool) -> Callable[[], Fault]:
    return lambda: make_fault("restart", "rabbitmq", graceful=graceful)


RPC_FAIL = (Reads.FAIL, Writes.UNAFFECTED)
RPC_OK = (Reads.OK, Writes.UNAFFECTED)

# fmt: off
CONTRACT: tuple[ContractRow, ...] = (
    # -- an RPC dependency fails: reads fail cleanly and recover ------------------
    ContractRow("rpc_down", "RPC link down (proxy disabled)", "down", RPC_LINKS,
                *RPC_FAIL, ("rpc_outage", "down")),
    ContractRow("rpc_blackhole", "RPC link blackholed", "timeout", RPC_LINKS,
                *RPC_FAIL, ("rpc_outage", "blackhole"), {"timeout": 0}),
    ContractRow("rpc_reset", "RPC connections reset by peer", "reset_peer", RPC_LINKS,
                *RPC_FAIL, ("rpc_outage", "reset"), {"timeout": 0, "stream": "both"}),
    ContractRow("rpc_limit_data", "RPC connections cut after a few bytes", "limit_data",
                RPC_LINKS, *RPC_FAIL, ("rpc_outage", "reset"), {"bytes": 16}),
    ContractRow("rpc_slow", "RPC slower than the read budget", "latency", RPC_LINKS,
                *RPC_FAIL, ("rpc_outage", "latency"),
                {"latency": int(BOUNDS.read_budget_s * 1500)}),
    ContractRow("rpc_killed", "RPC service killed (SIGKILL)", "kill", RPC_SERVICES,
                *RPC_FAIL, ("rpc_outage", "process_kill")),
    ContractRow("rpc_paused", "RPC service paused (SIGSTOP)", "pause", RPC_SERVICES,
                *RPC_FAIL, ("rpc_outage", "process_pause")),
    ContractRow("rpc_long_down", "RPC link down for 5 s, then recovery", "down", RPC_LINKS,
                *RPC_FAIL, ("rpc_outage", "down"), hold_s=5.0),
    ContractRow("rpc_very_long_down", "RPC link down for 30 s, then recovery", "down",
                RPC_LINKS, *RPC_FAIL, ("rpc_outage", "down", "slow"), hold_s=30.0),
    ContractRow("rpc_partition", "API cut from every RPC service", "partition", ("api_rpc",),
                *RPC_FAIL, ("rpc_outage", "down"), names_dependency="feed_rpc",
                build=lambda t: Partition(target=t, links=RPC_LINKS)),
    ContractRow("rpc_flapping", "RPC link flapping (seeded)", "flapping", RPC_LINKS,
                Reads.OK_OR_FAIL, Writes.UNAFFECTED, ("rpc_outage", "down"),
                build=lambda t: Flapping(target=t, seed=zlib.crc32(t.encode()), duration_s=2.5)),
    ContractRow("rpc_nemesis", "seeded schedule of RPC link faults", "schedule", ("api_rpc",),
                Reads.OK_OR_FAIL, Writes.UNAFFECTED, ("rpc_outage", "blackhole", "reset"),
                build=lambda t: random_schedule(1729, RPC_LINKS, steps=4, name=t)),
    # -- degraded but within the budget: reads still answer right -----------------
    ContractRow("rpc_latency", "RPC latency below the budget", "latency", RPC_LINKS,
                *RPC_OK, ("latency",), {"latency": 100, "jitter": 20}, reads_slower_than_s=0.08),
    ContractRow("rpc_bandwidth", "RPC link throttled to 64 KB/s", "bandwidth", RPC_LINKS,
                *RPC_OK, ("bandwidth",), {"rate": 64, "stream": "both"}),
    ContractRow("rpc_slicer", "RPC data sliced into small delayed chunks", "slicer", RPC_LINKS,
                *RPC_OK, ("slicer",), {"average_size": 32, "size_variation": 16, "delay": 200}),
    ContractRow("rpc_slow_close", "RPC connections slow to close", "slow_close", RPC_LINKS,
                *RPC_OK, ("latency",), {"delay": 2000}),
    # -- consumers out: writes acked now, applied exactly once after the heal -----
    ContractRow("consumers_killed", "Consumers killed (SIGKILL)", "kill",
                (*CONSUMERS, ALL_CONSUMERS), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "process_kill"), build=_on_consumers("kill")),
    ContractRow("consumers_terminated", "Consumers stopped (SIGTERM)", "terminate",
                (ALL_CONSUMERS,), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "process_kill"), build=_on_consumers("terminate")),
    ContractRow("consumers_paused", "Consumers paused (SIGSTOP)", "pause",
                (*CONSUMERS, ALL_CONSUMERS), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "process_pause"), build=_on_consumers("pause")),
    ContractRow("consumers_cut_broker", "Consumers cut from the broker", "down",
                (ALL_CONSUMERS,), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "down"), build=_on_consumer_links("rabbitmq", "down")),
    ContractRow("consumers_blackholed_broker", "Consumers' broker link blackholed", "timeout",
                (ALL_CONSUMERS,), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "blackhole"),
                build=_on_consumer_links("rabbitmq", "timeout", timeout=0)),
    ContractRow("consumers_cut_db", "Consumers cut from the database", "down",
                (*CONSUMERS, ALL_CONSUMERS), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "db_outage", "down"),
                build=_on_consumer_links("postgres", "down")),
    ContractRow("consumers_cut_db_long", "Consumers cut from the database past their retries",
                "down", (ALL_CONSUMERS,), Reads.UNAFFECTED, Writes.HELD_THEN_APPLIED,
                ("consumer_outage", "db_outage", "down"),
                build=_on_consumer_links("postgres", "down"), hold_s=5.0),
    # Held past the retries of every delivery: a later delivery's full refresh would
    # otherwise repair a list an earlier, swallowed one left stale.
    ContractRow("consumers_cut_cache", "Consumers cut from the cache past their retries",
                "down", (ALL_CONSUMERS,), Reads.UNAFFECTED, Writes.APPLIED,
                ("consumer_outage", "cache_outage", "down"),
                build=_on_consumer_links("redis", "down"), hold_s=10.0),
    ContractRow("redelivery", "Consumer killed between commit and ack", "kill", CONSUMERS,
                Reads.UNAFFECTED, Writes.REDELIVERED_ONCE, ("consumer_outage", "process_kill"),
                scenario="redelivery"),
    ContractRow("crash_mid_apply", "Consumer killed while applying (slow database)", "kill",
                ("comment_consumer", "like_consumer"), Reads.UNAFFECTED, Writes.ATOMIC,
                ("consumer_outage", "process_kill", "latency"), scenario="crash_mid_apply"),
    # -- the broker: cut from the API, restarted ------------------------------------
    ContractRow("api_broker_down", "API cut from the broker", "down", ("api__rabbitmq",),
                Reads.UNAFFECTED, Writes.REJECTED, ("broker_outage", "down")),
    ContractRow("api_broker_reset", "API-broker connections reset", "reset_peer",
                ("api__rabbitmq",), Reads.UNAFFECTED, Writes.REJECTED, ("broker_outage", "reset"),
                {"timeout": 0, "stream": "both"}),
    ContractRow("api_broker_blackhole", "API-broker link blackholed (confirms lost)", "timeout",
                ("api__rabbitmq",), Reads.UNAFFECTED, Writes.REJECTED,
                ("broker_outage", "blackhole"), {"timeout": 0}),
    ContractRow("api_broker_flapping", "API-broker link flapping (seeded)", "flapping",
                ("api__rabbitmq",), Reads.UNAFFECTED, Writes.OK_OR_REJECTED,
                ("broker_outage", "down"),
                build=lambda t: Flapping(target=t, seed=11, duration_s=3.0, period_s=0.8)),
    ContractRow("broker_restart", "Broker restarted gracefully with a backlog", "restart",
                ("rabbitmq",), Reads.UNAFFECTED, Writes.SURVIVE_RESTART,
                ("broker_outage", "process_kill"), build=_db_cut_for_all_consumers,
                then=_restart_broker(graceful=True)),
    ContractRow("broker_kill9", "Broker killed (SIGKILL) and restarted with a backlog",
                "restart", ("rabbitmq",), Reads.UNAFFECTED, Writes.SURVIVE_RESTART,
                ("broker_outage", "process_kill"), build=_db_cut_for_all_consumers,
                then=_restart_broker(graceful=False)),
    ContractRow("broker_paused", "Broker paused (SIGSTOP)", "pause", ("rabbitmq",),
                Reads.UNAFFECTED, Writes.REJECTED, ("broker_outage", "process_pause")),
    # -- the stores -----------------------------------------------------------------
    ContractRow("cache_down", "Cache unreachable from every service", "partition",
                ("redis",), Reads.DEGRADED, Writes.APPLIED, ("cache_outage", "down"),
                build=_all_links_to("redis")),
    ContractRow("cache_blackholed", "Cache blackholed for every service", "timeout",
                ("redis",), Reads.DEGRADED, Writes.APPLIED, ("cache_outage", "blackhole"),
                build=_all_links_blackholed("redis")),
    ContractRow("cache_killed", "Cache killed (SIGKILL), restarted empty", "kill",
                ("redis",), Reads.DEGRADED, Writes.APPLIED, ("cache_outage", "process_kill")),
    ContractRow("db_down", "Database unreachable from every service", "partition",
                ("postgres",), Reads.WARM_OK_MISS_FAIL, Writes.HELD_THEN_APPLIED,
                ("db_outage", "down"), build=_all_links_to("postgres"),
                names_dependency="feed_rpc"),
    ContractRow("db_blackholed", "Database blackholed for every service", "timeout",
                ("postgres",), Reads.WARM_OK_MISS_FAIL, Writes.HELD_THEN_APPLIED,
                ("db_outage", "blackhole"), build=_all_links_blackholed("postgres"),
                names_dependency="feed_rpc"),
    ContractRow("db_killed", "Database killed (SIGKILL) and restarted", "kill",
                ("postgres",), Reads.WARM_OK_MISS_FAIL, Writes.HELD_THEN_APPLIED,
                ("db_outage", "process_kill"), names_dependency="feed_rpc"),
)
# fmt: on


def cases(path: str | None = None) -> list[Case]:
    """Every case, or those of rows that check `path` (read_path / write_path)."""
    return [c for row in CONTRACT if path is None or path in row.paths for c in row.cases()]


def markdown() -> str:
    """The contract as a Markdown table (docs/contract.md is this, kept in sync by a test)."""
    lines = [
        "# The resilience contract",
        "",
        "Generated from `suites/contract.py` by `python -m suites.contract > docs/contract.md`;",
        "`tests/test_contract.py` fails when the two drift apart. Each row runs once per",
        "target as `suites/test_contract.py::test_contract[<row>-<target>]`.",
        "",
        "Bounds: " + ", ".join(f"{k} = {v}" for k, v in BOUNDS.to_json().items()) + ".",
        "",
        "| row | fault | targets | reads | writes | profiles |",
        "|---|---|---|---|---|---|",
    ]
    for row in CONTRACT:
        lines.append(
            f"| `{row.id}` | {row.title} | {', '.join(row.targets)} | {row.reads.value} | "
            f"{row.writes.value} | {', '.join(row.profiles)} |"
        )
    lines += ["", f"{len(CONTRACT)} rows, {len(cases())} tests."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
