"""The SQLite store: the loaded glossary, its indexes and the bot's own records.

All SQL lives here. Two aiosqlite connections share one WAL database: reloads write on
one while lookups read on the other, so a reader sees the old glossary or the new one
(each lookup is a single statement, hence a single snapshot), never a mix, and a long
reload never queues lookups behind it. Each lookup is one ``execute_fetchall``: every
aiosqlite await is a thread hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import aiosqlite

from bot.content import (
    ContentCache,
    LoadResult,
    directory_stamp,
    load_directory,
    term_fingerprint,
)
from bot.errors import InvalidContent, QuizNotFound, TermNotFound
from bot.matcher import TermMatcher
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
from bot.search import fts_query, name_boost_query, prefix_upper_bound, rank_fuzzy, trigram_query

log = logging.getLogger(__name__)

AUTOCOMPLETE_LIMIT = 25
SUGGESTION_LIMIT = 5
FUZZY_CANDIDATES = 300
USAGE_FLUSH_SECONDS = 5.0
SETTINGS_TTL_SECONDS = 30.0

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
)

_PRAGMAS = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
"""

_CARD_SQL = """
SELECT t.data,
       (SELECT json_group_object(r.slug, r.title) FROM terms r
         WHERE r.slug IN (SELECT value FROM json_each(t.data, '$.related')))
FROM names n JOIN terms t ON t.slug = n.slug
WHERE n.key = ?
"""

_PREFIX_SQL = """
SELECT n.slug, t.title, n.key FROM names n JOIN terms t ON t.slug = n.slug
WHERE n.key >= ? AND n.key < ? ORDER BY n.key LIMIT ?
"""

_TRIGRAM_SQL = """
SELECT n.slug, t.title, n.key
FROM (SELECT rowid FROM names_trigram WHERE names_trigram MATCH ? ORDER BY rank LIMIT ?) m
JOIN names n ON n.id = m.rowid JOIN terms t ON t.slug = n.slug
"""

_SEARCH_SQL = """
WITH hits AS MATERIALIZED (
    SELECT rowid, slug, title, snippet(terms_fts, 3, '**', '**', '…', 14) AS snip,
           bm25(terms_fts, 0.0, 10.0, 6.0, 1.0) AS score
    FROM terms_fts WHERE terms_fts MATCH ?
), named AS MATERIALIZED (
    SELECT rowid FROM terms_fts WHERE terms_fts MATCH ?
)
SELECT slug, title, snip, score - (CASE WHEN rowid IN named THEN 1000.0 ELSE 0.0 END) AS rank,
       (SELECT count(*) FROM hits)
FROM hits ORDER BY rank LIMIT ? OFFSET ?
"""


def _term_from_json(data: str) -> Term:
    raw = json.loads(data)
    for name in ("common_mistakes", "related", "aliases"):
        raw[name] = tuple(raw[name])
    return Term(**raw)


def _term_rows(terms: Sequence[Term]) -> dict[str, tuple]:
    """Everything a term writes, computed off the event loop before the transaction."""
    rows: dict[str, tuple] = {}
    for term in terms:
        data = json.dumps(asdict(term), ensure_ascii=False)
        body = "\n".join(
            [term.definition, term.why_it_matters, term.course_example,
             term.real_world_example, *term.common_mistakes]
        )
        names = {name_key(n): n for n in reversed(term.names())}
        rows[term.slug] = (
            (term.slug, term.title, data, term_fingerprint(term)),
            [(key, term.slug, name) for key, name in names.items()],
            (term.slug, term.title, " ".join(term.aliases), body),
        )
    return rows


