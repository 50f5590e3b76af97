"""PostgreSQL access: one small async pool per process, every call under a bound."""

from __future__ import annotations

from pathlib import Path

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

SCHEMA = Path(__file__).with_name("schema.sql")


def make_pool(dsn: str, store_timeout_s: float, max_size: int = 4) -> AsyncConnectionPool:
    """A pool that opens lazily, so a service starts even while the database is down."""
    statement_ms = max(int(store_timeout_s * 1000), 1)
    return AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=store_timeout_s,  # wait for a free connection
        # Give a failed reconnect up after 1 s instead of backing off for minutes:
        # the next request starts a fresh attempt, so recovery follows the heal.
        reconnect_timeout=1.0,
        # A pooled connection may be dead after a database restart: check it first.
        check=AsyncConnectionPool.check_connection,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": max(int(store_timeout_s + 1), 2),
            "options": f"-c statement_timeout={statement_ms}",
        },
    )


async def open_pool(pool: AsyncConnectionPool) -> None:
    await pool.open(wait=False)


async def apply_schema(conn: AsyncConnection) -> None:
    await conn.execute(SCHEMA.read_text())
