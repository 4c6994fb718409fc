"""Graceful stop: SIGTERM or Ctrl+C answers what is in flight, saves usage and exits 0."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time

import pytest

from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process

CALLBACK = r"/interactions/\d+/[^/]+/callback"
STOP_WITHIN = 10.0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_answers_the_interaction_in_flight_saves_usage_and_exits_0(
    tmp_path, content_dir, signum
):
    database = tmp_path / "proc.sqlite3"
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir, database=database) as bot:
            for _ in range(3):  # counted in memory; written every few seconds or on stop
                assert (await fake.slash("define", term="git")).embeds[0]["title"] == "Git"
            # Discord answers the next callback with a 500: discord.py retries after 1 s,
            # so this card is in flight when the signal arrives.
            fake.fail_next("POST", CALLBACK, status=500)
            pending = asyncio.create_task(fake.slash("define", term="backend", timeout=15))
            await fake.wait_for_request("POST", CALLBACK, count=4)
            sent = time.monotonic()
            bot.process.send_signal(signum)
            reply = await pending
            assert reply.embeds[0]["title"] == "backend"
            await asyncio.wait_for(bot.process.wait(), STOP_WITHIN)
            took = time.monotonic() - sent
    assert bot.returncode == 0, bot.output[-3000:]
    assert took < STOP_WITHIN
    assert "answering 1 interaction(s) in flight" in bot.output
    assert "Traceback" not in bot.output
    assert not database.with_name(database.name + "-wal").exists()  # closed: WAL folded in
    with sqlite3.connect(database) as db:
        counts = dict(db.execute("SELECT slug, count FROM lookups"))
    assert counts == {"git": 3, "backend": 1}
