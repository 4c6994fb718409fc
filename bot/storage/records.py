"""The class's own records: usage counts, server settings, quizzes, the term of the day.

Unlike the glossary, which the files define and a reload replaces, these are written by
the bot as students use it, and survive every reload. Each belongs to a server (usage and
misses also to the glossary the server used), so a moderator sees only their server's;
what students typed is kept only for a while (``prune``). Times come from ``clock``, which
the bot points at its own controllable clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace

from bot.errors import QuizNotFound
from bot.models import (
    CountedName,
    GlossaryStats,
    GuildSettings,
    Quiz,
    QuizOutcome,
    Score,
    name_key,
)
from bot.search import clean_query
from bot.storage.database import Database

log = logging.getLogger(__name__)

USAGE_FLUSH_SECONDS = 5.0
SETTINGS_TTL_SECONDS = 30.0


class Records:
    """Writes go through the database's one write transaction at a time."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.clock = clock
        self._pending_lookups: Counter[tuple[int, int, str]] = Counter()
        self._pending_misses: dict[tuple[int, int, str], tuple[str, int]] = {}
        self._last_flush = time.monotonic()
        self._flush_task: asyncio.Task[None] | None = None
        self._settings: dict[int, tuple[GuildSettings, float]] = {}

    async def close(self) -> None:
        """Write buffered usage counts before the connections close."""
        if self._flush_task is not None:
            await asyncio.gather(self._flush_task, return_exceptions=True)
        await self.flush_usage()

    # ----- usage records ------------------------------------------------------------

    def record_lookup(self, slug: str, guild_id: int | None = None, glossary_id: int = 1
                      ) -> None:
        """Count a card shown in a server (0: outside any server). Buffered in memory: a
        lookup must not wait for a disk write (or for a reload holding the writer);
        flushed every few seconds and on close."""
        self._pending_lookups[(guild_id or 0, glossary_id, slug)] += 1
        self._flush_soon()

    def record_miss(self, query: str, guild_id: int | None = None, glossary_id: int = 1
                    ) -> None:
        """Remember a term students asked for that does not exist: the content gaps.

        Only the words that could name a term count: "what is a bakend" is recorded as
        "bakend", and mentions or links a student typed never reach the moderators' stats.
        """
        phrase = clean_query(query)
        key = name_key(phrase)[:100]
        if not key:
            return
        where = (guild_id or 0, glossary_id, key)
        shown, count = self._pending_misses.get(where, (phrase[:100], 0))
        self._pending_misses[where] = (shown, count + 1)
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
        now = self.clock()
        try:
            async with self._db.transaction() as db:
                await db.executemany(
                    "INSERT INTO lookups(guild_id, glossary_id, slug, count, last_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(guild_id, glossary_id, slug)"
                    " DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at",
                    [(*where, count, now) for where, count in lookups.items()],
                )
                await db.executemany(
                    "INSERT INTO misses(guild_id, glossary_id, key, query, count, last_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(guild_id, glossary_id, key) "
                    "DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at",
                    [(*where, shown, count, now) for where, (shown, count) in misses.items()],
                )
        except Exception:
            log.exception("Could not save usage counts; keeping them for the next try")
            self._pending_lookups.update(lookups)
            for key, (shown, count) in misses.items():
                pending = self._pending_misses.get(key, (shown, 0))
                self._pending_misses[key] = (shown, pending[1] + count)
            return
        self._db.checkpoint_soon()  # with quiz answers and settings since the last one

    async def stats(self, guild_id: int = 0, glossary_id: int = 1, limit: int = 10
                    ) -> GlossaryStats:
        """One server's usage of the glossary it uses: nothing of another server's."""
        await self.flush_usage()
        rows = await self._db.reader.execute_fetchall(
            """
            SELECT 0, (SELECT count(*) FROM terms WHERE glossary_id = ?2),
                      (SELECT last_reload_at FROM glossaries WHERE id = ?2)
            UNION ALL SELECT * FROM (SELECT 1, coalesce(t.title, l.slug), l.count
                       FROM lookups l LEFT JOIN terms t
                       ON t.glossary_id = l.glossary_id AND t.slug = l.slug
                       WHERE l.guild_id = ?1 AND l.glossary_id = ?2
                       ORDER BY l.count DESC, l.last_at DESC LIMIT ?3)
            UNION ALL SELECT * FROM (SELECT 2, m.query, m.count FROM misses m
                       WHERE m.guild_id = ?1 AND m.glossary_id = ?2 AND NOT EXISTS (
                           SELECT 1 FROM names n WHERE n.glossary_id = ?2 AND n.key = m.key)
                       ORDER BY m.count DESC, m.last_at DESC LIMIT ?3)
            """,
            (guild_id, glossary_id, limit),
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
        rows = await self._db.reader.execute_fetchall(
            "SELECT data FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        settings = GuildSettings(guild_id, **json.loads(rows[0][0])) if rows else GuildSettings(
            guild_id)
        self._settings[guild_id] = (settings, time.monotonic())
        return settings

    async def update_guild_settings(self, guild_id: int, **changes: object) -> GuildSettings:
        settings = replace(await self.guild_settings(guild_id), **changes)
        data = {k: v for k, v in asdict(settings).items() if k != "guild_id"}
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO guild_settings(guild_id, data) VALUES (?, ?)",
                (guild_id, json.dumps(data)),
            )
        self._settings[guild_id] = (settings, time.monotonic())
        return settings

    async def daily_settings(self) -> list[GuildSettings]:
        """Every server that asked for a term of the day."""
        rows = await self._db.reader.execute_fetchall(
            "SELECT guild_id, data FROM guild_settings "
            "WHERE json_extract(data, '$.daily_channel_id') IS NOT NULL"
        )
        return [GuildSettings(guild_id, **json.loads(data)) for guild_id, data in rows]

    # ----- quizzes ------------------------------------------------------------------

    async def create_quiz(
        self, guild_id: int, answer: str, choices: Sequence[str], mode: str,
        glossary_id: int = 1,
    ) -> Quiz:
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                "INSERT INTO quizzes(guild_id, answer, choices, mode, created_at, glossary_id) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, answer, json.dumps(list(choices)), mode, self.clock(), glossary_id),
            )
        return Quiz(rows[0][0], guild_id, answer, tuple(choices), mode, glossary_id)

    async def answer_quiz(self, quiz_id: int, user_id: int, choice: str) -> QuizOutcome:
        """Record a member's first answer and score it; later answers change nothing."""
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT guild_id, answer, choices, mode, glossary_id FROM quizzes WHERE id = ?",
                (quiz_id,))
            if not rows:
                raise QuizNotFound("That quiz is no longer available.")
            guild_id, answer, choices, mode, glossary_id = rows[0]
            quiz = Quiz(quiz_id, guild_id, answer, tuple(json.loads(choices)), mode, glossary_id)
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
                (quiz_id, user_id, choice, int(correct), self.clock()),
            )
            await db.execute(
                "INSERT INTO quiz_scores(guild_id, user_id, correct, answered) VALUES (?, ?, ?, 1)"
                " ON CONFLICT(guild_id, user_id) DO UPDATE SET "
                "correct = correct + excluded.correct, answered = answered + 1",
                (guild_id, user_id, int(correct)),
            )
        return QuizOutcome(quiz, choice, correct, already_answered=False)

    async def leaderboard(self, guild_id: int, limit: int = 10) -> list[Score]:
        rows = await self._db.reader.execute_fetchall(
            "SELECT user_id, correct, answered FROM quiz_scores WHERE guild_id = ? "
            "ORDER BY correct DESC, answered ASC, user_id LIMIT ?",
            (guild_id, limit),
        )
        return [Score(*row) for row in rows]

    # ----- term of the day --------------------------------------------------------------

    async def claim_daily_term(self, guild_id: int, day: str, glossary_id: int = 1
                               ) -> str | None:
        """Choose and record the day's term, or None if the day already has one.

        Recorded before posting so that a restart or reconnect can never post twice on
        one day; terms repeat only after every term has been posted once.
        """
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                """
                WITH current AS (SELECT coalesce(max(cycle), 0) AS cycle FROM daily_posts
                                 WHERE guild_id = ?1 AND glossary_id = ?3)
                SELECT (SELECT count(*) FROM daily_posts WHERE guild_id = ?1 AND day = ?2),
                       (SELECT cycle FROM current),
                       (SELECT slug FROM terms WHERE glossary_id = ?3 AND slug NOT IN (
                            SELECT slug FROM daily_posts WHERE guild_id = ?1
                            AND glossary_id = ?3 AND cycle = (SELECT cycle FROM current))
                        ORDER BY random() LIMIT 1),
                       (SELECT slug FROM terms WHERE glossary_id = ?3 ORDER BY random() LIMIT 1)
                """,
                (guild_id, day, glossary_id),
            )
            already, cycle, unposted, any_term = rows[0]
            if already or any_term is None:
                return None
            slug = unposted or any_term
            await db.execute(
                "INSERT INTO daily_posts(guild_id, day, slug, cycle, glossary_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild_id, day, slug, cycle if unposted else cycle + 1, glossary_id),
            )
        return slug

    async def release_daily_term(self, guild_id: int, day: str) -> None:
        """Give the day back when posting failed, so the next attempt can post."""
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM daily_posts WHERE guild_id = ? AND day = ?", (guild_id, day)
            )

    # ----- retention ------------------------------------------------------------------

    async def prune(self, miss_days: float, quiz_days: float) -> tuple[int, int]:
        """Forget misses (free text students typed) unseen for ``miss_days`` and quizzes,
        with their answers, older than ``quiz_days``; scores stay. Two indexed range
        deletes: cheap enough to run every hour. Returns (misses, quizzes) deleted."""
        await self.flush_usage()
        now = self.clock()
        async with self._db.transaction() as db:
            misses = await db.execute("DELETE FROM misses WHERE last_at < ?",
                                      (now - miss_days * 86400,))
            quizzes = await db.execute("DELETE FROM quizzes WHERE created_at < ?",
                                       (now - quiz_days * 86400,))
        return misses.rowcount, quizzes.rowcount
