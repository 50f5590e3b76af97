"""Read and write latency, through the proxies and direct, as a ratio.

One client per mode, one request at a time (closed loop, kept-alive
connection), the two modes alternating request by request: both see the same
machine at the same moment, which on a shared 2-core machine matters more
than anything else. Each round gives p50/p95/p99 per mode; the ratio of a
round is proxied over direct; the report gives each figure's median over the
rounds and its spread.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.stats import latency_percentiles, ratio, summarize
from bench.workload import WRITE_KINDS, World

MODES = ("proxied", "direct")


def _timed(call: Any) -> tuple[float, int]:
    t0 = time.perf_counter()
    resp = call()
    return time.perf_counter() - t0, resp.status_code


def run_round(
    clients: dict[str, httpx.Client], world: World, n: int, flip: bool
) -> dict[str, dict[str, list[float]]]:
    """n reads and n writes per mode, alternating modes; failures are counted, not timed."""
    order = MODES[::-1] if flip else MODES
    out: dict[str, dict[str, list[float]]] = {
        m: {"read": [], "write": [], "errors": []} for m in MODES
    }
    feed = f"/v1/feed/{world.reader}"
    for _ in range(n):
        for mode in order:
            seconds, status = _timed(lambda m=mode: clients[m].get(feed))
            out[mode]["read" if status == 200 else "errors"].append(seconds)
    for i in range(n):
        kind = WRITE_KINDS[i % len(WRITE_KINDS)]
        for mode in order:
            path, body = world.write(kind)
            seconds, status = _timed(lambda m=mode, p=path, b=body: clients[m].post(p, json=b))
            out[mode]["write" if status == 202 else "errors"].append(seconds)
    return out


def measure(
    proxied_url: str, direct_url: str, world: World, rounds: int, n: int, warmup: int
) -> dict[str, Any]:
    clients = {
        "proxied": httpx.Client(base_url=proxied_url, timeout=10.0),
        "direct": httpx.Client(base_url=direct_url, timeout=10.0),
    }
    try:
        run_round(clients, world, warmup, flip=False)  # connections, caches, prepared statements
        per_round = [run_round(clients, world, n, flip=bool(r % 2)) for r in range(rounds)]
    finally:
        for client in clients.values():
            client.close()
    result: dict[str, Any] = {"rounds": rounds, "requests_per_round": n}
    errors = {m: sum(len(r[m]["errors"]) for r in per_round) for m in MODES}
    result["errors"] = errors
    for path in ("read", "write"):
        figures: dict[str, Any] = {}
        # Rounds where both modes have answers (a round of nothing but errors has no latency).
        both = [r for r in per_round if all(r[m][path] for m in MODES)]
        if not both:
            result[path] = {"error": "no successful request in any round"}
            continue
        pcts = {m: [latency_percentiles(r[m][path]) for r in both] for m in MODES}
        for mode in MODES:
            figures[mode] = {
                key: summarize([p[key] for p in pcts[mode]]).to_json()
                for key in ("p50_ms", "p95_ms", "p99_ms")
            }
        figures["ratio"] = {
            key: summarize(
                [
                    ratio(a[key], b[key])
                    for a, b in zip(pcts["proxied"], pcts["direct"], strict=True)
                ]
            ).to_json()
            for key in ("p50_ms", "p95_ms", "p99_ms")
        }
        result[path] = figures
    return result
