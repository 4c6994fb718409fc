"""The fake refuses what Discord refuses, and answers as Discord does (issue 13's rules).

A throwaway bot sends raw bodies through discord.py's own HTTP client (``bot.http.request``),
so each rule is checked at the wire: status, JSON error code and Discord's ``errors`` tree.
The GlossaryBot is used only where the rule is about the product's experience (cooldowns).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord
import pytest
from discord.ext import commands
from discord.http import Route

from bot.sandbox.fake import (
    EMBED_LINKS,
    EVERYONE_PERMISSIONS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    snowflake_time,
)
from bot.sandbox.fake.constants import CONTEXT_BOT_DM, CONTEXT_GUILD, USER_INSTALL
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness, running_bot

Probe = Callable[[discord.Interaction], Awaitable[Any]]


def probe_bot() -> commands.Bot:
    """A bot whose ``/probe`` runs the test's coroutine and keeps what it raised."""
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                       guild_ready_timeout=0.1)
    bot.probe_result: asyncio.Future[Any] | None = None  # type: ignore[attr-defined]

    @bot.tree.command(description="Run the test's probe.")
    async def probe(interaction: discord.Interaction) -> None:
        future = bot.probe_result  # type: ignore[attr-defined]
        try:
            future.set_result(await bot.probe(interaction))  # type: ignore[attr-defined]
        except Exception as exc:  # the test inspects it
            future.set_result(exc)

    @bot.tree.command(description="Answer, mentioning someone.")
    async def mention(interaction: discord.Interaction, who: discord.Member) -> None:
        await interaction.response.defer(thinking=True)
        none = discord.AllowedMentions.none()
        loud = discord.AllowedMentions(users=True)
        await interaction.followup.send(f"first {who.mention}", allowed_mentions=loud)
        await interaction.followup.send(f"second {who.mention}", allowed_mentions=loud)
        await interaction.followup.send(f"quiet {who.mention}", allowed_mentions=none)
        await interaction.edit_original_response(content=f"edited {who.mention}",
                                                 allowed_mentions=loud)

    return bot


@pytest.fixture
async def h() -> Any:
    async with running_bot(probe_bot(), allow_schema_violations=True) as harness:
        yield harness


async def run_probe(h: BotHarness, probe: Probe, **payload_options: Any) -> Any:
    """Run ``probe`` inside a ``/probe`` interaction; return what it returned or raised."""
    h.bot.probe = probe  # type: ignore[attr-defined]
    h.bot.probe_result = asyncio.get_running_loop().create_future()  # type: ignore[attr-defined]
    data = h.fake.command_data("probe", (), {})
    payload = h.fake.interaction_payload(2, data, **payload_options)
    await h.fake.inject(payload, "/probe")
    return await asyncio.wait_for(h.bot.probe_result, 5)  # type: ignore[attr-defined]


def last_error(h: BotHarness) -> dict[str, Any]:
    """The JSON body of the fake's last error answer."""
    failed = [r for r in h.fake.requests if r.status >= 400]
    return json.loads(failed[-1].response)


def post(channel_id: int | str, body: dict[str, Any]) -> Callable[[discord.Interaction], Any]:
    async def probe(interaction: discord.Interaction) -> Any:
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        return await interaction.client.http.request(route, json=body)
    return probe


def errors_at(error: dict[str, Any], *path: str | int) -> list[dict[str, str]]:
    node = error["errors"]
    for part in path:
        node = node[str(part)]
    return node["_errors"]


def button(custom_id: str, label: str = "Go") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


# -- rule 9: snowflakes carry the clock's time ----------------------------------------------

def test_snowflakes_carry_the_clocks_time() -> None:
    fake = FakeDiscord(validate_schema=False)
    first = fake.snowflake()
    assert abs(snowflake_time(first) - time.time()) < 2
    fake.clock.advance(60)
    later = fake.snowflake()
    assert later > first
    assert 59 < snowflake_time(later) - snowflake_time(first) < 62
    burst = [fake.snowflake() for _ in range(5000)]  # more than 4096 in one millisecond
    assert burst == sorted(set(burst))


