"""Lookup opt-ins across processes (issue 20): one made in another process takes effect
within the refresh interval, not at the next restart."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import cogs.study
from bot.client import GlossaryBot
from bot.store import Store
from tests.conftest import FIXED_NOW
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import running_bot


async def _within(check, seconds: float = 5.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_an_opt_in_made_in_another_process_is_followed(
    config, tmp_path: Path, pg_url: str
) -> None:
    fake = FakeDiscord()
    shared = replace(config, database_url=pg_url)
    async with fake:
        async with (
            await Store.open(tmp_path / "a.sqlite3", database_url=pg_url, pool_size=4) as store_a,
            await Store.open(tmp_path / "b.sqlite3", database_url=pg_url, pool_size=4) as store_b,
        ):
            bot_a = GlossaryBot(shared, store_a, clock=lambda: FIXED_NOW)
            bot_b = GlossaryBot(shared, store_b, clock=lambda: FIXED_NOW)
            async with running_bot(bot_a, fake) as a, running_bot(bot_b, fake):
                for bot in (bot_a, bot_b):
                    bot.get_cog("Study").start_refreshing(0.1)
                student = a.member(username="student")
                reply = await a.slash("study", "lookups", enabled=True, member=student)
                await reply.wait_followup()
                # One process answered it (whichever the fake gave the interaction to);
                # the other follows within the refresh interval.
                cogs_ = [bot_a.get_cog("Study"), bot_b.get_cog("Study")]
                await _within(lambda: all(student.id in c.tracking for c in cogs_))
                reply = await a.slash("study", "lookups", enabled=False, member=student)
                await reply.wait_followup()
                await _within(lambda: all(student.id not in c.tracking for c in cogs_))


async def test_a_change_made_here_during_a_refresh_is_kept(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "alone.sqlite3")
    try:
        class _Bot:  # just what the refresh reads
            pass

        bot = _Bot()
        bot.store = store  # type: ignore[attr-defined]
        cog = cogs.study.Study(bot)  # type: ignore[arg-type]
        reading = asyncio.Event()
        real = store.study.tracking_lookups

        async def slow() -> set[int]:
            found = await real()
            reading.set()
            await asyncio.sleep(0.05)
            return found

        store.study.tracking_lookups = slow  # type: ignore[method-assign]
        refresh = asyncio.create_task(cog.refresh_tracking())
        await reading.wait()
        cog._set_tracking(42, True)  # the student opted in here meanwhile
        await refresh
        assert 42 in cog.tracking
    finally:
        await store.close()
