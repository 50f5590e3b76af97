"""Fault to detection, and heal to the first good read, while a reader loops.

A reader thread reads the feed back to back through the proxied API. For
each repeat: some good reads, then the fault (make_fault, as the suites
apply it); detection is the first read that *ends* with an error, timed from
the moment the fault is in place (the inject call returned). Then the heal;
recovery is the first 200 that ends after the heal started (the suites' time
to recover starts there too). `down` refuses at once; `timeout` (a
blackhole) is only noticed when the read budget runs out, so it is the one
that tests "detected within the budget".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.stats import summarize
from faults import make_fault
from faults.base import Target

GOOD_READS_BEFORE = 5  # the reader must be serving before the fault goes in


@dataclass
class Read:
    start: float
    end: float
    status: int  # 0 when the client itself failed


class Reader:
    """Reads `path` back to back on a thread, recording each read's times and status."""

    def __init__(self, api_url: str, path: str) -> None:
        self.path = path
        self.reads: list[Read] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=api_url, timeout=10.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                status = self._http.get(self.path).status_code
            except httpx.HTTPError:
                status = 0
            with self._lock:
                self.reads.append(Read(t0, time.monotonic(), status))

    def first(self, after: float, ok: bool, bound_s: float) -> Read | None:
        """The first read ending after `after` that succeeded (ok) or failed (not ok)."""
        deadline = time.monotonic() + bound_s
        seen = 0
        while time.monotonic() < deadline:
            with self._lock:
                new = self.reads[seen:]
                seen = len(self.reads)
            for read in new:
                if read.end > after and (read.status == 200) == ok:
                    return read
            time.sleep(0.002)  # polling period; the reader thread does the work
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self._http.close()


def one_cycle(stack: Target, reader: Reader, kind: str, target: str) -> dict[str, float | None]:
    bound = 10.0
    if reader.first(time.monotonic(), ok=True, bound_s=bound) is None:
        raise RuntimeError("the reader gets no good read before the fault")
    fault = make_fault(kind, target)
    detected: Read | None
    with fault.applied(stack) as window:
        in_place = time.monotonic()
        detected = reader.first(in_place, ok=False, bound_s=bound)
    assert window.heal_started is not None
    recovered = reader.first(window.heal_started, ok=True, bound_s=bound)
    # A few good reads so the next cycle starts from a serving reader.
    for _ in range(GOOD_READS_BEFORE):
        reader.first(time.monotonic(), ok=True, bound_s=bound)
    return {
        "detect_s": None if detected is None else detected.end - in_place,
        "detecting_read_s": None if detected is None else detected.end - detected.start,
        "recover_s": None if recovered is None else recovered.end - window.heal_started,
    }


def measure(
    stack: Target, api_url: str, reader_id: int, kinds: list[str], target: str, repeats: int
) -> dict[str, Any]:
    reader = Reader(api_url, f"/v1/feed/{reader_id}")
    out: dict[str, Any] = {"target": target, "repeats": repeats}
    try:
        for kind in kinds:
            cycles = [one_cycle(stack, reader, kind, target) for _ in range(repeats)]
            figures: dict[str, Any] = {"cycles": cycles}
            for key in ("detect_s", "recover_s"):
                values = [c[key] for c in cycles if c[key] is not None]
                figures[key] = summarize(values).to_json() if values else None
                figures[f"{key}_max"] = max(values) if values else None
                figures[f"{key}_missed"] = len(cycles) - len(values)
            out[kind] = figures
    finally:
        reader.close()
    return out
