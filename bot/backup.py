"""Backups of the database: made while the bot runs, restored only while it does not.

A backup is SQLite's online backup API in one step on a connection of its own: in WAL
mode that is a read snapshot, so it is consistent (a reload is in it entirely or not at
all) and never blocks the bot's writes. It is written beside its destination and renamed
into place only after ``PRAGMA quick_check``, so a half-written file never looks like a
backup. Every bot process holds a shared advisory lock on ``<database>.lock`` while it
runs; ``restore`` takes it exclusively, so it refuses while any bot (any shard) is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bot.config import Config
from bot.errors import GlossaryError

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 60 * 60
CHECK_EVERY_SECONDS = 60 * 60
BACKUP_GLOB = "glossary-*.sqlite3"


class BackupError(GlossaryError):
    """A backup or restore that cannot be done; the message says what to do."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def in_use(database: Path) -> Iterator[None]:
    """Held by a running bot: ``restore`` refuses while any process holds it. Shared, so
    the processes of a sharded deployment can hold it together."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path(database), "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:  # opening the database will say what is wrong, plainly
        log.warning("Cannot create %s (%s): restore cannot tell that the bot runs",
                    lock_path(database), exc.strerror)
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)  # waits only for a restore in progress
        yield


def quick_check(path: Path) -> str:
    """``PRAGMA quick_check``'s verdict ("ok" when sound)."""
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    return "; ".join(str(row[0]) for row in rows)


def _copy(source: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(source)) as src, \
         contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # one step: one consistent snapshot
        dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file


def make_backup(database: Path, target: Path) -> Path:
    """Copy ``database`` to ``target`` (a file, or a directory for a timestamped name)
    while a bot may be using it; returns the backup's path."""
    if not database.is_file():
        raise BackupError(f"{database}: no database there (check `database` in the config)")
    if target.is_dir():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        target = target / f"glossary-{stamp}.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.partial")
    scratch.unlink(missing_ok=True)
    try:
        _copy(database, scratch)
        verdict = quick_check(scratch)
        if verdict != "ok":
            raise BackupError(f"{database}: the copy failed quick_check ({verdict}); "
                              "the database itself may be damaged")
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return target


def restore(backup: Path, database: Path) -> Path | None:
    """Replace ``database`` with ``backup``; refuses while a bot runs. The database that
    was there is kept beside it first (returned), so a wrong restore can be undone."""
    verdict = quick_check(backup) if backup.is_file() else "no such file"
    if verdict != "ok":
        raise BackupError(f"{backup}: not a usable backup ({verdict})")
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(database), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"{database} is in use by a running bot; stop it first (for example "
                "`sudo systemctl stop glossary-bot` or `docker compose stop`), then "
                "restore again") from None
        kept = None
        if database.is_file():
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
            kept = make_backup(database, database.with_name(
                f"{database.stem}.before-restore-{stamp}{database.suffix}"))
        with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src, \
             contextlib.closing(sqlite3.connect(database)) as dst:
            src.backup(dst)
        return kept


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups made by the schedule; returns them."""
    backups = sorted(directory.glob(BACKUP_GLOB))  # timestamped names sort by age
    doomed = backups[:-keep] if keep else backups
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def backup_due(directory: Path, now: float) -> bool:
    newest = max((p.stat().st_mtime for p in directory.glob(BACKUP_GLOB)), default=None)
    return newest is None or now - newest >= DAY_SECONDS


def daily_backup(config: Config, now: float | None = None) -> Path | None:
    """Make today's backup if the newest one is a day old (or there is none), then prune."""
    directory = config.backup_dir
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    if not backup_due(directory, time.time() if now is None else now):
        return None
    made = make_backup(config.database, directory)
    removed = prune(directory, config.backup_keep)
    log.info("Backed up the database to %s (%d old backup(s) removed)", made, len(removed))
    return made


async def _schedule(config: Config) -> None:
    while True:
        try:
            await asyncio.to_thread(daily_backup, config)
        except (OSError, sqlite3.Error, BackupError) as exc:
            log.error("Daily backup into %s failed: %s", config.backup_dir, exc)
        await asyncio.sleep(CHECK_EVERY_SECONDS)


@contextlib.asynccontextmanager
async def scheduled(config: Config) -> AsyncIterator[None]:
    """Daily backups while the bot runs, when ``backup_dir`` is set."""
    task = None
    if config.backup_dir is not None:
        task = asyncio.create_task(_schedule(config), name="glossary-daily-backup")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