async def test_cooldown_expires_as_the_clock_moves(start_bot: Any) -> None:
    """Five lookups per 10 s: a student looking a word up every 3 s for a minute is never
    told to slow down; six at once are (so the cooldown is real)."""
    async with start_bot(cooldown_uses=5, cooldown_seconds=10.0) as h:
        for _ in range(20):
            reply = await h.slash("define", term="backend")
            assert reply.embeds[0]["title"] != "Slow down a little"
            h.fake.clock.advance(3)
        titles = [(await h.slash("define", term="backend")).embeds[0]["title"]
                  for _ in range(6)]
        assert titles[-1] == "Slow down a little"
        assert "Slow down a little" not in titles[:4]


# -- rules 1-3: message and modal limits -------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"content": "x", "components": [{"type": 1, "components": [button("a"), button("a")]}]},
         ("components", 0, "components", 1, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED"),
        ({"content": "x", "components": [{"type": 1, "components": [button("a")]},
                                          {"type": 1, "components": [button("a")]}]},
         ("components", 1, "components", 0, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED"),
        ({"embeds": [{"description": "d" * 3500}, {"description": "d" * 2501}]},
         ("embeds",), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [{"title": "t"}] * 11}, ("embeds",), "BASE_TYPE_MAX_LENGTH"),
        ({"content": "c" * 2001}, ("content",), "BASE_TYPE_MAX_LENGTH"),
        ({"content": "x", "components": [{"type": 1, "components": [button(f"b{i}")]}
                                          for i in range(6)]},
         ("components",), "BASE_TYPE_MAX_LENGTH"),
        ({"content": "x", "components": [{"type": 1, "components": [button(f"b{i}")
                                                                     for i in range(6)]}]},
         ("components", 0, "components"), "BASE_TYPE_MAX_LENGTH"),
        ({"content": "x", "components": [{"type": 1, "components": [button("b", "L" * 81)]}]},
         ("components", 0, "components", 0, "label"), "BASE_TYPE_MAX_LENGTH"),
    ],
    ids=["custom-id-in-row", "custom-id-across-rows", "6000-across-embeds", "11-embeds",
         "content-2001", "6-rows", "6-buttons", "label-81"],
)
async def test_message_limits_are_invalid_form_body(
    h: BotHarness, body: dict[str, Any], path: tuple[str | int, ...], code: str
) -> None:
    result = await run_probe(h, post(h.channel["id"], body))
    assert isinstance(result, discord.HTTPException), result
    assert (result.status, result.code) == (400, 50035)
    error = last_error(h)
    assert error["message"] == "Invalid Form Body"
    assert errors_at(error, *path)[0]["code"] == code


async def test_limits_hold_exactly_at_the_edge(h: BotHarness) -> None:
    body = {"content": "c" * 2000,
            "embeds": [{"description": "d" * 3000},
                       {"title": "t" * 256, "description": "d" * 2744}],
            "components": [{"type": 1, "components": [button(f"b{r}{i}") for i in range(5)]}
                           for r in range(5)]}
    result = await run_probe(h, post(h.channel["id"], body))
    assert isinstance(result, dict) and result["content"] == "c" * 2000


async def test_an_empty_message_is_refused(h: BotHarness) -> None:
    result = await run_probe(h, post(h.channel["id"], {"content": ""}))
    assert isinstance(result, discord.HTTPException)
    assert (result.status, result.code) == (400, 50006)
    assert last_error(h)["message"] == "Cannot send an empty message"


def modal(title: str = "Form", inputs: int = 1, label: str = "Text", value: str = "") -> dict:
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": f"t{i}", "style": 1,
                                        "label": label, "value": value}]}
            for i in range(inputs)]
    return {"type": 9, "data": {"custom_id": "m", "title": title, "components": rows}}


