"""Run a coroutine under a hard time bound that the caller actually gets back.

`asyncio.wait_for` waits for the cancelled coroutine to finish its cleanup, and
psycopg's cleanup after a cancelled query can itself wait seconds on a
blackholed link. Here the caller returns at the bound; the abandoned task
finishes its cleanup in the background.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
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
