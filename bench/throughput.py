"""Write acknowledgement throughput: many concurrent clients, every 202 a broker confirm.

`concurrency` workers on one event loop share one connection pool and send
`total` writes (posts, comments, likes in turn) as fast as the API answers.
The rate is acknowledged writes over the wall time from the first request to
the last answer. The client runs on the same 2 cores as the stack, so its own
cost is part of the figure; it is kept small (aiohttp's client, a
kept-alive pool, no per-request work but the JSON body).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.workload import WRITE_KINDS, World


@dataclass
class WriteRun:
    sent: int = 0
    acked: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    events: dict[str, str] = field(default_factory=dict)  # acked event id -> kind
    kinds: dict[str, int] = field(default_factory=dict)
    cpu_ms: dict[str, Any] = field(default_factory=dict)  # per acked write, see bench.cpu

    @property
    def event_ids(self) -> list[str]:
        return list(self.events)

    @property
    def rate(self) -> float:
        return self.acked / self.elapsed_s if self.elapsed_s else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "acked": self.acked,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed_s, 3),
            "acked_per_s": round(self.rate, 1),
            "kinds": self.kinds,
            "cpu_ms_per_write": self.cpu_ms,
        }


async def _write_all(api_url: str, world: World, total: int, concurrency: int) -> WriteRun:
    run = WriteRun()
    # Bodies made up front: the timed loop does nothing but send and read answers.
    bodies = []
    for i in range(total):
        kind = WRITE_KINDS[i % len(WRITE_KINDS)]
        path, body = world.write(kind)
        bodies.append((kind, path, json.dumps(body).encode()))
        run.kinds[kind] = run.kinds.get(kind, 0) + 1
    queue = iter(bodies)
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10.0)

    async def worker(session: aiohttp.ClientSession) -> None:
        for kind, path, data in queue:  # one shared iterator: each body goes out once
            run.sent += 1
            try:
                async with session.post(path, data=data, headers=headers) as resp:
                    answer = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                name = type(exc).__name__
                run.errors[name] = run.errors.get(name, 0) + 1
                continue
            if status == 202:
                run.acked += 1
                run.events[json.loads(answer)["event_id"]] = kind
            else:
                run.errors[str(status)] = run.errors.get(str(status), 0) + 1

    async with aiohttp.ClientSession(api_url, connector=connector, timeout=timeout) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        run.elapsed_s = time.perf_counter() - t0
    return run


def write_burst(api_url: str, world: World, total: int, concurrency: int) -> WriteRun:
    return asyncio.run(_write_all(api_url, world, total, concurrency))
