"""Writing a reload: plan what changed, write parsed files, compute the diff; all or nothing.

The database remembers which file each term came from, with its size and modification
time, so only files saved since the last load need parsing, even after a restart. This
module does not parse or judge content: ``bot.reloading`` parses the files the plan names
(``ReloadBatch.to_parse``), hands them over chunk by chunk, checks them with
``bot.validation`` (on the candidate rows the batch reads back) and finishes the batch, or
raises to roll every write back.

The term history hooks in at two places: ``_delete_terms`` keeps each deleted term's JSON
(``bot.storage.history.keep_replaced``) and ``finish`` writes the history rows
(``record_reload``), both in the reload's transaction; the first load records nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import aiosqlite

from bot.directory import ParsedFile, Scan, ScannedFile
from bot.freeing import let_go
from bot.models import Problem, ReloadDiff
from bot.storage.database import Database
from bot.storage.glossary import Glossary
from bot.storage.history import forget_replaced, keep_replaced, record_reload, reload_rows
from bot.validation import LinkUse, NameUse

# The candidates for the cross-file checks (bot.validation decides): every use of a name
# that a fresh file (ids from ?1 on) uses and another term uses too ...
_SHARED_NAMES_SQL = """
WITH fresh AS (SELECT DISTINCT key FROM names WHERE glossary_id = ?2 AND term_id >= ?1)
SELECT n.key, n.name, n.kind, n.line, t.slug, t.file, n.term_id < ?1
FROM fresh JOIN names n ON n.glossary_id = ?2 AND n.key = fresh.key
JOIN terms t ON t.id = n.term_id
WHERE (SELECT count(*) FROM names m WHERE m.glossary_id = ?2 AND m.key = fresh.key) > 1
"""
# ... and every link to no term: two ordered index scans find the missing targets; only
# their links are then looked at.
_MISSING_LINKS_SQL = """
WITH mine AS MATERIALIZED (SELECT id FROM terms WHERE glossary_id = ?1),
missing AS (SELECT target FROM links WHERE term_id IN mine
            EXCEPT SELECT slug FROM terms WHERE glossary_id = ?1)
SELECT t.file, l.position, l.line, l.target
FROM missing JOIN links l ON l.target = missing.target JOIN terms t ON t.id = l.term_id
WHERE t.glossary_id = ?1
"""


class _Loaded(NamedTuple):
    """A term as the database has it, for deciding what a reload must touch. The plan
    keeps the rows as plain tuples (untracked by the collector, however many); a row is
    made a _Loaded only where a file is looked at."""

    id: int
    slug: str
    mtime_ns: int
    size: int
    fingerprint: str
    names_fingerprint: str


@dataclass(frozen=True, slots=True)
class _Plan:
    loaded: dict[str, tuple]  # file name -> a _Loaded's fields
    # Tuples, not lists: a tuple of atomic values is dropped from the collector's view,
    # while every full collection reads each element of a list (100,000 scattered reads,
    # 20-30 ms holding the GIL, during a 100,000-file reload).
    to_parse: tuple[ScannedFile, ...]
    removed: tuple[tuple, ...]  # _Loaded fields
    next_id: int


def _plan(scan: Scan, rows: list[tuple], last_id: int) -> _Plan:
    """Which files changed since the last load (none, on a restart with unchanged files):
    a worker-thread job at 100,000 terms. Empties ``rows`` once keyed (``let_go``): the
    caller's last reference, freed at once on the event loop, would hold it."""
    loaded = {row[0]: row[1:] for row in rows}
    let_go(rows)
    present = {name for name, _, _ in scan.files}
    to_parse = tuple(f for f in scan.files
                     if (old := loaded.get(f[0])) is None or old[2:4] != f[1:])
    removed = tuple(old for file, old in loaded.items() if file not in present)
    return _Plan(loaded, to_parse, removed, last_id + 1)  # ids are shared by all glossaries


