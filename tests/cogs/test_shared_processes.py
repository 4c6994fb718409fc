"""Several bots sharing PostgreSQL through the fake Discord (issue 20): each with its own
local SQLite file and its own pool, shards split between them; and PostgreSQL stopped and
started under a running bot."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import bot.storage.records
from bot.client import GlossaryBot
from bot.store import Store
from tests.conftest import FIXED_NOW
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness, running_bot


def daily_posts(h: BotHarness, channel: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in h.channel_messages(channel)
            if m["content"].startswith("📅 **Term of the day**")]


def routed_to(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch, session: object) -> None:
    """Deliver the next interactions to ``session`` whatever their guild: a duplicate
    delivery, as when a shard moves between processes."""

    async def pick(guild_id: int | None = None, timeout: float = 5.0) -> object:
        return session

    monkeypatch.setattr(fake, "wait_for_session", pick)


async def test_two_processes_post_the_day_once_and_count_each_answer_once(
    config, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDiscord(shard_count=2, guild_count=2)
    by_shard = {(g.id >> 22) % 2: g for g in fake.guilds}
    shared = replace(config, shard_count=2, database_url=pg_url)
    async with fake:
        async with (
            await Store.open(tmp_path / "a.sqlite3", database_url=pg_url, pool_size=4) as store_a,
            await Store.open(tmp_path / "b.sqlite3", database_url=pg_url, pool_size=4) as store_b,
        ):
            bot_a = GlossaryBot(replace(shared, shard_ids=(0,)), store_a, clock=lambda: FIXED_NOW)
            bot_b = GlossaryBot(replace(shared, shard_ids=(1,)), store_b, clock=lambda: FIXED_NOW)
            async with running_bot(bot_a, fake) as a, running_bot(bot_b, fake):
                syncs = [r for r in fake.requests
                         if r.method == "PUT" and r.path.endswith("/commands")]
                assert len(syncs) == 1  # the second process found the hash in PostgreSQL

                for guild in fake.guilds:  # set through one process, seen by both
                    await store_a.records.update_guild_settings(
                        guild.id, daily_channel_id=int(guild.text_channel["id"]), daily_hour=0)
                posted = await asyncio.gather(*(
                    b.get_cog("TermOfTheDay").post_due(FIXED_NOW)
                    for b in (bot_a, bot_b, bot_a, bot_b)))
                assert sorted(channel for batch in posted for channel in batch) == sorted(
                    int(g.text_channel["id"]) for g in fake.guilds)
                for guild in fake.guilds:
                    assert len(daily_posts(a, guild.text_channel)) == 1

                bot_a.get_cog("Quiz").rng = random.Random(3)
                student = fake.add_member(by_shard[0], username="kim")
                quiz = await a.slash("quiz", "ask", member=student)
                await quiz.wait_followup()
                ids = [button["custom_id"] for button in quiz.buttons]
                sessions = {s.shard: s for s in fake.connected_sessions()}
                replies = []
                for shard, custom_id in (((0, 2), ids[0]), ((1, 2), ids[1]), ((0, 2), ids[2]),
                                         ((1, 2), ids[3])):
                    routed_to(fake, monkeypatch, sessions[shard])
                    replies.append(await a.click(custom_id, message=quiz.message, member=student))
                monkeypatch.undo()
                titles = [(await reply.wait_followup())["embeds"][0]["title"]
                          for reply in replies]
                # The four clicks race across two processes: whichever lands first counts,
                # the other three are told they answered already.
                counted = [t for t in titles if t in ("✅ Correct!", "❌ Not quite")]
                assert len(counted) == 1, titles
                assert titles.count("You already answered this one") == 3, titles
                board = await a.slash("quiz", "leaderboard", member=student)
                assert board.embeds[0]["description"].endswith("of 1")
                assert len(board.embeds[0]["description"].splitlines()) == 1


async def test_postgresql_stopped_and_started_under_a_running_bot(
    config, tmp_path: Path, own_postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards and autocomplete go on from the local index; a write says "try again in a
    moment" and saves nothing (a suggestion's text is handed back); usage counted meanwhile
    is written once, afterwards; the bot recovers by itself."""
    monkeypatch.setattr(bot.storage.records, "SETTINGS_TTL_SECONDS", 0.0)  # read every card
    url = own_postgres.url
    async with (FakeDiscord() as fake,
                await Store.open(tmp_path / "local.sqlite3", database_url=url,
                                 pool_size=4) as store):
        glossary_bot = GlossaryBot(replace(config, database_url=url), store,
                                   clock=lambda: FIXED_NOW, guild_ready_timeout=0.1)
        async with running_bot(glossary_bot, fake) as h:
            await store.records.update_guild_settings(
                h.guild.id, define_private=True, mod_channel_id=int(h.channel["id"]))
            assert (await h.slash("define", term="git")).ephemeral

            await own_postgres.stop()
            card = await h.slash("define", term="git")
            assert card.embeds[0]["title"] == "Git"
            assert card.ephemeral  # the last settings read, not the defaults
            assert await h.autocomplete("define", focused="term", term="gi")
            fix = next(b for b in card.buttons if b["label"] == "Suggest a fix")
            form = await h.click(fix["custom_id"], message=card.message)
            refused_fix = await h.submit_modal(form, {"section": "", "problem": "Typo here.",
                                                      "proposal": "Spell it out."})
            embed = (await refused_fix.wait_followup())["embeds"][0]
            assert embed["title"] == "Try again in a moment"
            assert "Typo here." in embed["description"]  # what the student typed, back
            refused = await h.slash("quiz", "ask")
            answer = await refused.wait_followup()
            assert answer["embeds"][0]["title"] == "Try again in a moment"
            await store.records.flush_usage()  # fails: the counts stay buffered

            await own_postgres.start()
            for _ in range(50):  # bounded: the pool replaces its dead connections
                quiz = await h.slash("quiz", "ask")
                title = (await quiz.wait_followup()).get("embeds", [{}])[0].get("title", "")
                if title != "Try again in a moment":
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the bot did not recover after PostgreSQL came back")
            await store.records.flush_usage()
            rows = await store.shared.fetch(
                "SELECT count FROM lookups WHERE guild_id = ? AND slug = 'git'", (h.guild.id,))
            assert rows == [(2,)]
            quizzes = await store.shared.fetch("SELECT count(*) FROM quizzes")
            assert quizzes == [(1,)]  # the refused one left nothing behind


async def test_cards_and_autocomplete_do_not_touch_postgresql_once_warm(
    config, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serving path stays local: settings come from the cache, usage from the buffer,
    so a class looking terms up costs PostgreSQL nothing (and throughput is SQLite's)."""
    async with (FakeDiscord() as fake,
                await Store.open(tmp_path / "local.sqlite3", database_url=pg_url,
                                 pool_size=2) as store):
        glossary_bot = GlossaryBot(replace(config, database_url=pg_url), store,
                                   clock=lambda: FIXED_NOW, guild_ready_timeout=0.1)
        async with running_bot(glossary_bot, fake) as h:
            await h.slash("define", term="git")  # warm: this server's settings are read
            used: list[str] = []
            for name in ("fetch", "execute", "transaction", "connection"):
                real = getattr(store.pg, name)

                def counting(*args: Any, _real: Any = real, _name: str = name) -> Any:
                    used.append(_name)
                    return _real(*args)

                monkeypatch.setattr(store.pg, name, counting)
            for term in ("git", "mysql", "prisma", "nodejs", "git"):
                assert (await h.slash("define", term=term)).embeds[0]["title"]
                assert await h.autocomplete("define", focused="term", term=term[:2])
            assert used == []
