"""The class's own records: usage counts, server settings, quizzes, the term of the day.

Unlike the glossary, which the files define and a reload replaces, these are written by
the bot as students use it, and survive every reload. Each belongs to a server (usage and
misses also to the glossary the server used), so a moderator sees only their server's;
what students typed is kept only for a while (``prune``). Times come from ``clock``, which
the bot points at its own controllable clock.

They are shared state (``bot.storage.sql``): in SQLite by default, in PostgreSQL when
several processes share them. What is written once however many processes try: one
answer per student per quiz (the answer's primary key decides, not a read before it), one
term of the day per server per day (the claim's primary key), each batch of usage counts
added once (kept and sent again as is until it is written; PostgreSQL also remembers the
batch's id, for a commit whose acknowledgement was lost). The glossary itself (titles,
names) is read from the process's own database, ``local``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from bot.errors import QuizNotFound, SharedStateUnavailable
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
from bot.storage.sql import Shared

log = logging.getLogger(__name__)

USAGE_FLUSH_SECONDS = 5.0
SETTINGS_TTL_SECONDS = 30.0
# Settings that cannot be read (PostgreSQL down) are served from the last copy, or as the
# defaults, and read again after this long: a card never fails or waits for them.
SETTINGS_RETRY_SECONDS = 5.0
SETTINGS_READ_TIMEOUT = 1.0  # PostgreSQL only: a lookup waits no longer for settings
FLUSH_IDS_KEPT_SECONDS = 7 * 86400
MISS_PAGE = 100


@dataclass
class _UsageBatch:
    """Counts taken from the buffer together; written together, once."""

    lookups: Counter[tuple[int, int, str]] = field(default_factory=Counter)
    misses: dict[tuple[int, int, str], tuple[str, int]] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Records:
    """Writes go through the shared state's transactions; the glossary's titles and names
    come from ``local`` (the process's database; the same one on SQLite)."""

    def __init__(self, shared: Shared, local: Database,
                 clock: Callable[[], float] = time.time) -> None:
        self._shared = shared
        self._local = local
        self.clock = clock
        self._pending_lookups: Counter[tuple[int, int, str]] = Counter()
        self._pending_misses: dict[tuple[int, int, str], tuple[str, int]] = {}
        self._unsent: _UsageBatch | None = None  # a batch a failed write left; sent first
        self._flush_lock = asyncio.Lock()
        self._last_flush = time.monotonic()
        self._flush_task: asyncio.Task[None] | None = None
        self._settings: dict[int, tuple[GuildSettings, float]] = {}
        # PostgreSQL: every server's stored settings, read in one query and refreshed in the
        # background (see guild_settings); None until the first read.
        self._all_settings: dict[int, GuildSettings] | None = None
        self._all_settings_at = 0.0
        self._all_settings_lock = asyncio.Lock()
        self._all_settings_task: asyncio.Task[None] | None = None

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
        """Write buffered usage counts; on failure keep them for the next try.

        One flush at a time. A batch whose write failed is sent again as it was, with its
        id, before anything newer: on PostgreSQL a write can fail after its commit (the
        acknowledgement lost with the connection), and the id, remembered in the same
        transaction, makes the second try a no-op instead of counting twice.
        """
        async with self._flush_lock:
            self._last_flush = time.monotonic()
            for _ in range(2):  # the failed batch, then what came in meanwhile
                if self._unsent is None:
                    if not self._pending_lookups and not self._pending_misses:
                        return
                    self._unsent = _UsageBatch(self._pending_lookups, self._pending_misses)
                    self._pending_lookups, self._pending_misses = Counter(), {}
                batch = self._unsent
                try:
                    await self._write_usage(batch)
                except SharedStateUnavailable as exc:
                    log.warning("Could not save usage counts (%s); keeping them for the next "
                                "try", exc)
                    return
                except Exception:
                    log.exception("Could not save usage counts; keeping them for the next try")
                    return
                self._unsent = None
            self._shared.wrote()  # with quiz answers and settings since the last one

    async def _write_usage(self, batch: _UsageBatch) -> None:
        now = self.clock()
        async with self._shared.transaction() as db:
            if self._shared.remote:
                first = await db.fetch(
                    "INSERT INTO usage_flushes(id, at) VALUES (?, ?) ON CONFLICT (id) "
                    "DO NOTHING RETURNING id", (batch.id, now))
                if not first:
                    log.info("Usage batch %s was already saved; not counting it again",
                             batch.id)
                    return
            await db.executemany(
                "INSERT INTO lookups(guild_id, glossary_id, slug, count, last_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(guild_id, glossary_id, slug)"
                " DO UPDATE SET count = lookups.count + excluded.count,"
                " last_at = excluded.last_at",
                [(*where, count, now) for where, count in batch.lookups.items()],
            )
            await db.executemany(
                "INSERT INTO misses(guild_id, glossary_id, key, query, count, last_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(guild_id, glossary_id, key) "
                "DO UPDATE SET count = misses.count + excluded.count,"
                " last_at = excluded.last_at",
                [(*where, shown, count, now) for where, (shown, count) in batch.misses.items()],
            )

    async def stats(self, guild_id: int = 0, glossary_id: int = 1, limit: int = 10
                    ) -> GlossaryStats:
        """One server's usage of the glossary it uses: nothing of another server's.

        Usage is shared state, the glossary's titles and names are the process's own: two
        reads on each side, the misses paged until ``limit`` of them are not (any longer)
        names of terms."""
        await self.flush_usage()
        head = (await self._local.reader.execute_fetchall(
            "SELECT (SELECT count(*) FROM terms WHERE glossary_id = ?1), "
            "(SELECT last_reload_at FROM glossaries WHERE id = ?1)", (glossary_id,)))[0]
        top = await self._shared.fetch(
            "SELECT slug, count FROM lookups WHERE guild_id = ? AND glossary_id = ? "
            "ORDER BY count DESC, last_at DESC LIMIT ?", (guild_id, glossary_id, limit))
        titles = await self._local_values(
            "SELECT slug, title FROM terms WHERE glossary_id = ? AND slug IN ({})",
            glossary_id, [slug for slug, _ in top])
        misses: list[CountedName] = []
        offset = 0
        while len(misses) < limit:
            page = await self._shared.fetch(
                "SELECT key, query, count FROM misses WHERE guild_id = ? AND glossary_id = ? "
                "ORDER BY count DESC, last_at DESC LIMIT ? OFFSET ?",
                (guild_id, glossary_id, MISS_PAGE, offset))
            names = await self._local_values(
                "SELECT key, key FROM names WHERE glossary_id = ? AND key IN ({})",
                glossary_id, [key for key, _, _ in page])
            misses += [CountedName(query, count) for key, query, count in page
                       if key not in names]
            if len(page) < MISS_PAGE:
                break
            offset += MISS_PAGE
        return GlossaryStats(
            term_count=head[0],
            last_reload_at=float(head[1]) if head[1] is not None else None,
            top_terms=tuple(CountedName(titles.get(slug, slug), count) for slug, count in top),
            top_misses=tuple(misses[:limit]),
        )

    async def _local_values(self, sql: str, glossary_id: int, keys: Sequence[str]
                            ) -> dict[str, str]:
        """``{first column: second}`` of the local glossary's rows for ``keys``."""
        if not keys:
            return {}
        rows = await self._local.reader.execute_fetchall(
            sql.format(", ".join("?" * len(keys))), (glossary_id, *keys))
        return {key: value for key, value in rows}

    # ----- per-server settings --------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """Settings are read on every card, so they are cached; briefly, so that a change
        made through another process sharing the database is seen within seconds.

        A card never fails for them: settings that cannot be read (PostgreSQL down) are
        the last copy read, or the defaults, tried again a few seconds later.

        On PostgreSQL a card must not wait on the network either: with thousands of
        servers per process nearly every card is the first in its server for a while, so a
        per-server cache would send nearly every /define to PostgreSQL (the scale run's
        /define was twice as slow as autocomplete). Instead the process holds every stored
        row (only servers whose moderators changed something have one), read in one query,
        refreshed in the background once older than SETTINGS_TTL_SECONDS."""
        if self._shared.remote:
            return await self._snapshot_settings(guild_id)
        cached = self._settings.get(guild_id)
        if cached is not None and time.monotonic() - cached[1] < SETTINGS_TTL_SECONDS:
            return cached[0]
        try:
            rows = await self._read_settings(guild_id)
        except (SharedStateUnavailable, TimeoutError) as exc:
            settings = cached[0] if cached is not None else GuildSettings(guild_id)
            log.warning("Cannot read the settings of guild %s (%s); serving %s for now",
                        guild_id, exc.__class__.__name__,
                        "the last copy" if cached is not None else "the defaults")
            retry_at = time.monotonic() - SETTINGS_TTL_SECONDS + SETTINGS_RETRY_SECONDS
            self._settings[guild_id] = (settings, retry_at)
            return settings
        settings = _settings(guild_id, rows)
        self._settings[guild_id] = (settings, time.monotonic())
        return settings

    async def _snapshot_settings(self, guild_id: int) -> GuildSettings:
        if self._all_settings is None:
            # once, at the first card: no longer than a card may wait (then the defaults)
            await self._refresh_settings(SETTINGS_READ_TIMEOUT)
        elif time.monotonic() - self._all_settings_at >= SETTINGS_TTL_SECONDS and (
                self._all_settings_task is None or self._all_settings_task.done()):
            self._all_settings_task = asyncio.get_running_loop().create_task(
                self._refresh_settings(SETTINGS_READ_TIMEOUT * 5))
        found = (self._all_settings or {}).get(guild_id)
        return found if found is not None else GuildSettings(guild_id)

    async def _refresh_settings(self, timeout: float) -> None:
        """Every stored server's settings in one read; on failure keep what was read last
        (or nothing: the defaults) and try again SETTINGS_RETRY_SECONDS later."""
        async with self._all_settings_lock:
            if (self._all_settings is not None
                    and time.monotonic() - self._all_settings_at < SETTINGS_TTL_SECONDS):
                return  # another card refreshed them meanwhile
            read_at = time.monotonic()
            try:
                rows = await asyncio.wait_for(
                    self._shared.fetch("SELECT guild_id, data FROM guild_settings"),
                    timeout)
            except (SharedStateUnavailable, TimeoutError) as exc:
                log.warning("Cannot read the servers' settings (%s); serving %s for now",
                            exc.__class__.__name__, "the last copy"
                            if self._all_settings is not None else "the defaults")
                if self._all_settings is None:  # what this process itself changed, if any
                    self._all_settings = {gid: s for gid, (s, _) in self._settings.items()}
                self._all_settings_at = (time.monotonic() - SETTINGS_TTL_SECONDS
                                         + SETTINGS_RETRY_SECONDS)
                return
            fresh = {gid: GuildSettings(gid, **json.loads(data)) for gid, data in rows}
            # a change this process made while the read was on its way stays
            for gid, (settings, changed_at) in self._settings.items():
                if changed_at > read_at:
                    fresh[gid] = settings
            self._all_settings, self._all_settings_at = fresh, read_at

    async def _read_settings(self, guild_id: int) -> list[tuple[str]]:
        read = self._shared.fetch("SELECT data FROM guild_settings WHERE guild_id = ?",
                                  (guild_id,))
        if not self._shared.remote:
            return await read  # type: ignore[return-value]
        return await asyncio.wait_for(read, SETTINGS_READ_TIMEOUT)  # type: ignore[return-value]

    async def update_guild_settings(self, guild_id: int, **changes: object) -> GuildSettings:
        """Change some settings, keeping the others as stored (read in the transaction,
        never from the cache: another process may have changed them; PostgreSQL locks the
        row, so two changes at once both stay)."""
        lock = " FOR UPDATE" if self._shared.remote else ""
        async with self._shared.transaction() as db:
            rows = await db.fetch("SELECT data FROM guild_settings WHERE guild_id = ?" + lock,
                                  (guild_id,))
            settings = replace(_settings(guild_id, rows), **changes)
            data = {k: v for k, v in asdict(settings).items() if k != "guild_id"}
            await db.execute(
                "INSERT INTO guild_settings(guild_id, data) VALUES (?, ?) "
                "ON CONFLICT(guild_id) DO UPDATE SET data = excluded.data",
                (guild_id, json.dumps(data)),
            )
        self._settings[guild_id] = (settings, time.monotonic())
        if self._all_settings is not None:
            self._all_settings[guild_id] = settings  # this process sees its change at once
        return settings

    async def daily_settings(self) -> list[GuildSettings]:
        """Every server that asked for a term of the day."""
        if self._shared.remote:
            sql = ("SELECT guild_id, data FROM guild_settings "
                   "WHERE (data::jsonb ->> 'daily_channel_id') IS NOT NULL")
        else:
            sql = ("SELECT guild_id, data FROM guild_settings "
                   "WHERE json_extract(data, '$.daily_channel_id') IS NOT NULL")
        rows = await self._shared.fetch(sql)
        return [GuildSettings(guild_id, **json.loads(data)) for guild_id, data in rows]

    # ----- quizzes ------------------------------------------------------------------

    async def create_quiz(
        self, guild_id: int, answer: str, choices: Sequence[str], mode: str,
        glossary_id: int = 1,
    ) -> Quiz:
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "INSERT INTO quizzes(guild_id, answer, choices, mode, created_at, glossary_id) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, answer, json.dumps(list(choices)), mode, self.clock(), glossary_id),
            )
        return Quiz(rows[0][0], guild_id, answer, tuple(choices), mode, glossary_id)

    async def answer_quiz(self, quiz_id: int, user_id: int, choice: str) -> QuizOutcome:
        """Record a member's first answer and score it; later answers change nothing.

        The answer's primary key decides which is first, so two processes handling two
        clicks of one student at once count one of them."""
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "SELECT guild_id, answer, choices, mode, glossary_id FROM quizzes WHERE id = ?",
                (quiz_id,))
            if not rows:
                raise QuizNotFound("That quiz is no longer available.")
            guild_id, answer, choices, mode, glossary_id = rows[0]
            quiz = Quiz(quiz_id, guild_id, answer, tuple(json.loads(choices)), mode, glossary_id)
            correct = choice == answer
            first = await db.fetch(
                "INSERT INTO quiz_answers(quiz_id, user_id, choice, correct, answered_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(quiz_id, user_id) DO NOTHING "
                "RETURNING choice",
                (quiz_id, user_id, choice, int(correct), self.clock()),
            )
            if not first:
                previous = await db.fetch(
                    "SELECT choice FROM quiz_answers WHERE quiz_id = ? AND user_id = ?",
                    (quiz_id, user_id),
                )
                chosen = previous[0][0]
                return QuizOutcome(quiz, chosen, chosen == answer, already_answered=True)
            await db.execute(
                "INSERT INTO quiz_scores(guild_id, user_id, correct, answered) VALUES (?, ?, ?, 1)"
                " ON CONFLICT(guild_id, user_id) DO UPDATE SET "
                "correct = quiz_scores.correct + excluded.correct,"
                " answered = quiz_scores.answered + 1",
                (guild_id, user_id, int(correct)),
            )
        return QuizOutcome(quiz, choice, correct, already_answered=False)

    async def leaderboard(self, guild_id: int, limit: int = 10) -> list[Score]:
        rows = await self._shared.fetch(
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
        one day; the claim's primary key (server, day) lets one process of many win.
        Terms repeat only after every term has been posted once.
        """
        slugs = [row[0] for row in await self._local.reader.execute_fetchall(
            "SELECT slug FROM terms WHERE glossary_id = ?", (glossary_id,))]
        if not slugs:
            return None
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "SELECT (SELECT count(*) FROM daily_posts WHERE guild_id = ?1 AND day = ?2), "
                "(SELECT coalesce(max(cycle), 0) FROM daily_posts "
                " WHERE guild_id = ?1 AND glossary_id = ?3)", (guild_id, day, glossary_id))
            already, cycle = rows[0]
            if already:
                return None
            posted = {row[0] for row in await db.fetch(
                "SELECT slug FROM daily_posts WHERE guild_id = ? AND glossary_id = ? "
                "AND cycle = ?", (guild_id, glossary_id, cycle))}
            unposted = [slug for slug in slugs if slug not in posted]
            slug = random.choice(unposted or slugs)
            claimed = await db.fetch(
                "INSERT INTO daily_posts(guild_id, day, slug, cycle, glossary_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(guild_id, day) DO NOTHING RETURNING slug",
                (guild_id, day, slug, cycle if unposted else cycle + 1, glossary_id),
            )
        return slug if claimed else None

    async def release_daily_term(self, guild_id: int, day: str) -> None:
        """Give the day back when posting failed, so the next attempt can post."""
        async with self._shared.transaction() as db:
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
        async with self._shared.transaction() as db:
            misses = await db.execute("DELETE FROM misses WHERE last_at < ?",
                                      (now - miss_days * 86400,))
            quizzes = await db.execute("DELETE FROM quizzes WHERE created_at < ?",
                                       (now - quiz_days * 86400,))
            if self._shared.remote:
                await db.execute("DELETE FROM usage_flushes WHERE at < ?",
                                 (now - FLUSH_IDS_KEPT_SECONDS,))
        return misses, quizzes


def _settings(guild_id: int, rows: Sequence[Sequence[str]]) -> GuildSettings:
    return GuildSettings(guild_id, **json.loads(rows[0][0])) if rows else GuildSettings(guild_id)
