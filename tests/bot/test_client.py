"""Start-up of the real bot: command sync, extensions, content errors, and the process."""

from __future__ import annotations

import logging

import discord
import pytest

from bot.client import GlossaryBot
from bot.store import Store
from tests.conftest import BUNDLED_COUNT
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process, running_bot

# A fake token, joined here so that no token-shaped literal sits in the source.
FAKE_TOKEN = ".".join(("MTAxMDEwMTAxMDEwMTAxMDEw", "GabcDE",
                      "fake-token-for-tests-only-xxxxxxxxxxxx"))


def command_puts(fake: FakeDiscord) -> list[str]:
    return [r.path for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_commands_sync_once_then_only_when_changed(start_bot):
    fake = FakeDiscord()
    await fake.start()
    try:
        async with start_bot(fake):
            pass
        assert len(command_puts(fake)) == 1
        async with start_bot(fake) as h:
            assert len(command_puts(fake)) == 1  # unchanged: no second sync
            assert (await h.slash("define", term="git")).embeds[0]["title"] == "Git"
        guild_id = fake.guild.id
        async with start_bot(fake, dev_guild_id=guild_id):
            pass
        assert any(p.endswith(f"/guilds/{guild_id}/commands") for p in command_puts(fake)[1:])
    finally:
        await fake.stop()


async def test_switching_between_dev_guild_and_global_never_leaves_copies(start_bot):
    fake = FakeDiscord()
    await fake.start()
    try:
        guild_id = fake.guild.id
        async with start_bot(fake):
            pass
        names = {c["name"] for c in fake.commands[None]}
        assert "define" in names
        async with start_bot(fake, dev_guild_id=guild_id):
            pass
        assert {c["name"] for c in fake.commands[guild_id]} == names
        assert fake.commands[None] == []  # no second copy of every command
        puts = len(command_puts(fake))
        async with start_bot(fake, dev_guild_id=guild_id):
            pass
        assert len(command_puts(fake)) == puts  # unchanged: nothing synced
        async with start_bot(fake):  # dev_guild_id removed again
            pass
        assert {c["name"] for c in fake.commands[None]} == names
        assert fake.commands[guild_id] == []  # the guild copies are gone
    finally:
        await fake.stop()


async def test_a_broken_extension_is_logged_and_the_rest_still_work(config, caplog):
    async with await Store.open(config.database) as store:
        bot = GlossaryBot(config, store, extensions=("cogs.define", "cogs.does_not_exist"))
        with caplog.at_level(logging.ERROR, logger="bot.client"):
            async with running_bot(bot) as h:
                assert (await h.slash("define", term="git")).embeds[0]["title"] == "Git"
    assert "Failed to load extension cogs.does_not_exist" in caplog.text


async def test_start_with_broken_content_serves_the_last_good_glossary(
    start_bot, content_dir, caplog
):
    async with start_bot():
        pass
    (content_dir / "git.yaml").write_text("title: [\n")
    with caplog.at_level(logging.ERROR, logger="bot.client"):
        async with start_bot() as h:
            assert (await h.slash("define", term="git")).embeds[0]["title"] == "Git"
    assert "git.yaml:1: yaml:" in caplog.text
    assert f"serving the {BUNDLED_COUNT} terms from the last good load" in caplog.text


async def test_python_m_bot_serves_define_and_stops_cleanly(tmp_path, content_dir):
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir, token=FAKE_TOKEN,
                               extra_config='log_level = "DEBUG"\n') as bot:
            reply = await fake.slash("define", term="backend")
            assert reply.embeds[0]["title"] == "backend"
        assert bot.returncode == 0, bot.output[-3000:]
        assert f"Glossary loaded: {BUNDLED_COUNT} terms" in bot.output
        assert FAKE_TOKEN not in bot.output
        assert FAKE_TOKEN.split(".")[0] not in bot.output
        assert not fake.schema_violations


@pytest.mark.parametrize("bad_url", ["http://10.0.0.1/api", "https://example.com/api"])
def test_discord_urls_must_be_loopback_or_discord(bad_url):
    from bot.client import point_discord_at

    with pytest.raises(ValueError, match="loopback"):
        point_discord_at(bad_url, None)


