"""`python -m bench [--quick]`: start the stack once, measure, print the table, write JSON.

Order: the suite's overhead (read from a report), throwaway cold starts (local,
then containers where an engine answers), the measured local stack, its data,
latency through the proxies against a direct process set, fault detection and
recovery, then write throughput and backlog drain (which need the consumers
killed and so go last), with memory sampled all along. Everything it starts
is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import coldstart, cpu, direct, drain, faults, latency, memory, overhead, report
from bench.stats import summarize
from bench.workload import build_world
from harness.infra import REPO_ROOT
from suites.contract import BOUNDS
from suites.state import StoreInspector


@dataclass(frozen=True)
class Plan:
    cold_starts: int
    containers: int
    rounds: int
    requests: int
    writes: int
    concurrency: int
    drain_repeats: int
    fault_repeats: int


FULL = Plan(cold_starts=3, containers=2, rounds=5, requests=200, writes=10_000, concurrency=32,
            drain_repeats=3, fault_repeats=5)  # fmt: skip
QUICK = Plan(cold_starts=1, containers=0, rounds=2, requests=50, writes=2_000, concurrency=32,
             drain_repeats=1, fault_repeats=2)  # fmt: skip
FAULT_KINDS = ["down", "timeout"]  # refused at once / blackholed until the budget runs out
FAULT_TARGET = "api__card_rpc"


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer, smaller repeats (~1 min)")
    p.add_argument("--cold-starts", type=int, help="local stacks started (the last is measured)")
    p.add_argument("--containers", type=int, help="containers stack cold starts (0: skip)")
    p.add_argument("--rounds", type=int, help="latency rounds")
    p.add_argument("--requests", type=int, help="requests per mode, path and round")
    p.add_argument("--writes", type=int, help="backlog size per drain repeat (full: 10000)")
    p.add_argument("--concurrency", type=int, help="concurrent writers")
    p.add_argument("--drain-repeats", type=int, help="kill, write, restart, drain cycles")
    p.add_argument("--fault-repeats", type=int, help="cycles per fault kind")
    p.add_argument("--suite-report", type=Path, help="report.json (or run dir) of a full run")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "bench")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--markdown", type=Path, metavar="JSON", help="print a past run's table as Markdown; no run"
    )
    args = p.parse_args(argv)
    base = QUICK if args.quick else FULL
    plan = Plan(
        **{
            name: getattr(args, name) if getattr(args, name) is not None else default
            for name, default in base.__dict__.items()
        }
    )
    return args, plan


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, plan: Plan) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.out / f"run-{stamp}"  # stack logs stay here
    sut_env = BOUNDS.sut_env()  # configured as the suites configure it
    results: dict[str, Any] = {
        "schema": 1,
        "started": time.time(),
        "mode": "quick" if args.quick else "full",
        "plan": plan.__dict__,
        "machine": report.machine(),
        "git": report.git_revision(),
        "bounds": BOUNDS.to_json(),
    }
    results["suite_overhead"] = overhead.measure(args.suite_report, REPO_ROOT / "reports")

    cold_runs = []
    notes: list[str] = []  # what went wrong on the way and was worked around
    results["notes"] = notes
    for i in range(plan.cold_starts - 1):
        log(f"cold start {i + 1}/{plan.cold_starts} (throwaway)")
        cold_runs.append(coldstart.throwaway_local(work / f"local-{i}", sut_env, notes))
    log("containers stack cold starts" if plan.containers else "containers stack skipped")
    containers = coldstart.containers(work, sut_env, plan.containers)

    log(f"cold start {plan.cold_starts}/{plan.cold_starts} (the measured stack)")
    stack = coldstart.start_local(work / "stack", sut_env, notes)
    sampler: memory.MemorySampler | None = None
    try:
        cold_runs.append(dict(stack.timings))
        results["cold_start"] = {
            "local": coldstart.summarize_timings(cold_runs),
            "local_runs": cold_runs,
            "containers": containers,
        }
        sampler = memory.MemorySampler(
            lambda: memory.tree_pids([*stack.aux_processes.values(), *stack.processes.values()])
        )
        e = stack.endpoints
        inspector = StoreInspector(e.postgres_dsn, e.redis_url, e.amqp_url)
        log("building the data set")
        world = build_world(e.api_url, inspector, args.seed, posts=200, followed=10, bound_s=60)

        log("latency: through the proxies and direct")
        with direct.direct_set(e, sut_env, stack.logs_dir) as bypass:
            results["latency"] = latency.measure(
                e.api_url, bypass.api_url, world, plan.rounds, plan.requests, warmup=30
            )
            results["latency"]["direct_processes"] = [p.name for p in bypass.processes]

        log("fault to detection and heal to first good read")
        results["faults"] = faults.measure(
            stack, e.api_url, world.reader, FAULT_KINDS, FAULT_TARGET, plan.fault_repeats
        )
        results["faults"]["kinds"] = FAULT_KINDS
        results["faults"]["read_budget_s"] = BOUNDS.read_budget_s

        bursts, drains = [], []
        for i in range(plan.drain_repeats):
            log(f"throughput and drain {i + 1}/{plan.drain_repeats}: {plan.writes} writes")
            burst, drained = drain.drain_once(
                stack, inspector, world, plan.writes, plan.concurrency, bound_s=300
            )
            bursts.append(burst.to_json())
            drains.append(drained)
            log(f"  {burst.rate:.0f} acks/s, drained at {drained['events_per_s']:.0f} events/s")
        write_ms = summarize([b["cpu_ms_per_write"]["total"] for b in bursts])
        event_ms = summarize([d["cpu_ms_per_event"]["stack"] for d in drains])
        results["throughput"] = {
            "concurrency": plan.concurrency,
            "acked_per_s": summarize([b["acked_per_s"] for b in bursts]).to_json(),
            "cpu_ms_per_write": write_ms.to_json(),
            "ceiling_per_s": round(cpu.ceiling_per_s(write_ms.median)),
            "runs": bursts,
            "consumers": "stopped (the burst builds the drain's backlog)",
        }
        results["drain"] = {
            "backlog": plan.writes,
            "events_per_s": summarize([d["events_per_s"] for d in drains]).to_json(),
            "events_per_s_from_restart": summarize(
                [d["events_per_s_from_restart"] for d in drains]
            ).to_json(),
            "cpu_ms_per_event": event_ms.to_json(),
            "ceiling_per_s": round(cpu.ceiling_per_s(event_ms.median)),
            "runs": drains,
        }
    finally:
        if sampler is not None:
            results["memory"] = sampler.stop()
        log("stopping the stack")
        stack.stop()
    results["finished"] = time.time()
    results["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    args, plan = parse(argv)
    if args.markdown is not None:
        past = json.loads(args.markdown.read_text())
        print(report.markdown(report.rows(past, past["bounds"]["read_budget_s"])))
        return 0
    results = run(args, plan)
    table_rows = report.rows(results, BOUNDS.read_budget_s)
    results["table"] = [r.__dict__ for r in table_rows]
    path = report.write(results, args.out)
    m = results["machine"]
    print(
        f"feedchaos bench ({results['mode']}) on {m['cpu']}, {m['cores']} cores, "
        f"load {m['load_at_start']} -> {m['load_at_end']}, "
        f"git {results['git']['revision']}{'+dirty' if results['git']['dirty'] else ''}, "
        f"{results['finished'] - results['started']:.0f}s"
    )
    print(report.table(table_rows))
    for note in results.get("notes", []):
        print(f"note: {note}")
    print(f"\nwritten: {path} (and {args.out / 'latest.json'})")
    errors = [d.get("error") for d in results.get("drain", {}).get("runs", []) if d.get("error")]
    bad = [
        d["exactly_once"]
        for d in results.get("drain", {}).get("runs", [])
        if any(d["exactly_once"].values())
    ]
    if errors or bad:
        print(f"drain problems: {errors} {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
