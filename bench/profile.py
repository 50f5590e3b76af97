"""`python -m bench.profile drain|writes|reads`: where the time goes in one bench phase.

Runs the phase on a fresh stack while (1) py-spy samples the SUT processes
involved (collapsed stacks, the top frames printed) and (2) every stack
process's CPU time is read before and after, so the CPU split between the
consumers, PostgreSQL, Redis, Toxiproxy, RabbitMQ and the API is on record.
Output goes to reports/bench/profiles/<phase>-<time>/.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench import cpu, drain, throughput
from bench.workload import build_world
from harness.infra import REPO_ROOT
from harness.stack import LocalStack
from suites.contract import BOUNDS
from suites.state import StoreInspector


def cpu_by_component(stack: LocalStack) -> dict[str, float]:
    return cpu.by_component(stack)


def py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def top_frames(raw: Path, n: int = 25, own: bool = False) -> list[tuple[str, float]]:
    """Share of samples in which each function appears (inclusive), or is the innermost
    frame (`own`), from collapsed stacks; library frames are named by their package."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        k = int(count)
        total += k
        frames = stack.split(";")
        for frame in [frames[-1]] if own else set(frames):
            counts[frame] += k
    return [(f, c / total) for f, c in counts.most_common(n)] if total else []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("phase", choices=("drain", "writes", "reads"))
    p.add_argument("--writes", type=int, default=5000)
    p.add_argument("--seconds", type=float, default=8.0)
    args = p.parse_args(argv)
    out = REPO_ROOT / "reports" / "bench" / "profiles" / f"{args.phase}-{time.strftime('%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    with LocalStack(out / "stack", BOUNDS.sut_env()) as stack:
        e = stack.endpoints
        inspector = StoreInspector(e.postgres_dsn, e.redis_url, e.amqp_url)
        world = build_world(e.api_url, inspector, 1, posts=200, followed=10, bound_s=60)
        if args.phase == "drain":
            targets = list(drain.CONSUMERS)
            for name in targets:
                stack.processes[name].kill()
            burst = throughput.write_burst(e.api_url, world, args.writes, 32)
            for name in targets:
                stack.processes[name].start()
            before = cpu_by_component(stack)
            before["bench client"] = sum(os.times()[:2])
            spies = {n: py_spy(stack.processes[n].pid, out / f"{n}.txt", args.seconds)
                     for n in targets}  # fmt: skip
            t0 = time.monotonic()
            drain_wait = [drain.applied_count(inspector, burst.event_ids)]
            time.sleep(args.seconds)  # the sampling window
            drain_wait.append(drain.applied_count(inspector, burst.event_ids))
            elapsed = time.monotonic() - t0
            print(f"applied {drain_wait[1] - drain_wait[0]} in {elapsed:.1f}s")
        else:
            targets = ["api"]
            if args.phase == "writes":  # as the bench measures it: no consumer competing
                for name in drain.CONSUMERS:
                    stack.processes[name].kill()
            before = cpu_by_component(stack)
            before["bench client"] = sum(os.times()[:2])
            spies = {"api": py_spy(stack.processes["api"].pid, out / "api.txt", args.seconds)}
            t0 = time.monotonic()
            if args.phase == "writes":
                burst = throughput.write_burst(e.api_url, world, args.writes, 32)
                print(f"{burst.rate:.0f} acks/s")
            else:
                with httpx.Client(base_url=e.api_url) as http:
                    n = 0
                    while time.monotonic() - t0 < args.seconds:
                        http.get(f"/v1/feed/{world.reader}")
                        n += 1
                print(f"{n / (time.monotonic() - t0):.0f} reads/s")
            elapsed = time.monotonic() - t0
        after = cpu_by_component(stack)
        after["bench client"] = sum(os.times()[:2])
        for spy in spies.values():
            spy.wait(timeout=args.seconds + 30)
    print(f"CPU seconds per component over {elapsed:.1f}s wall (2 cores = {2 * elapsed:.1f}):")
    for name, value in sorted(after.items(), key=lambda kv: before.get(kv[0], 0) - kv[1]):
        used = value - before.get(name, 0)
        if used > 0.05:
            print(f"  {name:18s} {used:6.2f}  ({used / elapsed:.0%} of one core)")
    for name in targets:
        raw = out / f"{name}.txt"
        if raw.is_file():
            print(f"\n{name}: top frames (inclusive share of samples)")
            for frame, share in top_frames(raw):
                print(f"  {share:5.1%}  {frame[:150]}")
            print(f"{name}: top innermost frames (own time)")
            for frame, share in top_frames(raw, 15, own=True):
                print(f"  {share:5.1%}  {frame[:150]}")
    print(f"\nprofiles in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
