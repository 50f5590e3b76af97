"""The Redis cache: JSON values that carry the database version they were read at.

Consumers overwrite an entry only with a newer version (so two consumers that
refresh the same key in either order leave the newest); RPC services fill a
miss only if the key is still absent (so a read can never overwrite a
consumer's fresher value with the older one it read before the commit).
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

# KEYS[1] = key, ARGV[1] = JSON value, ARGV[2] = its version.
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and decoded['v'] and tonumber(decoded['v']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def make_redis(url: str, store_timeout_s: float) -> aioredis.Redis:
    # Without socket timeouts a blackholed Redis hangs the caller forever.
    return aioredis.Redis.from_url(
        url,
        socket_timeout=store_timeout_s,
        socket_connect_timeout=store_timeout_s,
        retry_on_timeout=False,
        decode_responses=True,
    )


class Cache:
    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._set_if_newer = client.register_script(_SET_IF_NEWER)

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.client.get(key)
        return None if raw is None else json.loads(raw)

    async def get_many(self, keys: list[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        raws = await self.client.mget(keys)
        return [None if raw is None else json.loads(raw) for raw in raws]

    async def fill_if_absent(self, key: str, value: dict[str, Any]) -> None:
        await self.client.set(key, _dump(value), nx=True)

    async def store_if_newer(self, key: str, value: dict[str, Any]) -> bool:
        return bool(await self._set_if_newer(keys=[key], args=[_dump(value), value["v"]]))

    async def store_many_if_newer(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """`store_if_newer` for each (key, value), in one round trip (a pipeline, not atomic:
        each key is compared and set on its own, as one by one)."""
        if not items:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for key, value in items:
                await self._set_if_newer(keys=[key], args=[_dump(value), value["v"]], client=pipe)
            await pipe.execute()

    async def close(self) -> None:
        await self.client.aclose()


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
