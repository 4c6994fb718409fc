"""The SQLite database's start-up: processes that open a new database at once (shards)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap

from bot.storage.database import Database
from bot.storage.migrations import MIGRATIONS

OPEN_ONE = textwrap.dedent("""
    import asyncio, sys
    from bot.storage.database import Database

    async def main():
        database = await Database.open(sys.argv[1])
        await database.close()

    asyncio.run(main())
""")


async def test_connections_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    """Twenty new files: switching a file to WAL does not wait for the lock, and about one
    round in fifteen failed with "database is locked" before the switch was retried."""
    for round_ in range(20):
        path = tmp_path / f"shared-{round_}.sqlite3"
        opened = await asyncio.gather(*(Database.open(path) for _ in range(4)))
        for database in opened:
            await database.close()
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_processes_starting_together_on_a_new_database_all_start(tmp_path):
    """What bench.scale found: four bot processes on one new file, one failed with "table
    terms already exists" (it read the schema version before taking the write lock)."""
    path = tmp_path / "shared.sqlite3"
    children = [subprocess.Popen([sys.executable, "-c", OPEN_ONE, str(path)],
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = []
    for child in children:
        _, stderr = child.communicate(timeout=120)
        if child.returncode:
            errors.append(stderr.strip().splitlines()[-1])
    assert errors == []
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
