"""Resident memory of the stack: a sampler of the summed RSS, and each process's peak.

The sum of every process's VmHWM (its own peak) over-states the stack's peak
(the processes peak at different times, and a restarted consumer's earlier
peak is gone with it), so a thread also samples the summed VmRSS while the
benchmark runs; its maximum is the observed peak. Both count pages shared
between processes (PostgreSQL's shared buffers) once per process; the summed
Pss at the end splits them fairly and is the honest "how much RAM" figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from harness.process import ManagedProcess, proc_table, tree_of

PAGE_KB_FIELDS = ("VmRSS", "VmHWM")


def tree_pids(processes: Iterable[ManagedProcess]) -> list[int]:
    """Every live process of the given processes' trees, from one scan of /proc.

    (stack.all_pids() scans /proc once per process; sampled every second on a
    2-core machine that would itself show up in the figures.)
    """
    table = proc_table()
    pids: set[int] = set()
    for proc in processes:
        if proc.pid is not None and proc.is_running():
            pids.update(p for p, info in tree_of(proc.pid, table).items() if info.state not in "ZX")
    return sorted(pids)


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of one process in KiB (empty when it is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in PAGE_KB_FIELDS:
                    out[key] = int(rest.split()[0])
    except (OSError, ValueError):
        return {}
    return out


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def snapshot(pids: list[int]) -> dict[str, int]:
    """Summed RSS, HWM and PSS (KiB) of `pids` right now."""
    rss = hwm = pss = 0
    for pid in pids:
        st = status_kb(pid)
        rss += st.get("VmRSS", 0)
        hwm += st.get("VmHWM", 0)
        pss += pss_kb(pid)
    return {"rss_kb": rss, "hwm_kb": hwm, "pss_kb": pss, "processes": len(pids)}


class MemorySampler:
    """Samples the summed RSS of `pids()` on a daemon thread until stopped."""

    def __init__(self, pids: Callable[[], list[int]], interval_s: float = 1.0) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.peak_rss_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(status_kb(pid).get("VmRSS", 0) for pid in self.pids())
            self.peak_rss_kb = max(self.peak_rss_kb, total)
            self.samples += 1
            self._stop.wait(self.interval_s)  # the sampling period

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the peak seen and the stack's state now."""
        self._stop.set()
        self._thread.join(timeout=10)
        now = snapshot(self.pids())
        return {
            "peak_rss_mib": round(self.peak_rss_kb / 1024, 1),
            "sum_hwm_mib": round(now["hwm_kb"] / 1024, 1),
            "rss_now_mib": round(now["rss_kb"] / 1024, 1),
            "pss_now_mib": round(now["pss_kb"] / 1024, 1),
            "processes": now["processes"],
            "samples": self.samples,
        }