def _diff(before: dict[str, str], after: dict[str, str]
          ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(added, changed, removed) slugs in file order (sorting 100,000 names would hold the
    GIL for tens of milliseconds); a worker-thread job, as each is a pass over them all."""
    return (tuple(slug for slug in after if slug not in before),
            tuple(slug for slug in after if slug in before and after[slug] != before[slug]),
            tuple(slug for slug in before if slug not in after))


class ReloadBatch:
    """One reload's write transaction: what to parse, then the parsed files, then finish."""

    def __init__(self, db: aiosqlite.Connection, plan: _Plan, glossary_id: int) -> None:
        self._db = db
        self.connection = db  # the open transaction: a publisher (bot.publishing) reads it
        self._glossary_id = glossary_id
        self._plan = plan
        self.to_parse = plan.to_parse
        self.loaded_count = len(plan.loaded)
        self._before = {slug: fingerprint for _, slug, _, _, fingerprint, _ in plan.removed}
        self._first_new_id = self._next_id = plan.next_id
        self.names_changed = bool(plan.removed)  # else the name index is still right
        self.version: str | None = None  # the new content version, if the content changed
        self.defer_history = False  # PostgreSQL: the history is computed, not written here

    async def remove_gone(self) -> None:
        await _delete_terms(self._db, [row[0] for row in self._plan.removed])

    async def write(self, chunk: Sequence[ParsedFile]) -> None:
        """Write one chunk of parsed files. A file saved again without a change only moves
        its time; one with errors is written too, without its data, and the reload is then
        refused by the caller."""
        inserts: list[tuple[int, ParsedFile]] = []
        stale: list[int] = []
        touched: list[tuple[int, int, int]] = []
        for parsed in chunk:
            name, mtime_ns, size = parsed.file
            row, record = self._plan.loaded.get(name), parsed.record
            old = _Loaded._make(row) if row is not None else None
            if old is not None and parsed.valid and old.fingerprint == record.fingerprint:
                touched.append((mtime_ns, size, old.id))
                continue
            if old is not None:
                stale.append(old.id)
                self._before[old.slug] = old.fingerprint
            self.names_changed = self.names_changed or old is None or (
                old.names_fingerprint != record.names_fingerprint)
            inserts.append((self._next_id, parsed))
            self._next_id += 1
        await _delete_terms(self._db, stale)
        await _insert_terms(self._db, self._glossary_id, inserts)
        if touched:
            await self._db.executemany(
                "UPDATE terms SET mtime_ns = ?, size = ? WHERE id = ?", touched)

    async def check_candidates(self) -> tuple[list[NameUse], list[LinkUse]]:
        """The rows the cross-file checks need, once every chunk is written: the names
        that more than one term uses (a fresh one among them), the links to no term."""
        names = await self._db.execute_fetchall(
            _SHARED_NAMES_SQL, (self._first_new_id, self._glossary_id))
        links = await self._db.execute_fetchall(_MISSING_LINKS_SQL, (self._glossary_id,))
        return ([(key, name, kind, line, slug, file, bool(kept))
                 for key, name, kind, line, slug, file, kept in names], list(links))

    async def valid_count(self) -> int:
        rows = await self._db.execute_fetchall(
            "SELECT count(*) FROM term_data d JOIN terms t ON t.id = d.term_id "
            "WHERE t.glossary_id = ?", (self._glossary_id,))
        return rows[0][0]

    async def finish(self, warnings: Sequence[Problem]) -> ReloadDiff:
        """The diff, with the meta a content change sets; the caller then commits."""
        # Read back rather than kept from the parsed chunks: names held from every chunk
        # would keep all their memory from being reused.
        after = await self._db.execute_fetchall(
            "SELECT slug, fingerprint FROM terms WHERE id >= ? ORDER BY file",
            (self._first_new_id,))
        added, changed, removed = await asyncio.to_thread(_diff, self._before, dict(after))
        stamp = time.time()
        now = str(stamp)
        changed_content = bool(added or removed or changed)
        await self._db.execute(
            "UPDATE glossaries SET last_reload_at = ?1, version = CASE WHEN ?2 THEN ?3 "
            "ELSE version END WHERE id = ?4", (stamp, changed_content, now, self._glossary_id))
        count = await self._db.execute_fetchall(
            "SELECT count(*) FROM terms WHERE glossary_id = ?", (self._glossary_id,))
        history, pending = None, ()
        if changed_content and self.loaded_count:
            if self.defer_history:  # PostgreSQL: written there after the commit
                pending = tuple(await reload_rows(self._db, self._glossary_id,
                                                  self._first_new_id, stamp))
            else:  # SQLite: in this transaction, all or nothing with the reload
                history = await record_reload(self._db, self._glossary_id,
                                              self._first_new_id, stamp)
        diff = ReloadDiff(added, changed, removed, count[0][0], tuple(warnings), history,
                          pending)
        self.version = now if not diff.is_empty else None
        return diff


class Reloads:
    """Opens reload batches; after a batch commits, the glossary's index follows.

    ``write_batch`` is the write path alone (plan, write, commit): what a reload worker
    process (``bot.reload_worker``) runs on its own connection. ``batch`` adds what the
    serving process does after a commit, ``committed``, which a reload written by a
    worker process calls with the worker's answer.
    """

    def __init__(self, db: Database, glossary: Glossary) -> None:
        self._db = db
        self._glossary = glossary
        # With PostgreSQL (set by the store): a reload's history rows are handed back
        # (ReloadDiff.pending_history) for the shared history, not written locally.
        self.defer_history = False

    async def stored(self) -> list[tuple[str, int, int, str]]:
        """(file, mtime_ns, size, fingerprint) of every term the glossary holds, in file
        order: what an edit of a database-only glossary starts from (``Reloader.apply``).
        The rows as SQLite returns them, ordered by its index: keying or sorting the
        100,000 rows of a large glossary is left to a worker thread."""
        return list(await self._db.reader.execute_fetchall(
            "SELECT file, mtime_ns, size, fingerprint FROM terms WHERE glossary_id = ? "
            "ORDER BY file", (self._glossary.id,)))

    async def stored_fingerprint(self, file: str) -> str | None:
        """The stored fingerprint of one term file (None: no such term)."""
        rows = await self._db.reader.execute_fetchall(
            "SELECT fingerprint FROM terms WHERE glossary_id = ? AND file = ?",
            (self._glossary.id, file))
        return rows[0][0] if rows else None

    @property
    def glossary_name(self) -> str:
        return self._glossary.name

    @property
    def database_path(self) -> Path:
        return self._db.path

    @property
    def glossary_id(self) -> int:
        return self._glossary.id

    async def files_to_write(self, scan: Scan) -> int:
        """How many files a reload of ``scan`` would parse or remove: decides whether it
        is written here or by a worker process. Read in a worker thread on a connection of
        its own, so the 100,000 rows of a large glossary never reach the event loop."""
        return await asyncio.to_thread(_files_to_write, self._db.path, self._glossary.id,
                                       scan.files)

    def writes_held(self) -> contextlib.AbstractAsyncContextManager[None]:
        """This process's writes wait while another process writes the reload."""
        return self._db.writes_held()

    @contextlib.asynccontextmanager
    async def batch(self, scan: Scan) -> AsyncIterator[ReloadBatch]:
        """A transaction for one reload of ``scan``; an exception rolls it all back. After
        the commit the glossary served here follows."""
        async with self.write_batch(scan) as batch:
            yield batch
        await self.committed(batch.names_changed, batch.version)
        # After serving the new content, not before: every stored row keyed by file
        # (100,000 for a large glossary), which freed at once would hold the event loop.
        await asyncio.to_thread(let_go, batch._plan.loaded)

    async def committed(self, names_changed: bool, version: str | None) -> None:
        """After a reload committed (here or by a worker process): checkpoint, and the
        glossary's name index and caches follow."""
        if version is not None:
            self._db.checkpoint_soon()
        await self._glossary.reloaded(names_changed, version)

    @contextlib.asynccontextmanager
    async def write_batch(self, scan: Scan) -> AsyncIterator[ReloadBatch]:
        """The write transaction alone: plan, writes, commit; nothing about serving."""
        async with self._db.transaction() as db:
            gid = self._glossary.id
            rows = list(await db.execute_fetchall(
                "SELECT file, id, slug, mtime_ns, size, fingerprint, names_fingerprint "
                "FROM terms WHERE glossary_id = ? ORDER BY file", (gid,)))
            last = await db.execute_fetchall("SELECT coalesce(max(id), 0) FROM terms")
            batch = ReloadBatch(db, await asyncio.to_thread(_plan, scan, rows, last[0][0]), gid)
            batch.defer_history = self.defer_history
            await forget_replaced(db)
            await batch.remove_gone()
            yield batch


def _files_to_write(path: Path, glossary_id: int, files: Sequence[ScannedFile]) -> int:
    """The files of ``files`` not stored as they are, plus the stored files gone: a
    worker-thread job (one query, one pass), on a connection of its own."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA query_only = ON")
        stored = set(db.execute("SELECT file, mtime_ns, size FROM terms WHERE glossary_id = ?",
                                (glossary_id,)).fetchall())
    finally:
        db.close()
    unchanged = sum(1 for file in files if tuple(file) in stored)
    count = (len(files) - unchanged) + (len(stored) - unchanged)
    let_go(stored)  # 100,000 rows of a large glossary, freed at once, would stall the loop
    return count


async def stored_files(db: Database) -> dict[int, set[tuple[str, int, int]]]:
    """Every glossary's (file, mtime_ns, size) as the last load left them: at start-up one
    query tells which of a thousand glossaries have files saved since."""
    rows = await db.reader.execute_fetchall(
        "SELECT glossary_id, file, mtime_ns, size FROM terms")
    stored: dict[int, set[tuple[str, int, int]]] = {}
    for glossary_id, file, mtime_ns, size in rows:
        stored.setdefault(glossary_id, set()).add((file, mtime_ns, size))
    return stored


async def _delete_terms(db: aiosqlite.Connection, ids: Sequence[int]) -> None:
    """Delete terms with their full-text rows; names and links go by cascade.

    The index keeps no copy of the text, so it is told which words to forget while the
    term is still there to read them from."""
    if not ids:
        return
    await keep_replaced(db, ids)  # the term history's "before"
    doomed = json.dumps(list(ids))
    await db.execute(
        "INSERT INTO terms_fts(terms_fts, rowid, title, aliases, body) "
        "SELECT 'delete', id, title, aliases, body FROM term_text "
        "WHERE id IN (SELECT value FROM json_each(?))", (doomed,))
    await db.execute("DELETE FROM terms WHERE id IN (SELECT value FROM json_each(?))",
                     (doomed,))


async def _insert_terms(db: aiosqlite.Connection, glossary_id: int,
                        inserts: Sequence[tuple[int, ParsedFile]]) -> None:
    """Write parsed files; one with errors without its data (nothing of it is indexed)."""
    if not inserts:
        return
    await db.executemany(
        "INSERT INTO terms(id, glossary_id, slug, file, mtime_ns, size, fingerprint,"
        " names_fingerprint, title, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(term_id, glossary_id, p.record.slug, *p.file,
          p.record.fingerprint, p.record.names_fingerprint, p.record.title, p.record.category)
         for term_id, p in inserts],
    )
    await db.executemany(
        "INSERT INTO term_data(term_id, data) VALUES (?, ?)",
        [(term_id, p.record.data) for term_id, p in inserts if p.valid],
    )
    # The full-text rows: the text the parse worker built (``TermRecord.search``, the
    # view's very text) as it is; a record without one is read through the view. Every
    # term goes in once, in id order either way.
    given = [(term_id, *p.record.search) for term_id, p in inserts
             if p.valid and p.record.search is not None]
    if len(given) == len(inserts):
        await db.executemany(
            "INSERT INTO terms_fts(rowid, title, aliases, body) VALUES (?, ?, ?, ?)", given)
    elif not given:
        await db.execute(
            "INSERT INTO terms_fts(rowid, title, aliases, body) "
            "SELECT id, title, aliases, body FROM term_text WHERE id BETWEEN ? AND ?",
            (inserts[0][0], inserts[-1][0]),
        )
    else:
        await _insert_fts_mixed(db, inserts)
    await db.executemany(
        "INSERT INTO names(glossary_id, key, term_id, name, kind, line, words)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(glossary_id, n.key, term_id, n.name, n.kind, n.line, n.word_count)
         for term_id, p in inserts for n in p.record.names],
    )
    await db.executemany(
        "INSERT INTO links(term_id, position, target, line) VALUES (?, ?, ?, ?)",
        [(term_id, position, target, line) for term_id, p in inserts
         for position, (target, line) in enumerate(p.record.links)],
    )


async def _insert_fts_mixed(db: aiosqlite.Connection,
                            inserts: Sequence[tuple[int, ParsedFile]]) -> None:
    """Full-text rows for a chunk where some terms come with their text and some must be
    read through the view (or have none: a file with errors): in id order, each run of
    one kind in one statement."""
    def kind(item: tuple[int, ParsedFile]) -> int:
        parsed = item[1]
        return 0 if not parsed.valid else (1 if parsed.record.search is not None else 2)

    for which, run in itertools.groupby(inserts, key=kind):
        items = list(run)
        if which == 1:
            await db.executemany(
                "INSERT INTO terms_fts(rowid, title, aliases, body) VALUES (?, ?, ?, ?)",
                [(term_id, *p.record.search) for term_id, p in items])
        elif which == 2:
            await db.execute(
                "INSERT INTO terms_fts(rowid, title, aliases, body) "
                "SELECT id, title, aliases, body FROM term_text WHERE id BETWEEN ? AND ?",
                (items[0][0], items[-1][0]))
