"""The shared state's SQL, written once: the same statements run on SQLite or PostgreSQL.

The class's records (settings, quizzes, usage, the term of the day), suggestions, history,
study data and shared meta live in SQLite by default and in PostgreSQL when
``database_url`` is set (issue 20). Their modules talk to a :class:`Shared` instead of a
connection: ``fetch(sql, params)`` for one read, ``transaction()`` for writes, whose
connection has ``execute`` (returning the rows changed), ``executemany`` and ``fetch``.
SQL uses ``?`` or ``?N`` placeholders and what both dialects accept (``ON CONFLICT ... DO
NOTHING / DO UPDATE`` with the target table named in the update, ``RETURNING``, no
``INSERT OR REPLACE``, no SQLite-only functions); :func:`to_postgres` turns the
placeholders into ``$N``. The few statements that truly differ sit side by side in their
module, chosen by ``shared.remote``.

On SQLite, ``fetch`` is one ``execute_fetchall`` on the reader connection, exactly what the
modules did before, so the default path is as fast as it was.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Protocol

import aiosqlite

from bot.storage.database import Database

Row = tuple[Any, ...]
Params = Sequence[Any]


class Connection(Protocol):
    """The connection of one open transaction."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]: ...


class Shared(Protocol):
    """Where the state every process must agree on lives."""

    #: True for PostgreSQL: a commit's acknowledgement can be lost on the network, and
    #: other processes write at the same time.
    remote: bool

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]: ...

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Connection]: ...

    def wrote(self) -> None:
        """Called after a batch of writes (usage counts): SQLite checkpoints soon."""


# ----- SQLite: the embedded default ----------------------------------------------------


class SqliteShared:
    """Reads on the reader connection, writes in the database's one write transaction."""

    remote = False

    def __init__(self, db: Database) -> None:
        self.db = db

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.db.reader.execute_fetchall(sql, params)  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.db.transaction() as connection:
            yield _SqliteConnection(connection)

    def wrote(self) -> None:
        self.db.checkpoint_soon()


class _SqliteConnection:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._connection.execute_fetchall(sql, params)  # type: ignore[return-value]


# ----- PostgreSQL: shared by every process ----------------------------------------------


class PgShared:
    """Over :class:`bot.storage.postgres.PgDatabase`: asyncpg's errors for a server that
    is not there become ``SharedStateUnavailable`` there, so callers see one error."""

    remote = True

    def __init__(self, pg: Any) -> None:  # PgDatabase; Any keeps asyncpg out of SQLite's path
        self.pg = pg

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self.pg.fetch(to_postgres(sql), *params)]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pg.transaction() as connection:
            yield _PgConnection(connection)

    def wrote(self) -> None:
        pass


class _PgConnection:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        status = await self._connection.execute(to_postgres(sql), *params)
        # "UPDATE 3", "INSERT 0 1", "DELETE 0": the last word counts the rows.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(to_postgres(sql), list(rows))

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self._connection.fetch(to_postgres(sql), *params)]


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """``?`` (numbered in order) and ``?N`` placeholders as PostgreSQL's ``$N``; text in
    single quotes is left alone. One statement uses one style, as SQLite requires."""
    out: list[str] = []
    count = 0
    index = 0
    quoted = False
    while index < len(sql):
        char = sql[index]
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            end = index + 1
            while end < len(sql) and sql[end].isdigit():
                end += 1
            if end > index + 1:
                out.append("$" + sql[index + 1:end])
            else:
                count += 1
                out.append(f"${count}")
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out)
