"""The SQLite store: the loaded glossary, its indexes and the bot's own records.

All SQL lives here. Two aiosqlite connections share one WAL database: reloads write on
one while lookups read on the other, so a reader sees the old glossary or the new one
(each lookup is a single statement, hence a single snapshot), never a mix, and a long
reload never queues lookups behind it. Each lookup is one ``execute_fetchall``: every
aiosqlite await is a thread hop.

A reload is one write transaction. The database remembers which file each term came
from, with its size and modification time, so only files saved since the last load are
parsed again, even after a restart; many files are parsed in worker processes
(``bot.loading``). The checks that span terms (name collisions, related terms that do not
exist) run as SQL over what the transaction wrote, and any error rolls it all back.

Names are also kept in memory (``bot.search.NameIndex``) for autocomplete, "did you
mean" and "Explain terms"; it is rebuilt after each reload, and within seconds when
another process sharing the database reloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

import aiosqlite

from bot.content import ParsedFile, Scan, ScannedFile, display_path, scan_directory
from bot.errors import InvalidContent, QuizNotFound, TermNotFound
from bot.loading import parse_in_chunks
from bot.matcher import find_mentions
from bot.models import (
    Card,
    CountedName,
    GlossaryStats,
    GuildSettings,
    Problem,
    Quiz,
    QuizOutcome,
    ReloadDiff,
    Score,
    SearchHit,
    SearchPage,
    Suggestion,
    Term,
    name_key,
)
from bot.search import NameIndex, clean_query, fts_query, name_boost_query, names_within

log = logging.getLogger(__name__)

AUTOCOMPLETE_LIMIT = 25
SUGGESTION_LIMIT = 5
USAGE_FLUSH_SECONDS = 5.0
SETTINGS_TTL_SECONDS = 30.0
INDEX_CHECK_SECONDS = 2.0  # how stale another process's reload may leave the name index
CACHED_CARDS = 4096

# Numbered migrations: index i brings the schema from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    # 1: the glossary, its name index, full-text and trigram indexes, usage records.
    """
    CREATE TABLE terms (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        data TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    );
    CREATE TABLE names (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL REFERENCES terms(slug) ON DELETE CASCADE,
        name TEXT NOT NULL
    );
    CREATE INDEX names_slug ON names(slug);
    CREATE VIRTUAL TABLE terms_fts USING fts5(
        slug UNINDEXED, title, aliases, body,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE names_trigram USING fts5(
        key, content = 'names', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER names_ai AFTER INSERT ON names BEGIN
        INSERT INTO names_trigram(rowid, key) VALUES (new.id, new.key);
    END;
    CREATE TRIGGER names_ad AFTER DELETE ON names BEGIN
        INSERT INTO names_trigram(names_trigram, rowid, key) VALUES ('delete', old.id, old.key);
    END;
    CREATE TABLE lookups (
        slug TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL
    );
    CREATE TABLE misses (
        key TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: per-server settings, quizzes and scores, term-of-the-day history.
    """
    CREATE TABLE guild_settings (guild_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE quizzes (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        answer TEXT NOT NULL,
        choices TEXT NOT NULL,
        mode TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE quiz_answers (
        quiz_id INTEGER NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        choice TEXT NOT NULL,
        correct INTEGER NOT NULL,
        answered_at REAL NOT NULL,
        PRIMARY KEY (quiz_id, user_id)
    );
    CREATE TABLE quiz_scores (
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE daily_posts (
        guild_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        slug TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        PRIMARY KEY (guild_id, day)
    );
    """,
    # 3: each term remembers its file (so unchanged files are not parsed again, even after
    # a restart) and has an id that its full-text row shares (so a changed term is deleted
    # by rowid, not by scanning the index); its JSON lives in a table of its own, so the
    # scans a reload makes over files and names never read it; the full-text index reads
    # its text from there through a view instead of keeping a second copy; names may
    # repeat a key until a reload's checks have run, and typos are matched in memory, so
    # the trigram index goes; related terms get a table of their own. The glossary is
    # derived from the files: the next start loads it again. Usage, settings, quizzes and
    # daily posts stay.
    """
    DROP TRIGGER names_ai;
    DROP TRIGGER names_ad;
    DROP TABLE names_trigram;
    DROP TABLE terms_fts;
    DROP TABLE names;
    DROP TABLE terms;
    DELETE FROM meta WHERE key IN ('content_stamp', 'content_warnings');
    CREATE TABLE terms (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        file TEXT NOT NULL UNIQUE,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        names_fingerprint TEXT NOT NULL,
        title TEXT NOT NULL,
        category TEXT
    );
    CREATE INDEX terms_category ON terms(category);
    CREATE TABLE term_data (
        term_id INTEGER PRIMARY KEY REFERENCES terms(id) ON DELETE CASCADE,
        data TEXT NOT NULL
    );
    CREATE TABLE names (
        key TEXT NOT NULL,
        term_id INTEGER NOT NULL REFERENCES terms(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        line INTEGER NOT NULL,
        words INTEGER NOT NULL,
        PRIMARY KEY (key, term_id)
    ) WITHOUT ROWID;
    CREATE INDEX names_term ON names(term_id);
    CREATE TABLE links (
        term_id INTEGER NOT NULL REFERENCES terms(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        target TEXT NOT NULL,
        line INTEGER NOT NULL,
        PRIMARY KEY (term_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX links_target ON links(target);
    CREATE VIEW term_text(id, title, aliases, body) AS
    SELECT t.id, t.title,
           (SELECT group_concat(value, ' ') FROM json_each(data, '$.aliases')),
           json_extract(data, '$.definition') || char(10)
             || json_extract(data, '$.why_it_matters') || char(10)
             || json_extract(data, '$.course_example') || char(10)
             || json_extract(data, '$.real_world_example') || char(10)
             || coalesce((SELECT group_concat(value, char(10))
                          FROM json_each(data, '$.common_mistakes')), '')
    FROM terms t JOIN term_data d ON d.term_id = t.id;
    CREATE VIRTUAL TABLE terms_fts USING fts5(
        title, aliases, body, content = 'term_text', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
)

_PRAGMAS = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
"""
# A reload in another process (a shard) may hold the write lock for seconds on a large
# glossary; writes here wait for it rather than fail. Everything that writes while a user
# waits has deferred its answer first.
_WRITER_PRAGMAS = (
    "PRAGMA busy_timeout = 60000; PRAGMA cache_size = -16000;"
    # Committing would first copy the write into the database file (seconds, for a large
    # reload); checkpoints run after reloads and usage flushes instead, off the answer path.
    "PRAGMA wal_autocheckpoint = 0;"
)

_CARD_SQL = """
SELECT d.data,
       (SELECT json_group_object(r.slug, r.title) FROM links l JOIN terms r ON r.slug = l.target
         WHERE l.term_id = d.term_id),
       t.file
FROM names n JOIN term_data d ON d.term_id = n.term_id JOIN terms t ON t.id = n.term_id
WHERE n.key = ? LIMIT 1
"""

# bm25 ranks every hit, but snippets (which re-read the text) are made for one page only.
_SEARCH_SQL = """
WITH named AS MATERIALIZED (
    SELECT rowid FROM terms_fts WHERE terms_fts MATCH ?2
), hits AS MATERIALIZED (
    SELECT rowid,
           bm25(terms_fts, 10.0, 6.0, 1.0)
             - (CASE WHEN rowid IN named THEN 1000.0 ELSE 0.0 END) AS rank
    FROM terms_fts WHERE terms_fts MATCH ?1
), page AS MATERIALIZED (
    SELECT rowid, rank FROM hits ORDER BY rank LIMIT ?3 OFFSET ?4
)
SELECT t.slug, t.title, snippet(terms_fts, 2, '**', '**', '…', 14), page.rank,
       (SELECT count(*) FROM hits)
FROM page JOIN terms_fts ON terms_fts.rowid = page.rowid JOIN terms t ON t.id = page.rowid
WHERE terms_fts MATCH ?1
ORDER BY page.rank
"""

# The name index's columns, each a flat list: keys, their terms' ids and word counts in
# key order; then the terms' ids, slugs and titles in id order.
_INDEX_SQL = (
    "SELECT key FROM names ORDER BY key",
    "SELECT term_id FROM names ORDER BY key",
    "SELECT words FROM names ORDER BY key",
    "SELECT id FROM terms ORDER BY id",
    "SELECT slug FROM terms ORDER BY id",
    "SELECT title FROM terms ORDER BY id",
)

_COLLISIONS_SQL = """
WITH fresh AS (SELECT DISTINCT key FROM names WHERE term_id >= ?1)
SELECT n.key, n.name, n.kind, n.line, t.slug, t.file
FROM fresh JOIN names n ON n.key = fresh.key JOIN terms t ON t.id = n.term_id
WHERE (SELECT count(*) FROM names m WHERE m.key = fresh.key) > 1
ORDER BY n.key, n.term_id >= ?1, t.file, n.line
"""

# Two ordered index scans find the missing targets; only their links are then looked at.
_DANGLING_SQL = """
WITH missing AS (SELECT target FROM links EXCEPT SELECT slug FROM terms)
SELECT t.file, l.line, l.target
FROM missing JOIN links l ON l.target = missing.target JOIN terms t ON t.id = l.term_id
ORDER BY t.file, l.position
"""


def _term_from_json(data: str) -> Term:
    raw = json.loads(data)
    for name in ("common_mistakes", "related", "aliases"):
        raw[name] = tuple(raw[name])
    return Term(**raw)


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
class _Applied:
    diff: ReloadDiff
    names_changed: bool  # else the name index is still right for the new glossary
    version: str | None  # the new content version, if the content changed


@dataclass(frozen=True, slots=True)
class _Plan:
    loaded: dict[str, tuple]  # file name -> a _Loaded's fields
    # Tuples, not lists: a tuple of atomic values is dropped from the collector's view,
    # while every full collection reads each element of a list (100,000 scattered reads,
    # 20-30 ms holding the GIL, during a 100,000-file reload).
    to_parse: tuple[ScannedFile, ...]
    removed: tuple[tuple, ...]  # _Loaded fields
    next_id: int


def _plan(scan: Scan, rows: Sequence[tuple]) -> _Plan:
    """Which files changed since the last load (none, on a restart with unchanged files):
    a worker-thread job at 100,000 terms."""
    loaded = {row[0]: row[1:] for row in rows}
    present = {name for name, _, _ in scan.files}
    to_parse = tuple(f for f in scan.files
                     if (old := loaded.get(f[0])) is None or old[2:4] != f[1:])
    removed = tuple(old for file, old in loaded.items() if file not in present)
    next_id = max((old[0] for old in loaded.values()), default=0) + 1
    return _Plan(loaded, to_parse, removed, next_id)


def _diff(before: dict[str, str], after: dict[str, str]
          ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(added, changed, removed) slugs in file order (sorting 100,000 names would hold the
    GIL for tens of milliseconds); a worker-thread job, as each is a pass over them all."""
    return (tuple(slug for slug in after if slug not in before),
            tuple(slug for slug in after if slug in before and after[slug] != before[slug]),
            tuple(slug for slug in before if slug not in after))


class Store:
    """The one gateway to the database; open with ``await Store.open(path)``."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._reload_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._pending_lookups: Counter[str] = Counter()
        self._pending_misses: dict[str, tuple[str, int]] = {}
        self._last_flush = time.monotonic()
        self._flush_task: asyncio.Task[None] | None = None
        self._settings: dict[int, tuple[GuildSettings, float]] = {}
        self._index: NameIndex | None = None
        self._index_version: str | None = None
        self._index_checked = 0.0
        self._index_lock = asyncio.Lock()
        self._index_task: asyncio.Task[None] | None = None
        self._cards: dict[str, Card] = {}  # by slug, for the index's version
        self._checkpoint_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await writer.executescript(_PRAGMAS + _WRITER_PRAGMAS)
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
        process alive. Buffered usage counts are written first."""
        for task in (self._flush_task, self._index_task, self._checkpoint_task):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        await self.flush_usage()
        await self._reader.close()
        await self._writer.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time on the writer connection.

        Coroutines share that connection, so without the lock one coroutine's statements
        would land inside another's open transaction (and vanish with its rollback).
        """
        async with self._write_lock:
            db = self._writer
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # ----- reading the glossary -------------------------------------------------

    @property
    def content_version(self) -> str | None:
        """Changes whenever the glossary served here changes; renderers key caches on it."""
        return self._index_version

    async def card(self, query: str) -> Card:
        """The card for a slug, title or alias, in any case, accents or punctuation.

        Cards already read for the current glossary version are answered from memory, the
        name index telling which term a spelling means; others take one query.
        """
        key = name_key(query)
        if not key:
            raise TermNotFound(query, [])
        index = await self._names()
        version = self._index_version
        known = index.exact(key)
        if known is not None and (cached := self._cards.get(known[0])) is not None:
            return cached
        rows = await self._reader.execute_fetchall(_CARD_SQL, (key,))
        if not rows:
            raise TermNotFound(query, await self.suggest(query))
        data, related, file = rows[0]
        card = Card(_term_from_json(data), json.loads(related) if related else {}, file)
        if version == self._index_version:  # not read across a reload
            if len(self._cards) >= CACHED_CARDS:
                self._cards.clear()
            self._cards[card.term.slug] = card
        return card

    async def term(self, query: str) -> Term:
        return (await self.card(query)).term

    async def autocomplete(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Prefix matches in name order, then typo matches: no database round trip."""
        index = await self._names()
        key = name_key(text)
        if not key:
            return index.first[:limit]
        found = index.prefix(key, limit)
        if len(found) < limit:
            found += await asyncio.to_thread(
                index.fuzzy, key, limit - len(found), {s.slug for s in found}
            )
        return found

    async def suggest(self, text: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        """'Did you mean' for a miss: the closest names, then names inside a sentence
        and typos of its words, best first."""
        phrase = clean_query(text)
        key = name_key(phrase)
        if not key:
            return []
        found = await self.autocomplete(key, limit)
        if len(found) < limit and (" " in phrase or not found):
            index = await self._names()
            found += await asyncio.to_thread(
                names_within, index, phrase, limit - len(found), {s.slug for s in found})
        return found

    async def search(self, text: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """Ranked full-text search over every section (bm25), with snippets."""
        match, boost = fts_query(text), name_boost_query(text)
        if match is None or boost is None:
            return SearchPage((), 0, offset)
        rows = await self._reader.execute_fetchall(_SEARCH_SQL, (match, boost, limit, offset))
        hits = tuple(
            SearchHit(slug, title, " ".join(snip.split()), score)
            for slug, title, snip, score, _ in rows
        )
        total = rows[0][4] if rows else 0
        return SearchPage(hits, total, offset)

    async def all_terms(self) -> list[Term]:
        rows = await self._reader.execute_fetchall(
            "SELECT d.data FROM terms t JOIN term_data d ON d.term_id = t.id ORDER BY t.slug")
        return [_term_from_json(data) for (data,) in rows]

    async def term_count(self) -> int:
        rows = await self._reader.execute_fetchall("SELECT count(*) FROM terms")
        return rows[0][0]

    async def mentioned_terms(self, text: str) -> list[tuple[str, str]]:
        """(slug, title) of every term a message mentions, in order of first mention."""
        return await asyncio.to_thread(find_mentions, await self._names(), text)

    # ----- the name index ----------------------------------------------------------

    async def _names(self) -> NameIndex:
        """The in-memory name index, refreshed when another process reloaded.

        Checking costs a query, so it happens at most every INDEX_CHECK_SECONDS; a stale
        index keeps answering while the new one is built in the background.
        """
        if self._index is None:
            await self._rebuild_index()
        elif time.monotonic() - self._index_checked >= INDEX_CHECK_SECONDS:
            self._index_checked = time.monotonic()
            version = await self.get_meta("content_version")
            if version != self._index_version and (
                self._index_task is None or self._index_task.done()
            ):
                self._index_task = asyncio.create_task(self._rebuild_index())
                self._index_task.add_done_callback(_log_failure)
        assert self._index is not None
        return self._index

    async def _rebuild_index(self) -> None:
        """Read every name into a fresh NameIndex, unless it is already current.

        One trip to a worker thread, which reads on a connection of its own: the large
        reads do not queue lookups on the shared reader, the columns come back as bare
        values (row tuples would fragment the memory the index keeps), and under load the
        rebuild does not wait a loop turn for each of its statements.
        """
        async with self._index_lock:
            index = await asyncio.to_thread(_read_index, self.path, self._index_version,
                                            self._index is None)
            self._index_checked = time.monotonic()
            if index is not None:
                self._index_version, self._index = index
                self._cards = {}

    # ----- reloading --------------------------------------------------------------

    async def reload(self, directory: Path | str) -> ReloadDiff:
        """Replace the glossary with the directory's content, all or nothing.

        Only files whose size or modification time changed since the last load are parsed.
        If any file has an error nothing is written and ``InvalidContent`` carries every
        problem (file, line, message); concurrent reloads are serialised.
        """
        async with self._reload_lock:
            directory = Path(directory)
            scan = await asyncio.to_thread(scan_directory, directory)
            async with self._transaction() as db:
                rows = await db.execute_fetchall(
                    "SELECT file, id, slug, mtime_ns, size, fingerprint, names_fingerprint "
                    "FROM terms ORDER BY file")
                plan = await asyncio.to_thread(_plan, scan, rows)
                applied = await self._apply(db, directory, scan, plan)
            if applied.version is not None:
                self._checkpoint_soon()
            if applied.names_changed or self._index is None:
                await self._rebuild_index()
            elif applied.version is not None:  # new text, same names: the index still holds
                self._index_version, self._cards = applied.version, {}
            return applied.diff

    def _checkpoint_soon(self) -> None:
        """Copy committed writes into the database file in the background (the writer's
        automatic checkpoint is off: it would make the committing write wait for it)."""
        if self._checkpoint_task is None or self._checkpoint_task.done():
            self._checkpoint_task = asyncio.get_running_loop().create_task(self._checkpoint())
            self._checkpoint_task.add_done_callback(_log_failure)

    async def _checkpoint(self) -> None:
        async with self._write_lock:
            await self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _apply(
        self, db: aiosqlite.Connection, directory: Path, scan: Scan, plan: _Plan
    ) -> _Applied:
        """Write what changed inside the caller's transaction; raise to roll it back."""
        shown = display_path(directory)
        problems = list(scan.problems)
        if not scan.files and plan.loaded:
            problems.append(Problem(shown, 0, "directory", (
                f"has no term files; refusing to remove all {len(plan.loaded)} terms (is "
                "content_dir right? to empty the glossary, keep one term file)")))
        before = {slug: fingerprint for _, slug, _, _, fingerprint, _ in plan.removed}
        names_changed = bool(plan.removed)
        await _delete_terms(db, [row[0] for row in plan.removed])
        first_new_id = next_id = plan.next_id
        chunks = parse_in_chunks(directory, plan.to_parse) if plan.to_parse else _no_chunks()
        async for chunk in chunks:
            inserts: list[tuple[int, ParsedFile]] = []
            stale: list[int] = []
            touched: list[tuple[int, int, int]] = []
            for parsed in chunk:
                problems += parsed.problems
                name, mtime_ns, size = parsed.file
                row, record = plan.loaded.get(name), parsed.record
                old = _Loaded._make(row) if row is not None else None
                if old is not None and parsed.valid and old.fingerprint == record.fingerprint:
                    touched.append((mtime_ns, size, old.id))
                    continue  # saved again without a change: only its time moves
                if old is not None:
                    stale.append(old.id)
                    before[old.slug] = old.fingerprint
                names_changed = names_changed or old is None or (
                    old.names_fingerprint != record.names_fingerprint)
                inserts.append((next_id, parsed))
                next_id += 1
            await _delete_terms(db, stale)
            await _insert_terms(db, inserts)
            if touched:
                await db.executemany(
                    "UPDATE terms SET mtime_ns = ?, size = ? WHERE id = ?", touched)
        problems += await _collisions(db, first_new_id, shown)
        warnings = await _dangling(db, shown)
        if any(not p.is_warning for p in problems):
            valid = await db.execute_fetchall("SELECT count(*) FROM term_data")
            raise InvalidContent([*problems, *warnings], valid_terms=valid[0][0])
        # Read back rather than kept from the parsed chunks: names held from every chunk
        # would keep all their memory from being reused.
        after = await db.execute_fetchall(
            "SELECT slug, fingerprint FROM terms WHERE id >= ? ORDER BY file", (first_new_id,))
        added, changed, removed = await asyncio.to_thread(_diff, before, dict(after))
        now = str(time.time())
        meta = [("last_reload_at", now)]
        if added or removed or changed:
            meta.append(("content_version", now))
        await db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta)
        count = await db.execute_fetchall("SELECT count(*) FROM terms")
        warnings = [p for p in problems if p.is_warning] + warnings
        diff = ReloadDiff(added, changed, removed, count[0][0], tuple(warnings))
        return _Applied(diff, names_changed, now if not diff.is_empty else None)

    # ----- usage records ------------------------------------------------------------

    def record_lookup(self, slug: str) -> None:
        """Count a card shown. Buffered in memory: a lookup must not wait for a disk write
        (or for a reload holding the writer); flushed every few seconds and on close."""
        self._pending_lookups[slug] += 1
        self._flush_soon()

    def record_miss(self, query: str) -> None:
        """Remember a term students asked for that does not exist: the content gaps.

        Only the words that could name a term count: "what is a bakend" is recorded as
        "bakend", and mentions or links a student typed never reach the moderators' stats.
        """
        phrase = clean_query(query)
        key = name_key(phrase)[:100]
        if not key:
            return
        shown, count = self._pending_misses.get(key, (phrase[:100], 0))
        self._pending_misses[key] = (shown, count + 1)
        self._flush_soon()

    def _flush_soon(self) -> None:
        due = time.monotonic() - self._last_flush >= USAGE_FLUSH_SECONDS
        if due and (self._flush_task is None or self._flush_task.done()):
            self._flush_task = asyncio.get_running_loop().create_task(self.flush_usage())

    async def flush_usage(self) -> None:
        """Write buffered usage counts in one transaction; on failure keep them buffered."""
        lookups, misses = self._pending_lookups, self._pending_misses
        self._pending_lookups, self._pending_misses = Counter(), {}
        self._last_flush = time.monotonic()
        if not lookups and not misses:
            return
        now = time.time()
        try:
            async with self._transaction() as db:
                await db.executemany(
                    "INSERT INTO lookups(slug, count, last_at) VALUES (?, ?, ?) ON CONFLICT(slug)"
                    " DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at",
                    [(slug, count, now) for slug, count in lookups.items()],
                )
                await db.executemany(
                    "INSERT INTO misses(key, query, count, last_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET count = count + excluded.count, "
                    "last_at = excluded.last_at",
                    [(key, shown, count, now) for key, (shown, count) in misses.items()],
                )
        except Exception:
            log.exception("Could not save usage counts; keeping them for the next try")
            self._pending_lookups.update(lookups)
            for key, (shown, count) in misses.items():
                pending = self._pending_misses.get(key, (shown, 0))
                self._pending_misses[key] = (shown, pending[1] + count)
            return
        self._checkpoint_soon()  # with quiz answers and settings since the last one

    async def stats(self, limit: int = 10) -> GlossaryStats:
        await self.flush_usage()
        rows = await self._reader.execute_fetchall(
            """
            SELECT 0, (SELECT count(*) FROM terms), (SELECT value FROM meta
                       WHERE key = 'last_reload_at')
            UNION ALL SELECT * FROM (SELECT 1, coalesce(t.title, l.slug), l.count
                       FROM lookups l LEFT JOIN terms t ON t.slug = l.slug
                       ORDER BY l.count DESC, l.last_at DESC LIMIT ?)
            UNION ALL SELECT * FROM (SELECT 2, m.query, m.count FROM misses m
                       WHERE NOT EXISTS (SELECT 1 FROM names n WHERE n.key = m.key)
                       ORDER BY m.count DESC, m.last_at DESC LIMIT ?)
            """,
            (limit, limit),
        )
        head = rows[0]
        return GlossaryStats(
            term_count=head[1],
            last_reload_at=float(head[2]) if head[2] is not None else None,
            top_terms=tuple(CountedName(name, count) for tier, name, count in rows if tier == 1),
            top_misses=tuple(CountedName(name, count) for tier, name, count in rows if tier == 2),
        )

    # ----- per-server settings --------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """Settings are read on every card, so they are cached; briefly, so that a change
        made through another process sharing the database is seen within seconds."""
        cached = self._settings.get(guild_id)
        if cached is not None and time.monotonic() - cached[1] < SETTINGS_TTL_SECONDS:
            return cached[0]
        rows = await self._reader.execute_fetchall(
            "SELECT data FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        settings = GuildSettings(guild_id, **json.loads(rows[0][0])) if rows else GuildSettings(
            guild_id)
        self._settings[guild_id] = (settings, time.monotonic())
        return settings

    async def update_guild_settings(self, guild_id: int, **changes: object) -> GuildSettings:
        settings = replace(await self.guild_settings(guild_id), **changes)
        data = {k: v for k, v in asdict(settings).items() if k != "guild_id"}
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO guild_settings(guild_id, data) VALUES (?, ?)",
                (guild_id, json.dumps(data)),
            )
        self._settings[guild_id] = (settings, time.monotonic())
        return settings

    async def daily_settings(self) -> list[GuildSettings]:
        """Every server that asked for a term of the day."""
        rows = await self._reader.execute_fetchall(
            "SELECT guild_id, data FROM guild_settings "
            "WHERE json_extract(data, '$.daily_channel_id') IS NOT NULL"
        )
        return [GuildSettings(guild_id, **json.loads(data)) for guild_id, data in rows]

    # ----- quizzes ------------------------------------------------------------------

    async def quiz_material(
        self, category: str | None, sample: int = 12
    ) -> tuple[Term | None, list[Term], list[Term]]:
        """A random answer (of the category, if given), random other terms of the answer's
        own category (the plausible wrong choices) and random terms of any category.

        Random picks go over ids in an index, so a quiz never reads the whole glossary.
        """
        rows = await self._reader.execute_fetchall(
            """
            WITH answer AS MATERIALIZED (
                SELECT id, category FROM terms WHERE ?1 IS NULL OR category = ?1
                ORDER BY random() LIMIT 1
            ), same AS MATERIALIZED (
                SELECT t.id FROM terms t, answer a
                WHERE t.category = a.category AND t.id <> a.id ORDER BY random() LIMIT ?2
            ), others AS MATERIALIZED (
                SELECT id FROM terms WHERE EXISTS (SELECT 1 FROM answer)
                AND id NOT IN (SELECT id FROM answer) ORDER BY random() LIMIT ?2
            )
            SELECT 0, data FROM term_data WHERE term_id IN (SELECT id FROM answer)
            UNION ALL SELECT 1, data FROM term_data WHERE term_id IN (SELECT id FROM same)
            UNION ALL SELECT 2, data FROM term_data WHERE term_id IN (SELECT id FROM others)
            """,
            (category, sample),
        )
        tiers: tuple[list[Term], list[Term], list[Term]] = ([], [], [])
        for tier, data in rows:
            tiers[tier].append(_term_from_json(data))
        answer, same, others = tiers
        return (answer[0] if answer else None), same, others

    async def categories(self) -> list[str]:
        rows = await self._reader.execute_fetchall(
            "SELECT DISTINCT category FROM terms WHERE category IS NOT NULL ORDER BY category"
        )
        return [category for (category,) in rows]

    async def create_quiz(
        self, guild_id: int, answer: str, choices: Sequence[str], mode: str
    ) -> Quiz:
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "INSERT INTO quizzes(guild_id, answer, choices, mode, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (guild_id, answer, json.dumps(list(choices)), mode, time.time()),
            )
        return Quiz(rows[0][0], guild_id, answer, tuple(choices), mode)

    async def answer_quiz(self, quiz_id: int, user_id: int, choice: str) -> QuizOutcome:
        """Record a member's first answer and score it; later answers change nothing."""
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT guild_id, answer, choices, mode FROM quizzes WHERE id = ?", (quiz_id,)
            )
            if not rows:
                raise QuizNotFound("That quiz is no longer available.")
            guild_id, answer, choices, mode = rows[0]
            quiz = Quiz(quiz_id, guild_id, answer, tuple(json.loads(choices)), mode)
            previous = await db.execute_fetchall(
                "SELECT choice FROM quiz_answers WHERE quiz_id = ? AND user_id = ?",
                (quiz_id, user_id),
            )
            if previous:
                chosen = previous[0][0]
                return QuizOutcome(quiz, chosen, chosen == answer, already_answered=True)
            correct = choice == answer
            await db.execute(
                "INSERT INTO quiz_answers(quiz_id, user_id, choice, correct, answered_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (quiz_id, user_id, choice, int(correct), time.time()),
            )
            await db.execute(
                "INSERT INTO quiz_scores(guild_id, user_id, correct, answered) VALUES (?, ?, ?, 1)"
                " ON CONFLICT(guild_id, user_id) DO UPDATE SET "
                "correct = correct + excluded.correct, answered = answered + 1",
                (guild_id, user_id, int(correct)),
            )
        return QuizOutcome(quiz, choice, correct, already_answered=False)

    async def leaderboard(self, guild_id: int, limit: int = 10) -> list[Score]:
        rows = await self._reader.execute_fetchall(
            "SELECT user_id, correct, answered FROM quiz_scores WHERE guild_id = ? "
            "ORDER BY correct DESC, answered ASC, user_id LIMIT ?",
            (guild_id, limit),
        )
        return [Score(*row) for row in rows]

    # ----- term of the day --------------------------------------------------------------

    async def claim_daily_term(self, guild_id: int, day: str) -> str | None:
        """Choose and record the day's term, or None if the day already has one.

        Recorded before posting so that a restart or reconnect can never post twice on
        one day; terms repeat only after every term has been posted once.
        """
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                """
                WITH current AS (SELECT coalesce(max(cycle), 0) AS cycle FROM daily_posts
                                 WHERE guild_id = ?1)
                SELECT (SELECT count(*) FROM daily_posts WHERE guild_id = ?1 AND day = ?2),
                       (SELECT cycle FROM current),
                       (SELECT slug FROM terms WHERE slug NOT IN (
                            SELECT slug FROM daily_posts WHERE guild_id = ?1
                            AND cycle = (SELECT cycle FROM current))
                        ORDER BY random() LIMIT 1),
                       (SELECT slug FROM terms ORDER BY random() LIMIT 1)
                """,
                (guild_id, day),
            )
            already, cycle, unposted, any_term = rows[0]
            if already or any_term is None:
                return None
            slug = unposted or any_term
            await db.execute(
                "INSERT INTO daily_posts(guild_id, day, slug, cycle) VALUES (?, ?, ?, ?)",
                (guild_id, day, slug, cycle if unposted else cycle + 1),
            )
        return slug

    async def release_daily_term(self, guild_id: int, day: str) -> None:
        """Give the day back when posting failed, so the next attempt can post."""
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM daily_posts WHERE guild_id = ? AND day = ?", (guild_id, day)
            )

    async def get_meta(self, key: str) -> str | None:
        rows = await self._reader.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self._transaction() as db:
            await db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


async def _migrate(db: aiosqlite.Connection) -> None:
    (version,) = (await db.execute_fetchall("PRAGMA user_version"))[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {version} is newer than this bot ({len(MIGRATIONS)}); "
            "upgrade the bot or point it at another database"
        )
    for number in range(version, len(MIGRATIONS)):
        log.info("Migrating database to schema version %d", number + 1)
        await db.execute("BEGIN IMMEDIATE")
        try:
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

async def _delete_terms(db: aiosqlite.Connection, ids: Sequence[int]) -> None:
    """Delete terms with their full-text rows; names and links go by cascade.

    The index keeps no copy of the text, so it is told which words to forget while the
    term is still there to read them from."""
    if not ids:
        return
    doomed = json.dumps(list(ids))
    await db.execute(
        "INSERT INTO terms_fts(terms_fts, rowid, title, aliases, body) "
        "SELECT 'delete', id, title, aliases, body FROM term_text "
        "WHERE id IN (SELECT value FROM json_each(?))", (doomed,))
    await db.execute("DELETE FROM terms WHERE id IN (SELECT value FROM json_each(?))",
                     (doomed,))


async def _insert_terms(db: aiosqlite.Connection, inserts: Sequence[tuple[int, ParsedFile]]
                        ) -> None:
    """Write parsed files. One with errors is written too, without its data, so its names
    and links meet the checks (nothing of it is indexed); the reload is then rolled back."""
    if not inserts:
        return
    await db.executemany(
        "INSERT INTO terms(id, slug, file, mtime_ns, size, fingerprint, names_fingerprint, title,"
        " category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(term_id, p.record.slug, *p.file,
          p.record.fingerprint, p.record.names_fingerprint, p.record.title, p.record.category)
         for term_id, p in inserts],
    )
    await db.executemany(
        "INSERT INTO term_data(term_id, data) VALUES (?, ?)",
        [(term_id, p.record.data) for term_id, p in inserts if p.valid],
    )
    await db.execute(
        "INSERT INTO terms_fts(rowid, title, aliases, body) "
        "SELECT id, title, aliases, body FROM term_text WHERE id BETWEEN ? AND ?",
        (inserts[0][0], inserts[-1][0]),
    )
    await db.executemany(
        "INSERT INTO names(key, term_id, name, kind, line, words) VALUES (?, ?, ?, ?, ?, ?)",
        [(n.key, term_id, n.name, n.kind, n.line, n.word_count)
         for term_id, p in inserts for n in p.record.names],
    )
    await db.executemany(
        "INSERT INTO links(term_id, position, target, line) VALUES (?, ?, ?, ?)",
        [(term_id, position, target, line) for term_id, p in inserts
         for position, (target, line) in enumerate(p.record.links)],
    )


