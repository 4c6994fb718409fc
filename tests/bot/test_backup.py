"""Backups while the bot works, restores only while it does not."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.backup import (
    BackupError,
    daily_backup,
    lock_path,
    make_backup,
    prune,
    quick_check,
    restore,
    scheduled,
)
from bot.content import dump_term
from bot.store import Store
from tests.bot._run import run_to_end
from tests.conftest import BUNDLED_COUNT, make_term
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process

TERMS = 500


def write_glossary(directory: Path, version: str, slugs: range) -> Path:
    directory.mkdir(parents=True)
    for number in slugs:
        slug = f"term-{number:04d}"
        term = make_term(slug, definition=f"{slug} as taught in version {version}.")
        (directory / f"{slug}.yaml").write_text(dump_term(term), encoding="utf-8")
    return directory


async def contents(store: Store) -> dict[str, str]:
    return {term.slug: term.definition for term in await store.glossary.all_terms()}


async def test_backups_during_a_reload_under_load_hold_the_old_or_the_new_glossary(tmp_path):
    old_dir = write_glossary(tmp_path / "old", "one", range(TERMS))
    new_dir = write_glossary(tmp_path / "new", "two", range(50, TERMS + 50))
    database = tmp_path / "state" / "glossary.sqlite3"
    made: list[tuple[Path, float, float]] = []
    async with await Store.open(database) as store:
        await store.reloads.reload(old_dir)
        old = await contents(store)
        stop = asyncio.Event()

        async def students() -> None:  # the load: cards and autocomplete, non-stop
            while not stop.is_set():
                await store.glossary.card("term-0300")  # cached: no thread hop
                await store.glossary.autocomplete("term-03")
                await asyncio.sleep(0)  # so a cached answer cannot starve the loop

        async def backing_up() -> None:
            while not stop.is_set():
                started = time.monotonic()
                path = await asyncio.to_thread(
                    make_backup, database, tmp_path / "backups" / f"{len(made):03d}.sqlite3")
                made.append((path, started, time.monotonic()))

        tasks = [asyncio.create_task(students()) for _ in range(4)]
        tasks.append(asyncio.create_task(backing_up()))
        await asyncio.sleep(0.3)
        reload_started = time.monotonic()
        await store.reloads.reload(new_dir)
        reload_ended = time.monotonic()
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*tasks)
        new = await contents(store)
    assert old != new and len(new) == TERMS
    # Backups that overlap the reload (one wholly inside it needs the reload to outlast a
    # backup, which a busy machine does not promise: 1 run in 4-5 failed that way).
    during = [p for p, start, end in made if start < reload_ended and end > reload_started]
    assert during, f"no backup ran during the {reload_ended - reload_started:.2f} s reload"
    seen = []
    for path, _, _ in made:
        assert quick_check(path) == "ok"
        target = tmp_path / "restored" / path.name
        restore(path, target)
        async with await Store.open(target) as restored:
            got = await contents(restored)
        assert got == old or got == new, f"{path.name} mixes the two glossaries"
        seen.append("old" if got == old else "new")
    assert seen[0] == "old" and seen[-1] == "new"
    assert seen == sorted(seen, key=["old", "new"].index)  # one switch, never back


async def test_restore_refuses_while_the_bot_runs_and_works_once_it_stopped(
    tmp_path, content_dir
):
    database = tmp_path / "proc.sqlite3"
    saved = tmp_path / "saved.sqlite3"
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir, database=database) as bot:
            await fake.slash("define", term="backend")
            config = str(tmp_path / "config.toml")
            backed = await run_to_end("--config", config, "backup", str(saved))
            assert backed.returncode == 0, backed.output
            refused = await run_to_end("--config", config, "restore", str(saved))
        assert bot.returncode == 0
    assert refused.returncode == 1
    assert "in use by a running bot; stop it first" in refused.output
    restored = await run_to_end("--config", config, "restore", str(saved))
    assert restored.returncode == 0, restored.output
    assert "the previous database is kept as" in restored.output
    assert quick_check(database) == "ok"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM terms").fetchone()[0] == BUNDLED_COUNT


def test_a_damaged_file_is_not_restored(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"\0" * 4096 + b"junk")
    with pytest.raises(BackupError, match="not a usable backup"):
        restore(bad, tmp_path / "glossary.sqlite3")
    assert not (tmp_path / "glossary.sqlite3").exists()


def test_backing_up_a_missing_database_says_so(tmp_path):
    with pytest.raises(BackupError, match="no database there"):
        make_backup(tmp_path / "nothing.sqlite3", tmp_path / "b.sqlite3")


async def test_daily_backups_run_once_a_day_and_keep_the_newest(tmp_path, config):
    async with await Store.open(config.database) as store:
        await store.db.set_meta("marker", "kept")
    daily = replace(config, backup_dir=tmp_path / "backups", backup_keep=3)
    async with scheduled(daily):  # makes the first backup at start
        for _ in range(100):
            if list(daily.backup_dir.glob("glossary-*.sqlite3")):
                break
            await asyncio.sleep(0.05)
    first = list(daily.backup_dir.glob("glossary-*.sqlite3"))
    assert len(first) == 1
    assert daily_backup(daily) is None  # not a day old yet
    for day in range(1, 6):  # as if five more days passed: rename to older stamps
        os.rename(first[0], daily.backup_dir / f"glossary-2026010{day}-000000.sqlite3")
        old = time.time() - 2 * 86400
        for path in daily.backup_dir.glob("glossary-*.sqlite3"):
            os.utime(path, (old, old))
        made = daily_backup(daily)
        assert made is not None
        first = [made]
    kept = sorted(daily.backup_dir.glob("glossary-*.sqlite3"))
    assert len(kept) == 3 and kept[-1] == made
    with sqlite3.connect(made) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'marker'").fetchone() == ("kept",)


def test_prune_keeps_the_newest(tmp_path):
    for stamp in ("20260101", "20260102", "20260103"):
        (tmp_path / f"glossary-{stamp}-000000.sqlite3").write_bytes(b"")
    removed = prune(tmp_path, 2)
    assert [p.name for p in removed] == ["glossary-20260101-000000.sqlite3"]


def test_the_lock_file_lives_beside_the_database(tmp_path):
    assert lock_path(tmp_path / "glossary.sqlite3") == tmp_path / "glossary.sqlite3.lock"
