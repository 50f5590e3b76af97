"""CPU time used by each stack component over a phase, from /proc (utime + stime).

On a shared 2-core machine a rate says as much about the neighbours as about
the system; the CPU it cost per operation does not, and gives the ceiling the
system would reach with the cores to itself: cores x 1000 / (CPU ms per op).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harness.stack import LocalStack

TICKS = os.sysconf("SC_CLK_TCK")
CLIENT = "bench client"


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS


def by_component(stack: LocalStack, with_client: bool = False) -> dict[str, float]:
    """Seconds of CPU each live stack process (with its children) has used so far."""
    procs = {**stack.aux_processes, **stack.processes}
    out = {name: cpu_s(p.alive_pids()) for name, p in procs.items()}
    if with_client:
        out[CLIENT] = sum(os.times()[:2])  # this process: the load generator and its threads
    return out


def per_op_ms(before: Mapping[str, float], after: Mapping[str, float], ops: int) -> dict[str, Any]:
    """CPU milliseconds per operation, per component (those that used any) and in total."""
    if ops <= 0:
        return {}
    used = {k: after[k] - before.get(k, 0.0) for k in after}
    parts = {k: round(v * 1000 / ops, 3) for k, v in used.items() if v > 0}
    stack_only = sum(v for k, v in parts.items() if k != CLIENT)
    return {
        "total": round(sum(parts.values()), 3),
        "stack": round(stack_only, 3),
        "parts": dict(sorted(parts.items(), key=lambda kv: -kv[1])),
    }


def ceiling_per_s(cpu_ms_per_op: float, cores: int | None = None) -> float:
    """Operations per second if the machine's cores did nothing else."""
    cores = cores or os.cpu_count() or 1
    return cores * 1000 / cpu_ms_per_op if cpu_ms_per_op > 0 else float("inf")
