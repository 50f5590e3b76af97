"""Bounded polling: the only way the suites wait for anything.

A wait is a condition polled under a bound, and it reports how long it took
(that figure goes into the report: time to recover, time to converge).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

T = TypeVar("T")


def poll(
    condition: Callable[[], T], bound_s: float, interval_s: float = 0.05
) -> tuple[T | None, float | None]:
    """Call `condition` until it returns something truthy or `bound_s` passes.

    Returns (that value, seconds it took), or (None, None) when the bound ran out.
    """
    start = time.monotonic()
    retrying = Retrying(
        stop=stop_after_delay(bound_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_result(lambda value: not value),
    )
    try:
        value = retrying(condition)
    except RetryError:
        return None, None
    return value, time.monotonic() - start
