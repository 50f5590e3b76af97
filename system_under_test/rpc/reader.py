"""Cache-first reads for the RPC services: Redis, then PostgreSQL on a miss.

A failing cache degrades to the database (and is skipped for a short while so
a blackholed Redis does not cost every read its socket timeout); a failing
database on a miss is an UNAVAILABLE answer naming it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from psycopg_pool import AsyncConnectionPool
from tenacity import AsyncRetrying, stop_after_attempt, wait_fixed

from system_under_test import variants
from system_under_test.store.bounded import bounded
from system_under_test.store.cache import Cache
from system_under_test.store.views import View

log = logging.getLogger(__name__)

# After a cache failure, go straight to the database for this long.
CACHE_BREAKER_S = 1.0


class StoreUnavailable(Exception):
    """The database could not answer a cache miss in time."""


class ViewReader:
    def __init__(
        self,
        cache: Cache,
        pool: AsyncConnectionPool,
        store_timeout_s: float,
        cache_timeout_s: float,
    ) -> None:
        self.cache = cache
        self.pool = pool
        self.store_timeout_s = store_timeout_s
        # The cache is an optimisation: a slow one must cost a read little, so its
        # bound is far below the database's (a blackholed Redis would otherwise eat
        # the read budget before the database is even asked).
        self.cache_timeout_s = cache_timeout_s
        self._cache_skip_until = 0.0

    def _cache_usable(self) -> bool:
        return time.monotonic() >= self._cache_skip_until

    def _cache_failed(self, exc: BaseException) -> None:
        log.warning("cache unavailable, reading the database: %s", exc)
        self._cache_skip_until = time.monotonic() + CACHE_BREAKER_S

    async def read_many(
        self, view: View, idents: list[Any], time_left_s: float
    ) -> list[dict[str, Any] | None]:
        keys = [view.key(i) for i in idents]
        cached: list[dict[str, Any] | None] = [None] * len(keys)
        cache_ok = self._cache_usable()
        if cache_ok and keys:
            try:
                cached = await bounded(self.cache.get_many(keys), self.cache_timeout_s)
            except Exception as exc:
                cache_ok = False
                self._cache_failed(exc)
        missing = [n for n, value in enumerate(cached) if value is None]
        if missing:
            deadline = time.monotonic() + min(self.store_timeout_s, time_left_s)
            loaded = await self._load(view, [idents[n] for n in missing], deadline)
            for n, value in zip(missing, loaded, strict=True):
                cached[n] = value
            if cache_ok:
                await self._fill(view, [(idents[n], cached[n]) for n in missing])
        return cached

    async def read(self, view: View, ident: Any, time_left_s: float) -> dict[str, Any] | None:
        return (await self.read_many(view, [ident], time_left_s))[0]

    async def _load(
        self, view: View, idents: list[Any], deadline: float
    ) -> list[dict[str, Any] | None]:
        async def load_all() -> list[dict[str, Any] | None]:
            async with self.pool.connection(
                timeout=max(deadline - time.monotonic(), 0.001)
            ) as conn:
                return [await view.load(conn, ident) for ident in idents]

        try:
            if variants.active("retries_past_deadline"):
                return await self._load_retrying_blindly(load_all)
            return await bounded(load_all(), deadline - time.monotonic())
        except Exception as exc:
            raise StoreUnavailable(f"database unavailable: {type(exc).__name__}: {exc}") from exc

    async def _load_retrying_blindly(self, load_all: Any) -> list[dict[str, Any] | None]:
        """The bug: four tries, each with a full store timeout, whatever the caller's deadline."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(4), wait=wait_fixed(0.5), reraise=True
        ):
            with attempt:
                return await bounded(load_all(), self.store_timeout_s)
        raise AssertionError("unreachable")

    async def _fill(self, view: View, entries: list[tuple[Any, dict[str, Any] | None]]) -> None:
        for ident, value in entries:
            if value is None:
                continue  # absence is never cached: it may be applied any moment
            try:
                await bounded(
                    self.cache.fill_if_absent(view.key(ident), value), self.cache_timeout_s
                )
            except Exception as exc:
                self._cache_failed(exc)
                return
