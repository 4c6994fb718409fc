"""Crash safety: SIGKILL the process in the middle of reloading a large glossary, many times.

A child process (``tests/hardening/crash_child.py``) opens the Store on one database file
and reloads two versions of a generated glossary in turn, A then B then A... (same slugs,
every definition different), flushing a few usage counts before each reload. The parent
kills it with SIGKILL at a random moment (seeded, so reproducible) within the span of a
reload, then checks the file:

* ``PRAGMA integrity_check`` is ``ok``, and so are both FTS5 indexes' own checks;
* ``Store.open`` opens it, and it serves ONE version completely: every term present, every
  definition from A, or every one from B, never a mix; full-text search finds exactly
  that version's word in every term and the other version's in none;
* the usage counts are at least every count the child printed as flushed (and at most
  one unconfirmed batch per run more: nothing lost, nothing counted twice).

Then the child starts again on the same file, so later kills hit a database that already
survived earlier ones. The quick variant generates 3,000 terms and kills 5 times; the slow
one (``-m slow``) 10,000 terms and 30 kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from bot.store import Store
from tests.conftest import REPO_ROOT
from tests.hardening.crash_child import LOOKUPS_PER_ROUND

WORDS = {"A": "alphaversion", "B": "betaversion"}


def write_version(directory: Path, count: int, version: str) -> None:
    directory.mkdir()
    word = WORDS[version]
    for i in range(count):
        (directory / f"term-{i:05d}.yaml").write_text(
            f"title: Term {i:05d}\n"
            f"definition: Version {version} of term {i}, the {word} text.\n"
            f"why_it_matters: Term {i} matters in version {version}.\n",
            encoding="utf-8",
        )


class Child:
    """The reloading process; its stdout lines are read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.flushed = 0
        self.reload_seconds: list[float] = []
        self.reading = False  # between "reloading" and "reloaded"
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, database: Path, *directories: Path) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.hardening.crash_child", str(database),
            *map(str, directories), cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            self.lines.append(line)
            word, _, rest = line.partition(" ")
            if word == "flushed":
                self.flushed = int(rest)
            elif word == "reloading":
                self.reading = True
            elif word == "reloaded":
                self.reading = False
                self.reload_seconds.append(float(rest.split()[1]))
            self._changed.set()

    async def wait_for(self, prefix: str, count: int = 1, timeout: float = 60) -> None:
        async def seen() -> None:
            while sum(line.startswith(prefix) for line in self.lines) < count:
                if self._task.done():
                    stderr = await self.process.stderr.read()  # type: ignore[union-attr]
                    raise AssertionError(f"child exited: {self.lines[-5:]} {stderr[-2000:]!r}")
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.5)

        try:
            await asyncio.wait_for(seen(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {prefix!r} x{count} in {timeout}s: {self.lines[-5:]}"
                                 ) from None

    async def kill(self) -> bool:
        """SIGKILL; returns whether a reload was under way at that moment."""
        during_reload = self.reading
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), 10)
        await asyncio.wait_for(self._task, 10)
        assert self.process.returncode == -9, self.process.returncode
        return during_reload


async def served_version(database: Path, count: int) -> str:
    """Check the killed database; return the one version ("A" or "B") it serves."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.execute("INSERT INTO terms_fts(terms_fts) VALUES ('integrity-check')")
    async with await Store.open(database) as store:
        terms = await store.glossary.all_terms()
        assert len(terms) == count, f"{len(terms)} of {count} terms"
        versions = {t.definition.split()[1] for t in terms}
        assert len(versions) == 1, f"a mix of versions {versions}"
        (version,) = versions
        assert all(t.definition.startswith(f"Version {version} of term ") for t in terms)
        for name, word in WORDS.items():
            page = await store.glossary.search(word, limit=1)
            assert page.total == (count if name == version else 0), (name, page.total)
        card = await store.glossary.card(f"Term {count - 1:05d}")
        assert card.term.definition.startswith(f"Version {version} ")
    return version


def lookups(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT count FROM lookups WHERE slug = 'term-00000'").fetchall()
    return rows[0][0] if rows else 0


async def crash_cycles(tmp_path: Path, terms: int, kills: int, seed: int) -> dict[str, object]:
    a, b = tmp_path / "A", tmp_path / "B"
    write_version(a, terms, "A")
    write_version(b, terms, "B")
    database = tmp_path / "state" / "glossary.sqlite3"
    async with await Store.open(database) as store:
        await store.reloads.reload(a)  # the glossary was served before any crash
    rng = random.Random(seed)
    confirmed = 0
    runs = 0
    mid_reload = 0
    served: dict[str, int] = {"A": 0, "B": 0}
    window = 0.0
    started = time.perf_counter()
    for kill in range(kills):
        child = await Child.start(database, b, a)
        runs += 1
        if not window:  # calibrate on the first run: two full, changing reloads
            await child.wait_for("reloaded", 2, timeout=120)
            window = 1.5 * max(child.reload_seconds)
        # Every other run is killed in its first reload (content cache cold), the others
        # in their second (warm, so the write transaction is most of the time).
        await child.wait_for("reloading", 1 + kill % 2)
        await asyncio.sleep(rng.uniform(0, window))
        mid_reload += await child.kill()
        confirmed += child.flushed
        served[await served_version(database, terms)] += 1
        counted = lookups(database)
        assert counted >= confirmed, f"lookups lost: {counted} < {confirmed} confirmed"
        assert counted <= confirmed + runs * LOOKUPS_PER_ROUND, "lookups counted twice"
    figures = {"terms": terms, "kills": kills, "kills_mid_reload": mid_reload,
               "served": served, "lookups_confirmed": confirmed,
               "lookups_in_db": lookups(database), "reload_s": round(window / 1.5, 2),
               "seconds": round(time.perf_counter() - started, 1)}
    print(f"\ncrash safety: {figures}")
    assert mid_reload >= kills // 2, f"only {mid_reload} of {kills} kills hit a reload"
    return figures


async def test_sigkill_during_reload_quick(tmp_path):
    await crash_cycles(tmp_path, terms=3000, kills=5, seed=6)


@pytest.mark.slow
async def test_sigkill_during_reload_many_times(tmp_path):
    figures = await crash_cycles(tmp_path, terms=10_000, kills=30, seed=60)
    assert figures["served"]["A"] and figures["served"]["B"]  # type: ignore[index]