async def _collisions(db: aiosqlite.Connection, first_new_id: int, shown: str) -> list[Problem]:
    """Names the reload wrote that another term already uses. The term loaded before
    keeps the name (so the file just edited is the one blamed), else the first file."""
    problems: list[Problem] = []
    owner: tuple[str, str, str] | None = None
    for key, name, kind, line, slug, file in await db.execute_fetchall(
        _COLLISIONS_SQL, (first_new_id,)
    ):
        if owner is None or owner[0] != key:
            owner = (key, slug, file)
            continue
        problems.append(Problem(
            os.path.join(shown, file), line, kind,
            f"{name!r} collides with term {owner[1]!r} ({os.path.join(shown, owner[2])}); "
            "names must differ ignoring case, accents and punctuation",
        ))
    return problems


async def _dangling(db: aiosqlite.Connection, shown: str) -> list[Problem]:
    """Related terms that do not exist (yet): warnings, their buttons shown disabled."""
    return [
        Problem(os.path.join(shown, file), line, "related",
                f"{target!r} is not a term yet (its button is shown disabled)", is_warning=True)
        for file, line, target in await db.execute_fetchall(_DANGLING_SQL)
    ]


async def _no_chunks() -> AsyncIterator[list[ParsedFile]]:
    """Nothing changed since the last load (a restart): nothing to parse."""
    return
    yield


def _read_index(path: Path, current: str | None, missing: bool
                ) -> tuple[str | None, NameIndex] | None:
    """(version, index) from one snapshot of the database, or None if ``current`` is the
    version already (another caller rebuilt it meanwhile). Runs in a worker thread."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA query_only = ON")
        db.row_factory = _first_column
        db.execute("BEGIN")
        version = db.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchall()
        if not missing and (version[0] if version else None) == current:
            return None
        keys, key_term_ids, word_counts, term_ids, slugs, titles = (
            db.execute(sql).fetchall() for sql in _INDEX_SQL)
        db.execute("COMMIT")
    finally:
        db.close()
    position = {term_id: number for number, term_id in enumerate(term_ids)}
    index = NameIndex(keys, [position[term_id] for term_id in key_term_ids], word_counts,
                      slugs, titles)
    return (version[0] if version else None), index


def _first_column(cursor: sqlite3.Cursor, row: tuple) -> object:
    return row[0]


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Could not refresh the name index", exc_info=task.exception())
