"""The database: its two connections, write transactions, migrations, meta and checkpoints.

Two aiosqlite connections share one WAL database: reloads write on one while lookups read
on the other, so a reader sees the old glossary or the new one (each lookup is a single
statement, hence a single snapshot), never a mix, and a long reload never queues lookups
behind it. Every aiosqlite await is a thread hop, so readers make one ``execute_fetchall``
per lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)

_PRAGMAS = """
PRAGMA busy_timeout = 5000;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
"""
# Switching a new file to WAL does not wait in the busy handler: connections (shards)
# opening one new file at once got "database is locked" about once in fifteen. So it is
# tried again for a while (each try is instant; the lock is held for microseconds).
_WAL_TRIES = 50
_WAL_RETRY_SECONDS = 0.02
# A reload in another process (a shard) may hold the write lock for seconds on a large
# glossary; writes here wait for it rather than fail. Everything that writes while a user
# waits has deferred its answer first.
_WRITER_PRAGMAS = (
    "PRAGMA busy_timeout = 60000; PRAGMA cache_size = -16000;"
    # Committing would first copy the write into the database file (seconds, for a large
    # reload); checkpoints run after reloads and usage flushes instead, off the answer path.
    "PRAGMA wal_autocheckpoint = 0;"
)
# The writer's thread runs below the event loop's priority, as the parse workers do: during
# a large reload it tokenizes prose for seconds without the GIL, and at equal priority it
# and the two workers left the serving thread waiting tens of ms for a core.
WRITER_NICE = 10


def _lower_this_threads_priority() -> int:
    """Called as an SQL function, so it runs on the writer connection's own thread. Linux
    only: elsewhere a thread id is not something setpriority() accepts."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            current = os.getpriority(os.PRIO_PROCESS, 0)  # 0: the calling thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), current + WRITER_NICE)
    return 0


class Database:
    """The connections; open with ``await Database.open(path)``."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self.writer = writer
        self.reader = reader  # query_only: every read of the serving path goes here
        self._write_lock = asyncio.Lock()
        self._checkpoint_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _use_wal(writer)
            await writer.executescript(_PRAGMAS + _WRITER_PRAGMAS)
            await writer.create_function("lower_priority", 0, _lower_this_threads_priority)
            await writer.execute_fetchall("SELECT lower_priority()")
            await _migrate(writer)
            reader = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            await writer.close()
            raise
        try:
            await reader.executescript(_PRAGMAS + "PRAGMA query_only = ON;")
        except BaseException:
            await reader.close()
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def close(self) -> None:
        """Close both connections: aiosqlite threads are not daemons and would keep the
        process alive."""
        if self._checkpoint_task is not None:
            await asyncio.gather(self._checkpoint_task, return_exceptions=True)
        await self.reader.close()
        await self.writer.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time on the writer connection.

        Coroutines share that connection, so without the lock one coroutine's statements
        would land inside another's open transaction (and vanish with its rollback).
        """
        async with self._write_lock:
            db = self.writer
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @contextlib.asynccontextmanager
    async def writes_held(self) -> AsyncIterator[None]:
        """Hold this process's write lock without opening a transaction.

        While a reload worker process writes the database, this process's own writes
        (usage flushes, settings, checkpoints) queue here, as they would behind a reload
        written in process, instead of waiting in SQLite's busy handler, which gives up
        after ``busy_timeout`` (a 100,000-term reload under load can take longer).
        """
        async with self._write_lock:
            yield

    def checkpoint_soon(self) -> None:
        """Copy committed writes into the database file in the background (the writer's
        automatic checkpoint is off: it would make the committing write wait for it)."""
        if self._checkpoint_task is None or self._checkpoint_task.done():
            self._checkpoint_task = asyncio.get_running_loop().create_task(self._checkpoint())
            self._checkpoint_task.add_done_callback(log_failure)

    async def _checkpoint(self) -> None:
        async with self._write_lock:
            await self.writer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def get_meta(self, key: str) -> str | None:
        rows = await self.reader.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


async def _use_wal(db: aiosqlite.Connection) -> None:
    for attempt in range(_WAL_TRIES):
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_TRIES - 1:
                raise
            await asyncio.sleep(_WAL_RETRY_SECONDS)


async def _migrate(db: aiosqlite.Connection) -> None:
    (version,) = (await db.execute_fetchall("PRAGMA user_version"))[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {version} is newer than this bot ({len(MIGRATIONS)}); "
            "upgrade the bot or point it at another database"
        )
    for number in range(version, len(MIGRATIONS)):
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: processes (shards) opening a new database at
            # once all saw version 0 above, and the first to get the lock migrated it.
            (current,) = (await db.execute_fetchall("PRAGMA user_version"))[0]
            if current > number:
                await db.execute("COMMIT")
                continue
            log.info("Migrating database to schema version %d", number + 1)
            for statement in _split_sql(MIGRATIONS[number]):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number + 1}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit mid-way)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if buffer.strip() and sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def log_failure(task: asyncio.Task[None]) -> None:
    """Done callback of a background task: its failure is logged, never lost."""
    if not task.cancelled() and task.exception() is not None:
        log.error("A background database task failed (%s)", task.get_name(),
                  exc_info=task.exception())