async def test_two_processes_each_with_a_shard_share_one_database(config, content_dir):
    from dataclasses import replace

    from bot.content import dump_term
    from tests.conftest import make_term
    from tests.support.fake_discord import MANAGE_GUILD

    fake = FakeDiscord(shard_count=2, guild_count=2)
    by_shard = {(g.id >> 22) % 2: g for g in fake.guilds}
    async with fake:
        async with (
            await Store.open(config.database) as store_a,
            await Store.open(config.database) as store_b,
        ):
            bot_a = GlossaryBot(replace(config, shard_count=2, shard_ids=(0,)), store_a)
            bot_b = GlossaryBot(replace(config, shard_count=2, shard_ids=(1,)), store_b)
            async with running_bot(bot_a, fake) as a, running_bot(bot_b, fake):
                assert ("GET", "/gateway/bot") not in [(r.method, r.path) for r in fake.requests]
                assert sorted(s.shard for s in fake.connected_sessions()) == [(0, 2), (1, 2)]
                assert [g.id for g in bot_a.guilds] == [by_shard[0].id]
                assert [g.id for g in bot_b.guilds] == [by_shard[1].id]
                far_student = fake.add_member(by_shard[1], username="far")
                reply = await a.slash("define", term="git", member=far_student)
                assert reply.embeds[0]["title"] == "Git"

                (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
                mod = fake.add_member(by_shard[0], username="mod", permissions=MANAGE_GUILD)
                reload = await a.slash("glossary", "reload", member=mod)
                await reload.wait_followup()
                # The other process serves the new glossary at once: same database.
                assert (await a.slash("define", term="docker", member=far_student)
                        ).embeds[0]["title"] == "Docker"


async def test_without_shard_config_the_bot_runs_the_shards_discord_recommends(config):
    """One process, every shard: the count comes from GET /gateway/bot."""
    fake = FakeDiscord(shard_count=2, guild_count=2)
    async with fake, await Store.open(config.database) as store:
        async with running_bot(GlossaryBot(config, store), fake) as h:
            assert ("GET", "/gateway/bot") in [(r.method, r.path) for r in fake.requests]
            assert sorted(s.shard for s in fake.connected_sessions()) == [(0, 2), (1, 2)]
            for guild in fake.guilds:
                student = fake.add_member(guild, username=f"student-{guild.id}")
                reply = await h.slash("define", term="git", member=student)
                assert reply.embeds[0]["title"] == "Git"
                assert reply.payload["guild_id"] == str(guild.id)


async def test_only_a_form_submit_reaches_the_bot_beyond_discord_py(config, monkeypatch):
    """With an on_interaction discord.py runs a task for every interaction, each
    autocomplete keystroke included (issue 14): only a modal submit is dispatched on."""
    assert not hasattr(GlossaryBot, "on_interaction")
    seen: list[str] = []
    monkeypatch.setattr(discord.Client, "dispatch",
                        lambda self, event, /, *args, **kwargs: seen.append(event))
    async with await Store.open(config.database) as store:
        bot = GlossaryBot(config, store)
        for kind in (discord.InteractionType.autocomplete,
                     discord.InteractionType.application_command,
                     discord.InteractionType.component,
                     discord.InteractionType.modal_submit):
            interaction = discord.Interaction.__new__(discord.Interaction)
            interaction.type = kind
            bot.dispatch("interaction", interaction)
    assert seen == ["interaction"] * 4 + ["modal_submit"]


class _RecordingGc:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self) -> int:
        self.calls.append("collect")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")

    def get_freeze_count(self) -> int:
        return 0


async def test_a_serving_bot_freezes_its_start_up_heap_a_test_bot_does_not(config, monkeypatch):
    recording = _RecordingGc()
    monkeypatch.setattr("bot.client.gc", recording)
    async with await Store.open(config.database) as store:
        await GlossaryBot(config, store)._warm()
        assert recording.calls == []
        await GlossaryBot(config, store, freeze_heap=True)._warm()
    assert recording.calls == ["collect", "freeze"]  # collected first: no garbage frozen


def test_discord_py_encodes_every_payload_with_orjson() -> None:
    """orjson is a dependency because discord.py then encodes and decodes every payload
    with it (a card ~8x faster than with the standard library, docs/performance.md); the
    standard library's fallback would escape the é."""
    assert discord.utils._to_json({"title": "Café"}) == '{"title":"Café"}'