class Store:
    """The one gateway to the database; open with ``await Store.open(path)``."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._reload_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._content_cache = ContentCache()
        self._pending_lookups: Counter[str] = Counter()
        self._pending_misses: dict[str, tuple[str, int]] = {}
        self._last_flush = time.monotonic()
        self._flush_task: asyncio.Task[None] | None = None
        self._settings: dict[int, tuple[GuildSettings, float]] = {}
        self._matcher: TermMatcher | None = None
        self._matcher_version: str | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await writer.executescript(_PRAGMAS)
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
        if self._flush_task is not None:
            await asyncio.gather(self._flush_task, return_exceptions=True)
        await self.flush_usage()
        await self._reader.close()
        await self._writer.close()

    async def __aenter__(self) -> Store:
        return self

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

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- reading the glossary -------------------------------------------------

    async def card(self, query: str) -> Card:
        """The card for a slug, title or alias, in any case, accents or punctuation."""
        key = name_key(query)
        rows = await self._reader.execute_fetchall(_CARD_SQL, (key,)) if key else []
        if not rows:
            raise TermNotFound(query, await self.suggest(query))
        data, related = rows[0]
        return Card(_term_from_json(data), json.loads(related) if related else {})

    async def term(self, query: str) -> Term:
        return (await self.card(query)).term

    async def autocomplete(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Prefix matches in name order, then fuzzy matches for typos, one round trip."""
        key = name_key(text)
        if not key:
            rows = await self._reader.execute_fetchall(
                "SELECT slug, title FROM terms ORDER BY title LIMIT ?", (limit,)
            )
            return [Suggestion(slug, title, 100.0) for slug, title in rows]
        return await self._ranked(key, limit)

    async def suggest(self, text: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        """'Did you mean' for a miss: the closest names, best first."""
        key = name_key(text)
        if not key:
            return []
        return await self._ranked(key, limit)

    async def _ranked(self, key: str, limit: int) -> list[Suggestion]:
        trigrams = trigram_query(key)
        parts = [f"SELECT 0, * FROM ({_PREFIX_SQL})"]
        params: list[object] = [key, prefix_upper_bound(key), limit * 3]
        if trigrams:
            parts.append(f"SELECT 1, * FROM ({_TRIGRAM_SQL})")
            params += [trigrams, FUZZY_CANDIDATES]
        # Names sharing the first letter catch short typos ("trm") that share no trigram.
        parts.append(f"SELECT 1, * FROM ({_PREFIX_SQL})")
        params += [key[0], prefix_upper_bound(key[0]), FUZZY_CANDIDATES]
        rows = await self._reader.execute_fetchall(" UNION ALL ".join(parts), params)
        prefix: list[Suggestion] = []
        seen: set[str] = set()
        for tier, slug, title, _name_key in rows:
            if tier == 0 and slug not in seen and len(prefix) < limit:
                seen.add(slug)
                prefix.append(Suggestion(slug, title, 100.0))
        if len(prefix) >= limit:
            return prefix
        fuzzy_rows = [(slug, title, k) for tier, slug, title, k in rows if tier == 1]
        return prefix + rank_fuzzy(key, fuzzy_rows, limit - len(prefix), exclude=seen)

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

    async def titles(self, slugs: Sequence[str]) -> dict[str, str]:
        """Titles of the given slugs that exist, to label buttons in one round trip."""
        if not slugs:
            return {}
        rows = await self._reader.execute_fetchall(
            "SELECT slug, title FROM terms WHERE slug IN (SELECT value FROM json_each(?))",
            (json.dumps(list(slugs)),),
        )
        return dict(rows)

    async def all_terms(self) -> list[Term]:
        rows = await self._reader.execute_fetchall("SELECT data FROM terms ORDER BY slug")
        return [_term_from_json(data) for (data,) in rows]

    async def term_count(self) -> int:
        rows = await self._reader.execute_fetchall("SELECT count(*) FROM terms")
        return rows[0][0]

    # ----- reloading --------------------------------------------------------------

    async def reload(self, directory: Path | str) -> ReloadDiff:
        """Replace the glossary with the directory's content, all or nothing.

        Files are parsed in a worker thread (unchanged files are not parsed again). If any
        file has an error nothing is written and ``InvalidContent`` carries every problem.
        """
        async with self._reload_lock:
            directory = Path(directory)
            stamp = await asyncio.to_thread(directory_stamp, directory)
            if stamp:
                unchanged = await self._unchanged_since_last_load(stamp)
                if unchanged is not None:
                    return unchanged
            result: LoadResult = await asyncio.to_thread(
                load_directory, directory, self._content_cache
            )
            if result.errors:
                raise InvalidContent(result.problems)
            rows = await asyncio.to_thread(_term_rows, result.terms)
            async with self._transaction() as db:
                current = dict(await db.execute_fetchall("SELECT slug, fingerprint FROM terms"))
                new = {slug: row[0][3] for slug, row in rows.items()}
                added = sorted(new.keys() - current.keys())
                removed = sorted(current.keys() - new.keys())
                changed = sorted(s for s in new.keys() & current.keys() if new[s] != current[s])
                await _replace_terms(db, rows, added + changed, changed + removed)
                await db.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    [("content_stamp", stamp),
                     ("content_warnings", json.dumps([asdict(w) for w in result.warnings]))],
                )
            return ReloadDiff(
                tuple(added), tuple(changed), tuple(removed), len(new), result.warnings
            )

    async def _unchanged_since_last_load(self, stamp: str) -> ReloadDiff | None:
        """The last load's outcome when no file changed since it (a restart), else None."""
        rows = await self._reader.execute_fetchall(
            "SELECT (SELECT value FROM meta WHERE key = 'content_stamp'), "
            "(SELECT value FROM meta WHERE key = 'content_warnings'), "
            "(SELECT count(*) FROM terms)"
        )
        stored, warnings, count = rows[0]
        if stored != stamp:
            return None
        problems = tuple(Problem(**w) for w in json.loads(warnings or "[]"))
        return ReloadDiff(term_count=count, warnings=problems)

    # ----- usage records ------------------------------------------------------------

    def record_lookup(self, slug: str) -> None:
        """Count a card shown. Buffered in memory: a lookup must not wait for a disk write
        (or for a reload holding the writer); flushed every few seconds and on close."""
        self._pending_lookups[slug] += 1
        self._flush_soon()

    def record_miss(self, query: str) -> None:
        """Remember a term students asked for that does not exist: the content gaps."""
        key = name_key(query)[:100]
        if not key:
            return
        shown, count = self._pending_misses.get(key, (" ".join(query.split())[:100], 0))
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

    # ----- explain terms ---------------------------------------------------------------

    async def mentioned_terms(self, text: str) -> list[tuple[str, str]]:
        """(slug, title) of every term a message mentions, in order of first mention.

        The matcher is built in a worker thread once per reload (by any process sharing
        the database), so a message is matched with dictionary lookups however large the
        glossary is.
        """
        version = await self.get_meta("last_reload_at")
        if self._matcher is None or self._matcher_version != version:
            rows = await self._reader.execute_fetchall(
                "SELECT n.name, n.slug, t.title FROM names n JOIN terms t ON t.slug = n.slug"
            )
            self._matcher = await asyncio.to_thread(TermMatcher, rows)
            self._matcher_version = version
        matcher = self._matcher
        return [(slug, matcher.titles[slug]) for slug in matcher.find(text)]

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
    ) -> tuple[list[Term], list[Term]]:
        """Random terms of the category (or any) and random terms of any category."""
        rows = await self._reader.execute_fetchall(
            """
            SELECT 0, data FROM (SELECT data FROM terms
                WHERE ?1 IS NULL OR json_extract(data, '$.category') = ?1
                ORDER BY random() LIMIT ?2)
            UNION ALL
            SELECT 1, data FROM (SELECT data FROM terms ORDER BY random() LIMIT ?2)
            """,
            (category, sample),
        )
        same = [_term_from_json(data) for tier, data in rows if tier == 0]
        others = [_term_from_json(data) for tier, data in rows if tier == 1]
        return same, others

    async def categories(self) -> list[str]:
        rows = await self._reader.execute_fetchall(
            "SELECT DISTINCT json_extract(data, '$.category') AS c FROM terms "
            "WHERE c IS NOT NULL ORDER BY c"
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


async def _replace_terms(
    db: aiosqlite.Connection, rows: dict[str, tuple], upserts: list[str], deletes: list[str]
) -> None:
    """Apply a reload's diff inside the caller's transaction: only changed terms move."""
    if deletes:
        doomed = [(slug,) for slug in deletes]
        await db.executemany("DELETE FROM names WHERE slug = ?", doomed)
        await db.executemany("DELETE FROM terms_fts WHERE slug = ?", doomed)
        await db.executemany("DELETE FROM terms WHERE slug = ?", doomed)
    if upserts:
        await db.executemany(
            "INSERT INTO terms(slug, title, data, fingerprint) VALUES (?, ?, ?, ?)",
            [rows[s][0] for s in upserts],
        )
        await db.executemany(
            "INSERT INTO names(key, slug, name) VALUES (?, ?, ?)",
            [name for s in upserts for name in rows[s][1]],
        )
        await db.executemany(
            "INSERT INTO terms_fts(slug, title, aliases, body) VALUES (?, ?, ?, ?)",
            [rows[s][2] for s in upserts],
        )
    await db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_reload_at', ?)",
        (str(time.time()),),
    )
