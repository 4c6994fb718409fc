"""Upgrades: a new version opened on a database from any earlier schema version migrates
it in place and keeps every record people made (usage, settings, quizzes, daily posts).
Records are compared on the columns they were written with: a later version may add
columns (migration 6 gives usage a server and a glossary).

Each old database is built from the numbered migrations themselves, up to that version,
and filled with a record in every table. The glossary's own tables are derived from the
term files (migration 3 rebuilds them by design); they come back from the next load.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.storage.migrations import MIGRATIONS
from bot.store import Store

LATEST = len(MIGRATIONS)
# Derived from the term files, so a migration may rebuild them (the files are the truth).
GLOSSARY_TABLES = {"terms", "term_data", "names", "links", "glossaries"}
# Records people made, per table, with the version that created the table.
SETTINGS = {"define_private": True, "moderator_role_id": 77, "daily_channel_id": 88,
            "daily_hour": 7, "mod_channel_id": 99}
RECORDS: dict[str, tuple[int, str, list[tuple[object, ...]]]] = {
    "lookups": (1, "slug, count, last_at",
                [("git", 7, 1_700_000_000.0), ("backend", 3, 1_700_000_100.0)]),
    "misses": (1, "key, query, count, last_at", [("kubernetes", "Kubernetes", 4, 1_700_000_200.0)]),
    "meta": (1, "key, value", [("commands:1:global", "a1b2c3"), ("commands:1:42", "d4e5f6")]),
    "guild_settings": (2, "guild_id, data", [(42, json.dumps(SETTINGS))]),
    "quizzes": (2, "id, guild_id, answer, choices, mode, created_at",
                [(5, 42, "git", json.dumps(["git", "api", "sql"]), "name", 1.7e9)]),
    "quiz_answers": (2, "quiz_id, user_id, choice, correct, answered_at",
                     [(5, 1001, "git", 1, 1.7e9), (5, 1002, "api", 0, 1.7e9)]),
    "quiz_scores": (2, "guild_id, user_id, correct, answered",
                    [(42, 1001, 1, 1), (42, 1002, 0, 1)]),
    "daily_posts": (2, "guild_id, day, slug, cycle", [(42, "2026-02-28", "git", 1)]),
    "suggestions": (4, "id, guild_id, slug, title, author_id, author_name, section, problem, "
                    "proposal, created_at, delivered",
                    [(1, 42, "git", "Git", 1001, "sam", "Definition", "A typo.", "Fixed.",
                      1.7e9, 0)]),
    "study_saved": (5, "user_id, slug, title, saved_at", [(1001, "git", "Git", 1.7e9)]),
    "study_cards": (5, "user_id, slug, due, reviews, source, fsrs, added_at",
                    [(1001, "git", 1.7e9, 2, "saved", None, 1.7e9)]),
    "study_ratings": (5, "user_id, slug, rating, rated_at", [(1001, "git", 3, 1.7e9)]),
    "study_lookups": (5, "user_id, slug, count", [(1001, "git", 2)]),
    "study_students": (5, "user_id, reminder_hour, track_lookups, reminded_day, "
                       "failed_reminders", [(1001, 9, 1, "2026-02-28", 0)]),
    "term_history": (7, "id, slug, at, source, actor_id, actor_name, credited_id, "
                     "sections, before, after",
                     [(1, "git", 1.7e9, "edit", 1001, "Ms Lee", None, '["definition"]', None,
                       None)]),
    # Migration 9 (issue 19, authoring): a server's own glossary. Its glossary row is one
    # of the glossary tables, rebuilt from files; the server's claim on it must survive.
    "server_glossaries": (9, "glossary_id, guild_id, course_name, created_by, "
                          "created_by_name, copied_from, created_at",
                          [(2, 42, "VCA", 1001, "Ms Lee", "default", 1.7e9)]),
    # Migration 10 (issue 20): the next gateway start per bucket, shared by the processes.
    "identify_buckets": (10, "bucket, next_at", [(0, 1.7e9)]),
}


def user_tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                      "'CREATE VIRTUAL TABLE%' AND name NOT LIKE '%fts%' "
                      "AND name NOT LIKE 'names_trigram%' AND name NOT LIKE 'sqlite_%'")
    return {name for (name,) in rows} - GLOSSARY_TABLES


def old_database(path, version: int) -> None:
    """A database as the bot left it at schema ``version``, with records in every table."""
    with sqlite3.connect(path) as db:
        for number in range(version):
            db.executescript(MIGRATIONS[number])
        db.execute(f"PRAGMA user_version = {version}")
        unknown = user_tables(db) - set(RECORDS)
        assert not unknown, f"add records for the new table(s) {unknown} to this test"
        for table, (since, columns, rows) in RECORDS.items():
            if since <= version:
                marks = ", ".join("?" * len(rows[0]))
                db.executemany(f"INSERT INTO {table}({columns}) VALUES ({marks})", rows)
        if version < 3:  # the old glossary table, which the next load replaces
            db.execute("INSERT INTO terms(slug, title, data, fingerprint) "
                       "VALUES ('git', 'Git', '{}', 'x')")


@pytest.mark.parametrize("version", range(1, LATEST + 1))
async def test_an_old_database_is_migrated_in_place_keeping_every_record(
    tmp_path, version, content_dir
):
    path = tmp_path / "glossary.sqlite3"
    old_database(path, version)
    async with await Store.open(path) as store:
        await store.reloads.reload(content_dir)  # what the new version's first start does
        settings = await store.records.guild_settings(42)
        # Usage from before servers were told apart is the one server's the database knew
        # (42, from version 2 on); none known (version 1): server 0's, shown to no server.
        stats = await store.records.stats(42 if 2 <= version < 6 else 0)
        board = await store.records.leaderboard(42)
        card = await store.glossary.card("git")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        for table, (since, columns, rows) in RECORDS.items():
            kept = set(db.execute(f"SELECT {columns} FROM {table}"))
            if since <= version:
                assert set(rows) <= kept, f"{table} lost records migrating from {version}"
    assert card.term.title == "Git"
    if version >= 2:
        assert settings.daily_channel_id == 88 and settings.define_private
        assert [(s.user_id, s.correct) for s in board][:1] == [(1001, 1)]
    assert ("Git", 7) in [(t.name, t.count) for t in stats.top_terms]
    assert ("Kubernetes", 4) in [(m.name, m.count) for m in stats.top_misses]


async def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "glossary.sqlite3"
    old_database(path, LATEST)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer than this bot"):
        await Store.open(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM lookups").fetchone()[0] == 2


async def test_history_from_before_migration_8_belongs_to_the_default_glossary(tmp_path):
    path = tmp_path / "old.sqlite3"
    old_database(path, 7)
    async with await Store.open(path) as store:
        [entry] = await store.history.recent("git", glossary_id=1)
        assert entry.actor_name == "Ms Lee" and entry.glossary_id == 1
        assert await store.history.recent("git", glossary_id=2) == []
