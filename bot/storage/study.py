"""A student's study records: saved terms, review cards, ratings, opted-in lookups, settings.

Every row carries the student's user id and nothing else about them, so ``delete_student``
removes a student completely; moderators only ever get sums over the class.

Shared state (``bot.storage.sql``): in SQLite, or in PostgreSQL for many processes, so
every write that must count once says so in its own statement (a rating updates the card
only as it was shown; saving inserts only what is not there yet) rather than trusting a
read made before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Sequence
from dataclasses import replace

from bot.storage.database import Database
from bot.storage.sql import Connection, Shared
from bot.study import (
    FAILED_REMINDERS_TO_STOP,
    LOOKUPS,
    LOOKUPS_TO_REVIEW,
    SAVED,
    ClassFigures,
    DueCard,
    Rating,
    Reminder,
    SavedTerm,
    StudentData,
    StudentSettings,
    TermFigure,
    schedule,
)

SAVED_LIMIT = 200
CLAIM_BATCH = 500
# New students' glossaries arriving this close together are written in one transaction.
GLOSSARY_BATCH_SECONDS = 0.5


class Study:
    def __init__(self, shared: Shared, local: Database) -> None:
        self._shared = shared
        self._local = local  # the glossary's titles, for the class's figures
        # The glossary each student used in a class server, waiting to be written together.
        self._used: dict[int, str | None] = {}
        self._used_batch: asyncio.Task[None] | None = None
        self._write_now = asyncio.Event()

    # ----- saved terms --------------------------------------------------------------

    async def toggle_saved(self, user_id: int, slug: str, title: str, now: float) -> bool:
        """Save the term, or unsave it if it was saved; True when it is saved now.
        A saved term enters the review; unsaving takes it out unless a quiz put it there."""
        async with self._shared.transaction() as db:
            if await db.execute(
                    "DELETE FROM study_saved WHERE user_id = ? AND slug = ?", (user_id, slug)):
                await db.execute("DELETE FROM study_cards WHERE user_id = ? AND slug = ? "
                                 "AND source = ?", (user_id, slug, SAVED))
                return False
            await db.execute("INSERT INTO study_saved VALUES (?, ?, ?, ?) "
                             "ON CONFLICT(user_id, slug) DO NOTHING", (user_id, slug, title, now))
            await self._enqueue(db, user_id, slug, SAVED, now)
            return True

    async def saved(self, user_id: int) -> list[SavedTerm]:
        rows = await self._shared.fetch(
            "SELECT slug, title FROM study_saved WHERE user_id = ? ORDER BY saved_at LIMIT ?",
            (user_id, SAVED_LIMIT))
        return [SavedTerm(slug, title) for slug, title in rows]

    async def forget_saved(self, user_id: int, slugs: Sequence[str] | None = None) -> int:
        """Unsave ``slugs`` (all when None) and take them out of the review where saving
        put them there; returns how many were saved."""
        async with self._shared.transaction() as db:
            if slugs is None:
                removed = await db.execute("DELETE FROM study_saved WHERE user_id = ?",
                                           (user_id,))
                await db.execute("DELETE FROM study_cards WHERE user_id = ? AND source = ?",
                                 (user_id, SAVED))
                return removed
            removed = 0
            for slug in slugs:
                removed += await db.execute(
                    "DELETE FROM study_saved WHERE user_id = ? AND slug = ?", (user_id, slug))
                await db.execute("DELETE FROM study_cards WHERE user_id = ? AND slug = ? "
                                 "AND source = ?", (user_id, slug, SAVED))
            return removed

    # ----- review -----------------------------------------------------------------

    async def enqueue(self, user_id: int, slug: str, source: str, now: float) -> None:
        """Put a term in the review; one already there becomes due now (a wrong quiz
        answer says the student needs it again)."""
        async with self._shared.transaction() as db:
            await self._enqueue(db, user_id, slug, source, now)

    @staticmethod
    async def _enqueue(db: Connection, user_id: int, slug: str, source: str, now: float
                       ) -> None:
        await db.execute(  # the earlier due date (SQLite's min(a, b) is PostgreSQL's least)
            "INSERT INTO study_cards(user_id, slug, due, reviews, source, fsrs, added_at) "
            "VALUES (?, ?, ?, 0, ?, NULL, ?) ON CONFLICT(user_id, slug) DO UPDATE SET "
            "due = CASE WHEN excluded.due < study_cards.due THEN excluded.due "
            "ELSE study_cards.due END", (user_id, slug, now, source, now))

    async def first_card(self, user_id: int, now: float) -> DueCard | None:
        """The card due first (maybe not yet due) and how many are due; one read."""
        rows = await self._shared.fetch(
            "SELECT slug, reviews, due, (SELECT count(*) FROM study_cards "
            "WHERE user_id = ?1 AND due <= ?2) FROM study_cards WHERE user_id = ?1 "
            "ORDER BY due LIMIT 1", (user_id, now))
        return DueCard(*rows[0]) if rows else None

    async def card(self, user_id: int, slug: str) -> DueCard | None:
        rows = await self._shared.fetch(
            "SELECT slug, reviews, due, 0 FROM study_cards WHERE user_id = ? AND slug = ?",
            (user_id, slug))
        return DueCard(*rows[0]) if rows else None

    async def rate(self, user_id: int, slug: str, seen_reviews: int, rating: Rating,
                   now: datetime.datetime) -> bool:
        """Rate the card as it was when shown (``seen_reviews``); False when it has moved
        on since (a second click, a button from yesterday), so a rating counts once."""
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "SELECT fsrs FROM study_cards WHERE user_id = ? AND slug = ? AND reviews = ? "
                "AND due <= ?", (user_id, slug, seen_reviews, now.timestamp()))
            if not rows:
                return False
            scheduled = schedule(rows[0][0], rating, now)
            # Only the card as it was read: a rating another process saved meanwhile moved
            # ``reviews`` on, and this one then changes nothing.
            if not await db.execute(
                    "UPDATE study_cards SET fsrs = ?, due = ?, reviews = reviews + 1 "
                    "WHERE user_id = ? AND slug = ? AND reviews = ?",
                    (scheduled.fsrs, scheduled.due, user_id, slug, seen_reviews)):
                return False
            await db.execute("INSERT INTO study_ratings VALUES (?, ?, ?, ?)",
                             (user_id, slug, int(rating), now.timestamp()))
            return True

    async def drop_card(self, user_id: int, slug: str) -> None:
        """A term that left the glossary leaves the review (and the saved list)."""
        async with self._shared.transaction() as db:
            await db.execute("DELETE FROM study_cards WHERE user_id = ? AND slug = ?",
                             (user_id, slug))
            await db.execute("DELETE FROM study_saved WHERE user_id = ? AND slug = ?",
                             (user_id, slug))

    async def count_lookup(self, user_id: int, slug: str, now: float) -> bool:
        """Count a lookup of a student who opted in; True when it entered the review."""
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "INSERT INTO study_lookups VALUES (?, ?, 1) ON CONFLICT(user_id, slug) "
                "DO UPDATE SET count = study_lookups.count + 1 RETURNING count", (user_id, slug))
            if rows[0][0] != LOOKUPS_TO_REVIEW:
                return False
            await self._enqueue(db, user_id, slug, LOOKUPS, now)
            return True

    # ----- settings and reminders --------------------------------------------------

    async def settings(self, user_id: int) -> StudentSettings:
        rows = await self._shared.fetch(
            "SELECT reminder_hour, track_lookups, failed_reminders FROM study_students "
            "WHERE user_id = ?", (user_id,))
        return StudentSettings(rows[0][0], bool(rows[0][1]), rows[0][2]) if rows else (
            StudentSettings())

    async def update_settings(self, user_id: int, **changes: object) -> StudentSettings:
        """``reminder_hour`` (None turns reminders off) and/or ``track_lookups``."""
        allowed = {"reminder_hour", "track_lookups"}
        assert set(changes) <= allowed, changes
        async with self._shared.transaction() as db:
            await db.execute("INSERT INTO study_students(user_id) VALUES (?) "
                             "ON CONFLICT(user_id) DO NOTHING", (user_id,))
            for column, value in changes.items():
                if isinstance(value, bool):
                    value = int(value)  # an integer column in both databases
                await db.execute(f"UPDATE study_students SET {column} = ?, "  # noqa: S608
                                 "failed_reminders = 0 WHERE user_id = ?", (value, user_id))
        return await self.settings(user_id)

    async def glossary_choices(self) -> dict[int, tuple[str, bool]]:
        """Each student's glossary outside a class server: (name, chosen by /study glossary)."""
        rows = await self._shared.fetch(
            "SELECT user_id, glossary, glossary_chosen FROM study_students "
            "WHERE glossary IS NOT NULL")
        return {user_id: (name, bool(chosen)) for user_id, name, chosen in rows}

    async def set_glossary(self, user_id: int, name: str | None, *, chosen: bool) -> None:
        """``chosen``: the student picked it (``None`` goes back to automatic); otherwise
        the glossary of the class server they just used, unless they picked one.

        The latter comes with a new student's first interaction, so a class that starts
        together would write one transaction each: those arriving within
        ``GLOSSARY_BATCH_SECONDS`` of each other are written together, in one (each
        caller returns once its batch is written, or raises what the write raised)."""
        if not chosen:
            self._used[user_id] = name
            if self._used_batch is None:
                self._used_batch = asyncio.get_running_loop().create_task(
                    self._write_used(), name="study-glossaries-used")
            await asyncio.shield(self._used_batch)
            return
        async with self._shared.transaction() as db:
            await db.execute("INSERT INTO study_students(user_id) VALUES (?) "
                             "ON CONFLICT(user_id) DO NOTHING", (user_id,))
            await db.execute("UPDATE study_students SET glossary = ?, glossary_chosen = ? "
                             "WHERE user_id = ?", (name, int(name is not None), user_id))

    async def _write_used(self) -> None:
        with contextlib.suppress(TimeoutError):  # the batch fills meanwhile (or closing)
            await asyncio.wait_for(self._write_now.wait(), GLOSSARY_BATCH_SECONDS)
        batch, self._used, self._used_batch = self._used, {}, None
        async with self._shared.transaction() as db:
            await db.executemany("INSERT INTO study_students(user_id) VALUES (?) "
                                 "ON CONFLICT(user_id) DO NOTHING", [(u,) for u in batch])
            await db.executemany("UPDATE study_students SET glossary = ? "
                                 "WHERE user_id = ? AND glossary_chosen = 0",
                                 [(name, u) for u, name in batch.items()])

    async def close(self) -> None:
        """Write the glossaries students used that are still waiting for their batch."""
        batch = self._used_batch
        if batch is not None:
            self._write_now.set()
            await asyncio.gather(batch, return_exceptions=True)
            self._write_now.clear()

    async def tracking_lookups(self) -> set[int]:
        rows = await self._shared.fetch(
            "SELECT user_id FROM study_students WHERE track_lookups <> 0")
        return {row[0] for row in rows}

    async def claim_reminders(self, hour: int, day: str, now: float,
                              limit: int = CLAIM_BATCH) -> list[Reminder]:
        """Up to ``limit`` students whose reminder hour has come today, who have cards due
        and were not reminded (or tried) today, with their due counts: claimed in one
        statement, so a DM that fails is not tried again all day and a restart never
        reminds twice. Batches keep each answer small (the event loop turns it into
        objects while other interactions wait)."""
        # PostgreSQL: without SKIP LOCKED, processes claiming at once pick the same students,
        # all but one wait on those rows and then drop them (the outer condition fails),
        # so their batches come back short or empty while students are still unclaimed.
        lock = " FOR UPDATE SKIP LOCKED" if self._shared.remote else ""
        async with self._shared.transaction() as db:
            # The outer condition again: PostgreSQL checks it on the row as another process
            # may just have claimed it, so two processes never remind one student twice.
            claimed = await db.fetch(
                "UPDATE study_students SET reminded_day = ?1 WHERE (reminded_day IS NULL "
                "OR reminded_day <> ?1) AND user_id IN (SELECT s.user_id "
                "FROM study_students s WHERE s.reminder_hour <= ?2 AND (s.reminded_day IS NULL "
                "OR s.reminded_day <> ?1) AND EXISTS (SELECT 1 FROM study_cards c WHERE "
                "c.user_id = s.user_id AND c.due <= ?3) LIMIT ?4" + lock + ") "
                "RETURNING user_id, failed_reminders, (SELECT count(*) FROM study_cards c "
                "WHERE c.user_id = study_students.user_id AND c.due <= ?3)",
                (day, hour, now, limit))
        return [Reminder(*row) for row in claimed]

    async def reminder_result(self, user_id: int, *, delivered: bool) -> bool:
        """Record a reminder's fate (only worth a write after an earlier failure, or for
        this one); True when failures stopped the reminders."""
        async with self._shared.transaction() as db:
            if delivered:
                await db.execute("UPDATE study_students SET failed_reminders = 0 "
                                 "WHERE user_id = ?", (user_id,))
                return False
            rows = await db.fetch(
                "UPDATE study_students SET failed_reminders = failed_reminders + 1 "
                "WHERE user_id = ? RETURNING failed_reminders", (user_id,))
            if rows and rows[0][0] >= FAILED_REMINDERS_TO_STOP:
                await db.execute("UPDATE study_students SET reminder_hour = NULL "
                                 "WHERE user_id = ?", (user_id,))
                return True
            return False

    # ----- a student's data, and the class's figures --------------------------------

    async def student_data(self, user_id: int, now: float) -> StudentData:
        rows = await self._shared.fetch(
            "SELECT (SELECT count(*) FROM study_cards WHERE user_id = ?1), "
            "(SELECT count(*) FROM study_cards WHERE user_id = ?1 AND due <= ?2), "
            "(SELECT count(*) FROM study_ratings WHERE user_id = ?1), "
            "(SELECT coalesce(sum(count), 0) FROM study_lookups WHERE user_id = ?1), "
            "(SELECT count(*) FROM quiz_answers WHERE user_id = ?1), "
            "(SELECT count(*) FROM suggestions WHERE author_id = ?1)", (user_id, now))
        cards, due, ratings, lookups, answers, suggestions = rows[0]
        return StudentData(await self.settings(user_id), tuple(await self.saved(user_id)),
                           cards, due, ratings, lookups, answers, suggestions)

    async def delete_student(self, user_id: int) -> None:
        """Everything about one student, at once: study records, quiz answers and scores,
        and their name on the fixes they suggested."""
        async with self._shared.transaction() as db:
            for table in ("study_saved", "study_cards", "study_ratings", "study_lookups",
                          "study_students", "quiz_answers", "quiz_scores"):
                await db.execute(f"DELETE FROM {table} WHERE user_id = ?",  # noqa: S608
                                 (user_id,))
            # Suggested fixes are the class's content work: they stay, without their author.
            await db.execute("UPDATE suggestions SET author_id = 0, author_name = 'a former "
                             "student' WHERE author_id = ?", (user_id,))

    async def class_figures(self, guild_id: int | None = None, glossary_id: int = 1,
                            limit: int = 5) -> ClassFigures:
        """The terms the class finds hardest: quiz answers that missed them plus "Again"
        ratings, with quiz accuracy per term. Sums only, never a student's own. Quizzes
        count only the server's own (``guild_id``; None: every server's) in its glossary;
        ratings are a student's, not a server's, so they count wherever they were given."""
        where = "" if guild_id is None else "q.guild_id = ?2 AND "
        rows = await self._shared.fetch(
            f"""
            WITH quiz AS (
                SELECT q.answer AS slug, count(*) AS answered, sum(a.correct) AS correct
                FROM quiz_answers a JOIN quizzes q ON q.id = a.quiz_id
                WHERE {where}q.glossary_id = ?1
                GROUP BY q.answer
            ), again AS (
                SELECT slug, count(*) AS n FROM study_ratings WHERE rating = 1 GROUP BY slug
            ), slugs AS (SELECT slug FROM quiz UNION SELECT slug FROM again)
            SELECT s.slug, coalesce(q.answered, 0), coalesce(q.correct, 0), coalesce(g.n, 0)
            FROM slugs s LEFT JOIN quiz q ON q.slug = s.slug
            LEFT JOIN again g ON g.slug = s.slug
            """,  # noqa: S608 (a fixed condition, no user text)
            (glossary_id,) if guild_id is None else (glossary_id, guild_id))
        figures = [TermFigure(slug, slug, answered - correct + again, answered, correct)
                   for slug, answered, correct, again in rows]
        figures = [f for f in figures if f.wrong > 0]
        titles = await self._titles(glossary_id, [f.slug for f in figures])
        figures = [replace(f, title=titles.get(f.slug, f.slug)) for f in figures]
        figures.sort(key=lambda f: (-f.wrong, f.title))
        return ClassFigures(tuple(figures[:limit]))

    async def _titles(self, glossary_id: int, slugs: Sequence[str]) -> dict[str, str]:
        """Titles from the process's own glossary (the shared state has none)."""
        if not slugs:
            return {}
        rows = await self._local.reader.execute_fetchall(
            f"SELECT slug, title FROM terms WHERE glossary_id = ? AND slug IN "  # noqa: S608
            f"({', '.join('?' * len(slugs))})", (glossary_id, *slugs))
        return dict(rows)  # type: ignore[arg-type]
