"""Apply the schema once before the services start: `python -m system_under_test.store.migrate`."""

from __future__ import annotations

import asyncio

from psycopg import AsyncConnection

from system_under_test.config import Settings
from system_under_test.store.db import apply_schema


async def main() -> None:
    settings = Settings.from_env()
    async with await AsyncConnection.connect(settings.postgres_dsn, autocommit=True) as conn:
        await apply_schema(conn)


if __name__ == "__main__":
    asyncio.run(main())
