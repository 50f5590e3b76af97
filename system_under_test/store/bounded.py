"""Run a coroutine under a hard time bound that the caller actually gets back.

`asyncio.wait_for` waits for the cancelled coroutine to finish its cleanup, and
psycopg's cleanup after a cancelled query can itself wait seconds on a
blackholed link. Here the caller returns at the bound; the abandoned task
finishes its cleanup in the background.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_abandoned: set[asyncio.Task] = set()


async def bounded(awaitable: Awaitable[T], seconds: float) -> T:
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if task in done:
        return task.result()
    _abandon(task)
    raise TimeoutError(f"no answer within {seconds:.3f}s")


def _abandon(task: asyncio.Task) -> None:
    task.cancel()
    _abandoned.add(task)  # keep a reference until its cleanup is over
    task.add_done_callback(_forget)


def _forget(task: asyncio.Task) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # mark retrieved: an abandoned failure is expected, not news


class Progress:
    """Ticked by a long piece of work after each step it finishes."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        self.last = time.monotonic()


async def bounded_progress(work: Callable[[Progress], Awaitable[T]], idle_s: float) -> T:
    """Like `bounded`, but the bound is on a stall, not on the whole: the caller gets
    TimeoutError once `work` has gone `idle_s` without a tick.

    A batch of steps may take longer than one step's bound as long as every step
    finishes within it, so a slow but working store keeps making progress, and a
    dead one is given up on as fast as for a single step.
    """
    progress = Progress()
    task = asyncio.ensure_future(work(progress))
    try:
        while True:
            left = progress.last + idle_s - time.monotonic()
            if left <= 0:
                break
            done, _ = await asyncio.wait({task}, timeout=left)
            if task in done:
                return task.result()
    except asyncio.CancelledError:
        _abandon(task)
        raise
    _abandon(task)
    raise TimeoutError(f"no progress within {idle_s:.3f}s (after {progress.steps} steps)")
