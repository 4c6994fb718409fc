"""The stand-in at scale (bench.scale): many guilds over many shards, and Discord's identify limit.

Small numbers here (300 guilds, 3 shards); the benchmark runs the same code with 16,000.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot.sandbox.fake import snowflake_time
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import running_bot

SHARDS = 3
GUILDS = 300


def shard_of(guild_id: int, count: int = SHARDS) -> int:
    return (guild_id >> 22) % count


def sharded_bot() -> commands.AutoShardedBot:
    intents = discord.Intents.none()
    intents.guilds = True
    bot = commands.AutoShardedBot(command_prefix="!", intents=intents, shard_count=SHARDS,
                                  help_command=None)

    @bot.tree.command(description="Answers pong.")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async def sync() -> None:
        await bot.tree.sync()

    bot.setup_hook = sync  # type: ignore[method-assign]
    return bot


async def test_many_guilds_arrive_on_their_own_shards() -> None:
    fake = FakeDiscord(shard_count=SHARDS, guild_count=GUILDS)
    per_shard = [sum(shard_of(g.id) == s for g in fake.guilds) for s in range(SHARDS)]
    assert per_shard == [GUILDS // SHARDS] * SHARDS
    # Servers exist before the bot's session: their ids are older than the clock's now.
    assert max(snowflake_time(g.id) for g in fake.guilds) < fake.clock.time()
    async with running_bot(sharded_bot(), fake) as h:
        sessions = {s.shard: s for s in fake.connected_sessions()}
        assert sorted(sessions) == [(s, SHARDS) for s in range(SHARDS)]
        for (shard_id, _), session in sessions.items():
            created = [int(f["d"]["id"]) for f in session.sent if f["t"] == "GUILD_CREATE"]
            assert len(created) == GUILDS // SHARDS
            assert {shard_of(g) for g in created} == {shard_id}
        assert len(h.bot.guilds) == GUILDS
        assert all(g.shard_id == shard_of(g.id) for g in h.bot.guilds)

        far = fake.guilds[-1]  # an interaction there goes to its shard's session only
        student = next(m for m in far.members if m.username == "student")
        reply = await h.slash("ping", member=student)
        assert reply.content == "pong"
        got = [shard for shard, s in sessions.items()
               if any(f["t"] == "INTERACTION_CREATE" and f["d"]["id"] == str(reply.id)
                      for f in s.sent)]
        assert got == [(shard_of(far.id), SHARDS)]


async def _identify(url: str, shard: list[int]) -> dict[str, Any]:
    """IDENTIFY on a fresh socket; the first frame after HELLO (READY, or op 9)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        assert hello["op"] == 10
        await ws.send_str(json.dumps({"op": 2, "d": {"token": "t", "intents": 1,
                                                     "properties": {}, "shard": shard}}))
        return json.loads((await ws.receive(timeout=5)).data)


async def test_identify_limit_refuses_a_second_identify_in_the_same_bucket() -> None:
    async with FakeDiscord(shard_count=2, enforce_identify_limit=True) as fake:
        first = await _identify(fake.gateway_url, [0, 2])
        second = await _identify(fake.gateway_url, [1, 2])
    assert first["t"] == "READY"
    assert second == {"op": 9, "d": False}  # Invalid Session, as Discord answers
    assert fake.identifies_refused == 1 and fake.identify_count == 1


async def test_identify_limit_allows_one_identify_per_bucket() -> None:
    async with FakeDiscord(shard_count=2, max_concurrency=2,
                           enforce_identify_limit=True) as fake:
        frames = [await _identify(fake.gateway_url, [s, 2]) for s in range(2)]
        async with aiohttp.ClientSession() as session:
            async with session.get(fake.api_base_url + "/gateway/bot",
                                   headers={"Authorization": "Bot t"}) as response:
                limits = (await response.json())["session_start_limit"]
    assert [f["t"] for f in frames] == ["READY", "READY"]
    assert limits["max_concurrency"] == 2


async def test_identifies_too_soon_are_counted_when_not_enforced() -> None:
    async with FakeDiscord(shard_count=2) as fake:
        frames = [await _identify(fake.gateway_url, [s, 2]) for s in range(2)]
    assert [f["t"] for f in frames] == ["READY", "READY"]
    assert fake.identifies_too_soon() == 1 and fake.identifies_refused == 0
