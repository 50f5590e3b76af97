"""Backlog drain: kill the consumers, pile up writes, restart them, time until all applied.

The writes that build the backlog are the throughput measurement (the API and
the broker alone, with no consumer competing for the CPU). After the restart,
the drain rate is counted from the moment every consumer is attached to its
queue (what was applied before that moment is subtracted), until every event
has its processed_events row, which commits with the change itself. Then the
whole backlog is checked exactly once, both sides, straight in PostgreSQL.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import cpu
from bench.throughput import WriteRun, write_burst
from bench.workload import World, applied_count
from harness.stack import LocalStack
from suites.state import ROWS_PER_KIND, StoreInspector

CONSUMERS = ("post_consumer", "comment_consumer", "like_consumer")


def check_exactly_once(rows: dict[str, dict[str, int]], kinds: dict[str, str]) -> dict[str, int]:
    """Missing and duplicated events, and one-sided comments or likes, in applied rows."""
    missing = duplicated = one_sided = 0
    for event_id, kind in kinds.items():
        counts = rows[event_id]
        tables = ("processed_events", *ROWS_PER_KIND[kind])
        have = [counts[t] for t in tables]
        if all(c == 0 for c in have):
            missing += 1
        elif any(c > 1 for c in have):
            duplicated += 1
        elif any(c == 0 for c in have):
            one_sided += 1
    return {"missing": missing, "duplicated": duplicated, "one_sided": one_sided}


def drain_once(
    stack: LocalStack,
    inspector: StoreInspector,
    world: World,
    writes: int,
    concurrency: int,
    bound_s: float,
) -> tuple[WriteRun, dict[str, Any]]:
    for name in CONSUMERS:
        stack.processes[name].kill()
    before = cpu.by_component(stack, with_client=True)
    burst = write_burst(stack.endpoints.api_url, world, writes, concurrency)
    burst.cpu_ms = cpu.per_op_ms(before, cpu.by_component(stack, with_client=True), burst.acked)
    ids = burst.event_ids
    t_spawn = time.monotonic()
    for name in CONSUMERS:
        stack.processes[name].spawn()
    with ThreadPoolExecutor(len(CONSUMERS)) as pool:
        for fut in [pool.submit(stack.processes[n].wait_ready) for n in CONSUMERS]:
            fut.result()
    t_ready = time.monotonic()
    before = cpu.by_component(stack)  # the consumers' start-up is not the drain's cost
    at_ready = applied_count(inspector, ids)
    curve = [[round(t_ready - t_spawn, 3), at_ready]]
    done = at_ready
    deadline = t_ready + bound_s
    while done < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling period
        done = applied_count(inspector, ids)
        curve.append([round(time.monotonic() - t_spawn, 3), done])
    t_end = time.monotonic()
    cpu_ms = cpu.per_op_ms(before, cpu.by_component(stack), done - at_ready)
    result: dict[str, Any] = {
        "backlog": len(ids),
        "applied": done,
        "restart_to_ready_s": round(t_ready - t_spawn, 3),
        "applied_at_ready": at_ready,
        "ready_to_drained_s": round(t_end - t_ready, 3),
        "events_per_s": round((done - at_ready) / (t_end - t_ready), 1) if t_end > t_ready else 0,
        "events_per_s_from_restart": round(done / (t_end - t_spawn), 1),
        "cpu_ms_per_event": cpu_ms,
        "curve": curve[:: max(1, len(curve) // 60)],  # enough to draw it, no more
    }
    if done < len(ids):
        result["error"] = f"{len(ids) - done} events not applied within {bound_s}s"
    result["exactly_once"] = check_exactly_once(inspector.applied_rows(ids), burst.events)
    return burst, result
