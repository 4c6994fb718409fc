"""PostgreSQL: the shared state of several processes, through one asyncpg pool.

With ``database_url`` set, what every process must agree on lives here (issue 20); each
process keeps answering lookups from its own local SQLite index, so this module is only on
the paths that write or coordinate. asyncpg's errors never reach a cog: ``connection()``
and ``transaction()`` turn a server that is down, restarting or unreachable into
``SharedStateUnavailable``, which the command tree answers with "try again in a moment".
No transaction is held across an await on Discord: callers open one, run their SQL, and
leave the block before they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from bot.errors import SharedStateUnavailable
from bot.storage.pg_migrations import PG_MIGRATIONS

log = logging.getLogger(__name__)

# Processes that start together migrate one at a time: the first takes this lock, the others
# then find the schema current. Any fixed 64-bit number unique to this application.
_MIGRATION_LOCK = 0x6C6F7373617279  # "lossary"
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0

# What "PostgreSQL is not there right now" looks like from asyncpg: refused or reset
# connections, a server shutting down or starting up, a pool closed under us, timeouts.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.ConnectionFailureError,
)


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


class PgDatabase:
    """The pool; open with ``await PgDatabase.open(url)``, close with ``await close()``."""

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PgDatabase:
        """Connect and bring the schema up to date. Raises SharedStateUnavailable when the
        server cannot be reached at start-up, so the operator reads one clear line."""
        try:
            pool = await asyncpg.create_pool(
                url, min_size=min_size, max_size=max_size, timeout=CONNECT_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
                # A pooled connection a restarted server dropped is noticed and replaced.
                max_inactive_connection_lifetime=60.0,
            )
        except UNAVAILABLE as exc:
            raise SharedStateUnavailable(
                f"PostgreSQL at {redacted(url)} is not reachable ({exc.__class__.__name__})"
            ) from None
        database = cls(url, pool)
        try:
            await database._migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        with contextlib.suppress(*UNAVAILABLE):
            await asyncio.wait_for(self.pool.close(), timeout=10)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection outside a transaction (each statement commits by itself)."""
        try:
            async with self.pool.acquire(timeout=CONNECT_TIMEOUT) as connection:
                yield connection
        except UNAVAILABLE as exc:
            raise SharedStateUnavailable(str(exc) or exc.__class__.__name__) from None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction: everything in the block commits together or not at all."""
        async with self.connection() as connection:
            try:
                async with connection.transaction():
                    yield connection
            except UNAVAILABLE as exc:
                raise SharedStateUnavailable(str(exc) or exc.__class__.__name__) from None

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        async with self.connection() as connection:
            try:
                return await connection.fetch(sql, *args)
            except UNAVAILABLE as exc:
                raise SharedStateUnavailable(str(exc) or exc.__class__.__name__) from None

    async def execute(self, sql: str, *args: Any) -> str:
        async with self.connection() as connection:
            try:
                return await connection.execute(sql, *args)
            except UNAVAILABLE as exc:
                raise SharedStateUnavailable(str(exc) or exc.__class__.__name__) from None

    async def schema_version(self) -> int:
        rows = await self.fetch("SELECT max(version) FROM schema_migrations")
        return rows[0][0] or 0

    async def _migrate(self) -> None:
        """Apply PG_MIGRATIONS not yet applied, each in its own transaction, under an
        advisory lock so that processes starting at once do not race."""
        async with self.transaction() as db:
            await db.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            current = await db.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            if current > len(PG_MIGRATIONS):
                raise RuntimeError(
                    f"PostgreSQL schema version {current} is newer than this bot "
                    f"({len(PG_MIGRATIONS)}); upgrade the bot or point it at another database"
                )
            for number in range(current, len(PG_MIGRATIONS)):
                log.info("Migrating PostgreSQL to schema version %d", number + 1)
                async with db.transaction():  # a savepoint: one migration, all or nothing
                    await db.execute(PG_MIGRATIONS[number])
                    await db.execute("INSERT INTO schema_migrations(version) VALUES ($1)",
                                     number + 1)