@pytest.mark.parametrize(
    ("callback", "path"),
    [
        (modal(title="T" * 46), ("data", "title")),
        (modal(inputs=6), ("data", "components")),
        (modal(inputs=0), ("data", "components")),
        (modal(label="L" * 46), ("data", "components", 0, "components", 0, "label")),
        (modal(value="v" * 4001), ("data", "components", 0, "components", 0, "value")),
    ],
    ids=["title-46", "6-inputs", "no-inputs", "label-46", "value-4001"],
)
async def test_modal_limits(h: BotHarness, callback: dict, path: tuple[str | int, ...]) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        route = Route("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
                      interaction_id=interaction.id, interaction_token=interaction.token)
        return await interaction.client.http.request(route, json=callback)

    result = await run_probe(h, probe)
    assert isinstance(result, discord.HTTPException)
    assert (result.status, result.code) == (400, 50035)
    assert errors_at(last_error(h), *path)


# -- rule 5: deadlines on the clock; one initial response -----------------------------------

async def test_a_second_initial_response_is_40060(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.send_message("one")
        route = Route("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
                      interaction_id=interaction.id, interaction_token=interaction.token)
        return await interaction.client.http.request(
            route, json={"type": 4, "data": {"content": "two"}})

    result = await run_probe(h, probe)
    assert isinstance(result, discord.HTTPException)
    assert (result.status, result.code) == (400, 40060)
    assert last_error(h)["message"] == "Interaction has already been acknowledged."


async def test_an_answer_after_three_seconds_is_unknown_interaction(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        h.fake.clock.advance(3.5)  # the bot "took" 3.5 s
        await interaction.response.send_message("late")

    result = await run_probe(h, probe)
    assert isinstance(result, discord.NotFound)
    assert result.code == 10062
    assert h.fake.late_callbacks == ["/probe"]
    h.fake.late_callbacks.clear()  # the harness would fail the test for it


async def test_the_token_expires_after_fifteen_minutes(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.defer()
        h.fake.clock.advance(14 * 60)
        await interaction.followup.send("still in time")
        h.fake.clock.advance(61)
        return await interaction.followup.send("too late")

    result = await run_probe(h, probe)
    assert isinstance(result, discord.HTTPException)
    assert (result.status, result.code) == (401, 50027)
    assert last_error(h)["message"] == "Invalid Webhook Token"


# -- rule 4: the first follow-up replaces "thinking"; who is pinged ---------------------------

async def test_only_new_messages_ping_and_not_the_first_followup(h: BotHarness) -> None:
    target = h.fake.moderator
    reply = await h.slash("mention", who=target)
    await reply.wait_edit()
    first, second, quiet = reply.followup_messages
    assert first["id"] == str(reply.original_message_id)  # it replaced the loading message
    assert not h.fake.pinged(first)
    assert h.fake.pinged(second).users == {target.id}
    assert not h.fake.pinged(quiet)
    assert reply.message["content"].startswith("edited")
    assert not h.fake.pinged(reply.message)  # an edit notifies no one


async def test_the_first_followup_keeps_the_deferrals_ephemeral_flag(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.defer(ephemeral=True, thinking=True)
        return await interaction.followup.send("public?", ephemeral=False, wait=True)

    message = await run_probe(h, probe)
    assert message.flags.ephemeral


# -- rule 7: DMs and user installs ------------------------------------------------------------

async def test_a_dm_interaction_has_a_user_and_no_member(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.send_message("hello in DM")
        return interaction

    interaction = await run_probe(h, probe, member=h.student, context=CONTEXT_BOT_DM)
    assert interaction.guild is None and interaction.guild_id is None
    assert isinstance(interaction.user, discord.User)
    assert interaction.user.id == h.student.id
    assert interaction.context.dm_channel
    payload = next(iter(h.fake.interactions.values())).payload
    assert "member" not in payload and payload["user"]["id"] == str(h.student.id)
    assert payload["authorizing_integration_owners"] == {"0": "0"}


async def test_a_user_install_names_the_user_as_owner(h: BotHarness) -> None:
    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.send_message("hi")
        return interaction

    interaction = await run_probe(h, probe, context=CONTEXT_GUILD, user_install=True)
    assert interaction.is_user_integration() and not interaction.is_guild_integration()
    payload = next(iter(h.fake.interactions.values())).payload
    assert payload["authorizing_integration_owners"] == {USER_INSTALL: str(h.student.id)}


# -- rule 6: channel permissions from roles and overwrites -------------------------------------

async def test_posting_needs_view_send_and_embed_links() -> None:
    fake = FakeDiscord()
    bot_role = fake.guild.role("GlossaryBot")
    everyone = str(fake.guild.id)
    hidden = fake.add_channel("hidden", overwrites=[
        {"id": everyone, "type": 0, "deny": VIEW_CHANNEL}])
    read_only = fake.add_channel("read-only", overwrites=[
        {"id": bot_role["id"], "type": 0, "deny": SEND_MESSAGES}])
    no_embeds = fake.add_channel("no-embeds", overwrites=[
        {"id": everyone, "type": 0, "deny": EMBED_LINKS}])
    allowed_again = fake.add_channel("bot-allowed", overwrites=[
        {"id": everyone, "type": 0, "deny": SEND_MESSAGES},
        {"id": fake.app_id, "type": 1, "allow": SEND_MESSAGES}])
    async with fake, running_bot(probe_bot(), fake) as h:
        for channel, body, status, code in [
            (hidden, {"content": "x"}, 403, 50001),
            (read_only, {"content": "x"}, 403, 50013),
            (no_embeds, {"embeds": [{"title": "t"}]}, 403, 50013),
        ]:
            result = await run_probe(h, post(channel["id"], body))
            assert isinstance(result, discord.Forbidden), (channel["name"], result)
            assert (result.status, result.code) == (status, code), channel["name"]
        assert (await run_probe(h, post(no_embeds["id"], {"content": "text"})))["id"]
        assert (await run_probe(h, post(allowed_again["id"], {"content": "x"})))["id"]
        # app_permissions in an interaction follow the same rules
        seen = await run_probe(h, lambda i: _answer_with(i, i.app_permissions),
                               channel=read_only)
        assert seen.view_channel and not seen.send_messages
        seen = await run_probe(h, lambda i: _answer_with(i, i.app_permissions))
        assert seen.value == EVERYONE_PERMISSIONS


async def _answer_with(interaction: discord.Interaction, value: Any) -> Any:
    await interaction.response.send_message("ok", ephemeral=True)
    return value


# -- rule 8: rate limits --------------------------------------------------------------------

async def test_a_global_429_is_shaped_as_discords_and_discord_py_waits_it_out(
    h: BotHarness,
) -> None:
    h.fake.fail_next("POST", r"/channels/\d+/messages", status=429,
                     body={"message": "You are being rate limited.", "retry_after": 0.2,
                           "global": True})
    started = time.monotonic()
    result = await run_probe(h, post(h.channel["id"], {"content": "after the wait"}))
    assert result["content"] == "after the wait"
    assert time.monotonic() - started >= 0.2
    limited = [r for r in h.fake.requests if r.status == 429]
    assert json.loads(limited[0].response) == {
        "message": "You are being rate limited.", "retry_after": 0.2, "global": True}


async def test_the_201st_command_create_of_a_day_is_refused() -> None:
    import aiohttp

    async with FakeDiscord(validate_schema=False) as fake:
        url = f"{fake.api_base_url}/applications/{fake.app_id}/commands"
        auth = {"Authorization": "Bot t"}

        def commands(names: range) -> list[dict[str, Any]]:
            return [{"name": f"c{i}", "description": "d", "type": 1} for i in names]

        async with aiohttp.ClientSession(headers=auth) as http:
            for names, status in [
                (range(150), 200),  # 150 creates
                (range(150), 200),  # the same again: updates, not creates
                (range(200), 200),  # 50 new: 200 today
                (range(201), 429),  # the 201st
            ]:
                async with http.put(url, json=commands(names)) as response:
                    assert response.status == status, names
                    body = await response.json()
            assert body["code"] == 30034 and body["global"] is False
            assert 0 < body["retry_after"] <= 24 * 3600
            assert response.headers["X-RateLimit-Scope"] == "shared"
            assert "Retry-After" in response.headers
            fake.clock.advance(24 * 3600)
            async with http.put(url, json=commands(range(201))) as response:
                assert response.status == 200  # a new day


async def test_the_glossary_answers_define_in_a_dm(start_bot: Any) -> None:
    """The DM path the fake could not carry before (KeyError 'member')."""
    async with start_bot() as h:
        data = h.fake.command_data("define", (), {"term": "backend"})
        payload = h.fake.interaction_payload(2, data, context=CONTEXT_BOT_DM)
        reply = await (await h.fake.inject(payload, "/define in a DM")).wait_callback()
        assert reply.embeds[0]["title"] == "backend"
        assert reply.message["channel_id"] == payload["channel_id"]
        assert "guild_id" not in reply.message


async def test_a_changed_overwrite_reaches_the_bots_cache(h: BotHarness) -> None:
    """What the bot's own permission check (``permissions_for(guild.me)``) sees follows
    the fake, so a product check before posting and the fake's 403 agree."""
    bot_role = h.guild.role("GlossaryBot")
    channel_id = int(h.channel["id"])

    def can_send() -> bool:
        guild = h.bot.get_guild(h.guild.id)
        channel = guild.get_channel(channel_id)
        return channel.permissions_for(guild.me).send_messages

    assert can_send()
    await h.fake.set_overwrites(h.channel, [{"id": bot_role["id"], "type": 0,
                                             "deny": SEND_MESSAGES}])
    await h.fake.wait_until(lambda: not can_send(), 5, "the CHANNEL_UPDATE in the bot's cache")
    result = await run_probe(h, post(h.channel["id"], {"content": "x"}))
    assert isinstance(result, discord.Forbidden) and result.code == 50013


async def test_a_real_route_limit_is_waited_out_by_discord_py(h: BotHarness) -> None:
    h.fake.limit_route("POST", r"/channels/\d+/messages", limit=2, per=0.3)

    async def probe(interaction: discord.Interaction) -> Any:
        await interaction.response.send_message("posting", ephemeral=True)
        channel = interaction.channel
        return [await channel.send(f"message {i}") for i in range(4)]

    started = time.monotonic()
    sent = await run_probe(h, probe)
    assert [m.content for m in sent] == [f"message {i}" for i in range(4)]
    assert time.monotonic() - started >= 0.3
    limited = [r for r in h.fake.requests if r.status == 429]
    assert limited and json.loads(limited[0].response)["global"] is False


def test_a_channel_option_resolves_with_the_typists_permissions() -> None:
    fake = FakeDiscord(validate_schema=False)
    hidden = fake.add_channel("staff", overwrites=[
        {"id": fake.guild.id, "type": 0, "deny": VIEW_CHANNEL},
        {"id": fake.guild.role("Moderators")["id"], "type": 0, "allow": VIEW_CHANNEL}])
    defs = [{"name": "where", "type": 1, "options": [{"name": "channel", "type": 7}]}]

    def seen_by(member: Any) -> int:
        data = fake.command_data("where", (), {"channel": hidden}, command_defs=defs,
                                 member=member)
        return int(data["resolved"]["channels"][hidden["id"]]["permissions"])

    assert not seen_by(fake.student) & VIEW_CHANNEL
    assert seen_by(fake.moderator) & VIEW_CHANNEL
