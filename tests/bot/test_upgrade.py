"""A database written by main before glossaries (schema 3) upgrades in place and serves
what it served, statistics included.

tests/data/schema3 was made by main's own code at schema 3 (migrations 1-3, a reload of
its terms/, lookups, misses, a server's settings, a quiz answered, a term of the day):
see made_by.py.txt there.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.storage.migrations import MIGRATIONS
from bot.store import Store
from tests.support.fake_discord import FakeDiscord

OLD = Path(__file__).resolve().parents[1] / "data" / "schema3"
OLD_GUILD = 111  # the one server the old database knows


@pytest.fixture
def old_copy(tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "old.sqlite3"
    shutil.copyfile(OLD / "glossary.sqlite3", database)
    terms = Path(shutil.copytree(OLD / "terms", tmp_path / "old-terms"))
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    return database, terms


async def test_the_old_database_upgrades_in_place_and_serves_what_it_served(old_copy):
    database, _terms = old_copy
    async with await Store.open(database) as store:
        (version,) = (await store.db.reader.execute_fetchall("PRAGMA user_version"))[0]
        assert version == len(MIGRATIONS) >= 6
        # No reload: the terms were copied, not dropped.
        card = await store.glossary.card("caching")
        assert card.term.slug == "cache" and card.glossary_id == 1
        backend = await store.glossary.card("backend")
        assert backend.related_titles == {"frontend": "Frontend"}
        assert [h.slug for h in (await store.glossary.search("frontend")).hits][0] == "frontend"
        assert [s.slug for s in await store.glossary.autocomplete("fr")] == ["frontend"]
        stats = await store.records.stats(OLD_GUILD)
        assert stats.term_count == 3 and stats.last_reload_at is not None
        assert [(c.name, c.count) for c in stats.top_terms] == [("Backend", 3), ("Cache", 1)]
        assert [(c.name, c.count) for c in stats.top_misses] == [("kubernetes", 2),
                                                                  ("docker", 1)]
        settings = await store.records.guild_settings(OLD_GUILD)
        assert settings.define_private and settings.daily_channel_id == 222
        board = await store.records.leaderboard(OLD_GUILD)
        assert [(s.user_id, s.correct) for s in board] == [(333, 1)]
        outcome = await store.records.answer_quiz(1, 333, "frontend")
        assert outcome.already_answered and outcome.quiz.glossary_id == 1
        # The day already posted stays posted; the cycle goes on without repeating it.
        assert await store.records.claim_daily_term(OLD_GUILD, "2026-02-27") is None
        picked = {await store.records.claim_daily_term(OLD_GUILD, f"2026-03-0{d}")
                  for d in (1, 2)}
        assert picked == {"backend", "frontend"}


async def test_the_old_database_under_the_bot_with_an_unchanged_config(start_bot, old_copy):
    database, terms = old_copy
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Old class", guild_id=OLD_GUILD)
        moderator = next(m for m in guild.members if m.username == "moderator")
        student = next(m for m in guild.members if m.username == "student")
        async with start_bot(fake, database=database, content_dir=terms) as h:
            card = await h.slash("define", term="backend", member=student)
            assert card.embeds[0]["title"] == "Backend" and card.ephemeral  # define_private
            stats = await h.slash("glossary", "stats", member=moderator)
            await stats.wait_followup()
            text = str(stats.embeds[0])
            assert "4 × Backend" in text and "2 × kubernetes" in text
            reload = await h.slash("glossary", "reload", member=moderator)
            await reload.wait_followup()
            assert reload.embeds[0]["title"] == "Glossary reloaded"
