"""The PostgreSQL connection layer against a real server: migrations, errors, faults."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import SharedStateUnavailable
from bot.storage import pg_migrations
from bot.storage.postgres import PgDatabase, redacted


async def test_opening_creates_the_schema_table_and_reopening_is_a_no_op(pg_url: str) -> None:
    async with _opened(pg_url) as db:
        assert await db.schema_version() == len(pg_migrations.PG_MIGRATIONS)
    async with _opened(pg_url) as db:  # nothing left to apply, nothing fails
        assert await db.schema_version() == len(pg_migrations.PG_MIGRATIONS)


async def test_processes_starting_at_once_migrate_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The advisory lock: five pools opening together apply a migration exactly once (a
    second application of CREATE TABLE would fail)."""
    extra = "CREATE TABLE once_only (id integer PRIMARY KEY)"
    monkeypatch.setattr(pg_migrations, "PG_MIGRATIONS", (*pg_migrations.PG_MIGRATIONS, extra))
    monkeypatch.setattr("bot.storage.postgres.PG_MIGRATIONS", pg_migrations.PG_MIGRATIONS)
    opened = await asyncio.gather(*(PgDatabase.open(pg_url, max_size=2) for _ in range(5)))
    try:
        rows = await opened[0].fetch("SELECT count(*) FROM schema_migrations")
        assert rows[0][0] == len(pg_migrations.PG_MIGRATIONS)
    finally:
        await asyncio.gather(*(db.close() for db in opened))


async def test_a_failed_transaction_leaves_nothing_behind(pg_url: str) -> None:
    async with _opened(pg_url) as db:
        await db.execute("CREATE TABLE t (x integer)")
        with pytest.raises(ZeroDivisionError):
            async with db.transaction() as connection:
                await connection.execute("INSERT INTO t VALUES (1)")
                raise ZeroDivisionError
        assert (await db.fetch("SELECT count(*) FROM t"))[0][0] == 0


async def test_a_newer_schema_is_refused_with_a_clear_message(pg_url: str) -> None:
    async with _opened(pg_url) as db:
        await db.execute("INSERT INTO schema_migrations(version) VALUES (999)")
    with pytest.raises(RuntimeError, match="newer than this bot"):
        await PgDatabase.open(pg_url)


async def test_an_unreachable_server_is_one_clear_error_without_the_password() -> None:
    url = "postgresql://glossary:secret-pw@127.0.0.1:1/nothing"
    with pytest.raises(SharedStateUnavailable) as raised:
        await PgDatabase.open(url)
    assert "127.0.0.1:1" in str(raised.value)
    assert "secret-pw" not in str(raised.value)
    assert redacted(url) == "postgresql://glossary:***@127.0.0.1:1/nothing"


async def test_a_stopped_server_is_unavailable_and_the_pool_recovers_by_itself(
    own_postgres,
) -> None:
    db = await PgDatabase.open(own_postgres.url, max_size=2)
    try:
        assert (await db.fetch("SELECT 1"))[0][0] == 1
        await own_postgres.stop()
        with pytest.raises(SharedStateUnavailable):
            await db.fetch("SELECT 1")
        await own_postgres.start()
        for _ in range(50):  # bounded: the pool replaces its dead connections
            try:
                assert (await db.fetch("SELECT 2"))[0][0] == 2
                break
            except SharedStateUnavailable:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the pool did not recover after the server came back")
    finally:
        await db.close()


class _opened:
    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> PgDatabase:
        self.db = await PgDatabase.open(self.url, max_size=2)
        return self.db

    async def __aexit__(self, *exc: object) -> None:
        await self.db.close()
