"""Self-tests: the harness drives a real discord.py bot through the fake Discord.

The throwaway bot below exercises every path the project's cog tests rely on: slash
commands (plain, subcommand groups, permission checks), autocomplete, deferral +
follow-up / edit, channel messages, files, persistent views (DynamicItem clicked on a
message the bot never sent), modals, schema validation, faults and reconnects.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.sandbox.fake import UnknownCommand
from tests.support.fake_discord import (
    EPHEMERAL,
    MANAGE_GUILD,
    FakeDiscord,
    FakeUpload,
    NetworkGuard,
    NetworkGuardError,
    get_schema_validator,
)
from tests.support.harness import BotHarness, running_bot

REPO_ROOT = Path(__file__).resolve().parents[2]


class PingButton(discord.ui.DynamicItem[discord.ui.Button], template=r"ping:(?P<n>\d+)"):
    """A persistent button: works on messages sent before a restart."""

    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"Ping {n}", custom_id=f"ping:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> PingButton:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(PingButton(self.n + 1))
        await interaction.response.edit_message(content=f"pinged {self.n}", view=view)


class NoteModal(discord.ui.Modal, title="Note"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Text", custom_id="note_text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.text.value}", ephemeral=True)


class LabelModal(discord.ui.Modal, title="Labelled"):
    """discord.py 2.7 modal layout: a Label (type 18) wrapping the input."""

    def __init__(self) -> None:
        super().__init__(custom_id="label_modal")
        self.word = discord.ui.TextInput(custom_id="word")
        self.add_item(discord.ui.Label(text="Word", component=self.word))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"word: {self.word.value}")


class CounterView(discord.ui.View):
    @discord.ui.button(label="Add", custom_id="counter:add")
    async def add(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_message("added", ephemeral=True)


def make_bot(cls: type[commands.Bot] = commands.Bot, **kwargs: Any) -> commands.Bot:
    bot = cls(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.1,
        **kwargs,
    )
    tree = bot.tree

    @tree.command(description="Ping the bot.")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    async def complete_word(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        words = ["backend", "bandwidth", "cache", "database"]
        return [app_commands.Choice(name=w, value=w) for w in words if w.startswith(current)]

    @tree.command(description="Look a word up.")
    @app_commands.autocomplete(word=complete_word)
    async def lookup(interaction: discord.Interaction, word: str, times: int = 1) -> None:
        await interaction.response.send_message(f"{word} x{times}", view=CounterView())

    @tree.command(description="Think, then answer.")
    async def slow(interaction: discord.Interaction, edit: bool = False) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if edit:
            await interaction.edit_original_response(content="edited")
        else:
            await interaction.followup.send("done", ephemeral=True)
            await interaction.followup.send("second")

    @tree.command(description="Post in the channel.")
    async def announce(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message("posting", ephemeral=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send(text, view=discord.ui.View().add_item(PingButton(1)))

    @tree.command(description="Send a file.")
    async def attach(interaction: discord.Interaction) -> None:
        import io

        await interaction.response.send_message(
            "file", file=discord.File(io.BytesIO(b"hello"), filename="hello.txt")
        )

    @tree.command(description="Read an attached file.")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        import hashlib

        try:
            data = await file.read()
        except discord.NotFound:
            await interaction.response.send_message("gone")
            return
        digest = hashlib.sha256(data).hexdigest()[:12]
        await interaction.response.send_message(
            f"{file.filename} {file.size} {len(data)} {file.content_type} {digest}")

    @tree.command(description="Open a modal.")
    async def note(interaction: discord.Interaction, labelled: bool = False) -> None:
        await interaction.response.send_modal(LabelModal() if labelled else NoteModal())

    @tree.command(description="Send an invalid embed.")
    async def bad(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message(embed=discord.Embed(title="x" * 300))
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"rejected {exc.code}")

    admin = app_commands.Group(
        name="admin",
        description="Admin tools.",
        default_permissions=discord.Permissions(manage_guild=True),
    )
    terms = app_commands.Group(name="terms", description="Terms.", parent=admin)

    @terms.command(name="reload", description="Reload terms.")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def reload(interaction: discord.Interaction, force: bool = False) -> None:
        await interaction.response.send_message(f"reloaded force={force}")

    tree.add_command(admin)

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await interaction.response.send_message(f"error: {type(error).__name__}", ephemeral=True)

    async def setup_hook() -> None:
        bot.add_dynamic_items(PingButton)

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


# -- basics ------------------------------------------------------------------------------


async def test_ping_and_login_flow() -> None:
    started = time.perf_counter()
    async with running_bot(make_bot()) as h:
        reply = await h.slash("ping")
        assert reply.type == 4
        assert reply.content == "pong"
        assert reply.ephemeral
        assert reply.message is not None and reply.message["flags"] & EPHEMERAL
        paths = [(r.method, r.path) for r in h.fake.requests]
        assert ("GET", "/users/@me") in paths
        assert ("GET", "/oauth2/applications/@me") in paths
        assert not h.fake.unknown_routes
    assert time.perf_counter() - started < 5


async def test_command_sync_is_echoed_and_used() -> None:
    async with running_bot(make_bot()) as h:
        guild = discord.Object(h.guild.id)
        h.bot.tree.copy_global_to(guild=guild)
        synced = await h.bot.tree.sync(guild=guild)
        assert {c.name for c in synced} >= {"ping", "lookup", "admin"}
        assert all(c.id for c in synced)
        fetched = await h.bot.tree.fetch_commands(guild=guild)
        assert [c.id for c in fetched] == [c.id for c in synced]
        await h.bot.tree.sync()  # global
        assert {c["name"] for c in h.fake.commands[None]} >= {"ping"}
        # the fake alone (as for a bot in another process) can build the interaction
        reply = await h.fake.slash("lookup", word="cache", times=3)
        assert reply.content == "cache x3"
        assert reply.payload["data"]["guild_id"] == str(h.guild.id)
        ping_id = next(c.id for c in synced if c.name == "ping")
        assert (await h.slash("ping")).payload["data"]["id"] == str(ping_id)


async def test_autocomplete_returns_choices() -> None:
    async with running_bot(make_bot()) as h:
        choices = await h.autocomplete("lookup", focused="word", word="ba")
        assert [c["value"] for c in choices] == ["backend", "bandwidth"]


async def test_subcommand_group_and_permissions() -> None:
    async with running_bot(make_bot()) as h:
        denied = await h.slash("admin", "terms", "reload", member=h.student)
        assert denied.content == "error: MissingPermissions"
        assert denied.ephemeral
        allowed = await h.slash("admin", "terms", "reload", member=h.moderator, force=True)
        assert allowed.content == "reloaded force=True"
        custom = h.member(username="helper", permissions=MANAGE_GUILD)
        assert (await h.slash("admin", "terms", "reload", member=custom)).content.startswith(
            "reloaded"
        )
        with pytest.raises(UnknownCommand, match="no option 'nope'"):
            await h.slash("ping", nope=1)


async def test_defer_then_followups() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.slash("slow")
        assert reply.type == 5
        first = await reply.wait_followup(1)
        assert first["content"] == "done"
        await reply.wait_followup(2)
        # the first follow-up completes the "thinking" message; the second is new
        assert reply.content == "done" and reply.ephemeral and not reply.loading
        assert [m["content"] for m in reply.followup_messages] == ["done", "second"]
        assert reply.followup_message_ids[0] == reply.original_message_id


async def test_defer_then_edit_original() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.slash("slow", edit=True)
        await reply.wait_edit()
        assert reply.content == "edited"
        assert reply.ephemeral and not reply.loading


async def test_channel_message_and_persistent_button_on_it() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.slash("announce", text="hello class")
        assert reply.content == "posting"
        request = await h.wait_for_request("POST", r"/channels/\d+/messages")
        assert request.json["content"] == "hello class"
        posted = h.channel_messages()[-1]
        assert posted["content"] == "hello class"
        clicked = await h.click("ping:1", message=posted)
        assert clicked.type == 7
        assert clicked.content == "pinged 1"
        assert clicked.custom_ids() == ["ping:2"]


async def test_dynamic_item_on_message_the_bot_never_sent() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.click("ping:41")  # synthetic message, as after a restart
        assert reply.type == 7
        assert reply.content == "pinged 41"
        assert reply.buttons[0]["custom_id"] == "ping:42"
        again = await h.click("ping:42", message=reply.message)
        assert again.content == "pinged 42"


async def test_view_button_on_command_reply() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.slash("lookup", word="cache")
        assert reply.custom_ids() == ["counter:add"]
        clicked = await h.click("counter:add", message=reply.message, member=h.moderator)
        assert clicked.content == "added" and clicked.ephemeral


async def test_modal_round_trip() -> None:
    async with running_bot(make_bot()) as h:
        opened = await h.slash("note")
        assert opened.type == 9
        assert opened.data["title"] == "Note"
        submitted = await h.submit_modal(opened, {"note_text": "remember APIs"})
        assert submitted.content == "noted: remember APIs"
        labelled = await h.slash("note", labelled=True)
        assert labelled.data["components"][0]["type"] == 18
        answer = await h.submit_modal(labelled, {"word": "cache"})
        assert answer.content == "word: cache"
        with pytest.raises(AssertionError, match="no inputs"):
            await h.submit_modal(labelled, {"missing": "x"})


async def test_file_upload_is_multipart_validated() -> None:
    async with running_bot(make_bot()) as h:
        reply = await h.slash("attach")
        assert reply.content == "file"
        assert [a["filename"] for a in reply.message["attachments"]] == ["hello.txt"]
        request = h.requests("POST", r"/interactions/\d+/[^/]+/callback")[-1]
        assert request.content_type == "multipart/form-data"
        assert request.files[0]["filename"] == "hello.txt"


async def test_an_attached_file_is_resolved_and_downloaded_from_the_cdn() -> None:
    import hashlib

    data = "slug,title\r\ngit,Git ✓\r\n".encode()
    async with running_bot(make_bot()) as h:
        reply = await h.slash("upload", file=FakeUpload("terms.csv", data, "text/csv"))
        digest = hashlib.sha256(data).hexdigest()[:12]
        assert reply.content == f"terms.csv {len(data)} {len(data)} text/csv {digest}"
        [attachment] = reply.payload["data"]["resolved"]["attachments"].values()
        assert attachment["ephemeral"] is True
        assert attachment["url"].startswith(f"{h.fake.base_url}/ephemeral-attachments/")
        [download] = h.requests("GET", r"/ephemeral-attachments/.*")
        assert download.status == 200


async def test_the_cdn_refuses_expired_and_tampered_links() -> None:
    async with running_bot(make_bot()) as h:
        attachment = h.fake.resolve_upload(FakeUpload("a.txt", b"abc"))
        url = attachment["url"]
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as ok:
                assert ok.status == 200 and await ok.read() == b"abc"
            async with session.get(attachment["proxy_url"]) as proxied:
                assert proxied.status == 200
            tampered = re.sub(r"hm=[0-9a-f]+", "hm=" + "0" * 64, url)
            async with session.get(tampered) as bad:
                assert bad.status == 404
                assert await bad.text() == "This content is no longer available."
            async with session.get(url.split("?")[0]) as unsigned:
                assert unsigned.status == 404
            h.fake.clock.advance(24 * 60 * 60 + 1)
            async with session.get(url) as expired:
                assert expired.status == 404
        reply = await h.slash("upload", file=FakeUpload("b.txt", b"x"))
        assert reply.content.startswith("b.txt 1 1 None")  # a fresh link works again


# -- schema validation -------------------------------------------------------------------


async def test_schema_violation_is_rejected_and_reported() -> None:
    validator = get_schema_validator()
    if validator.skipped_reason:
        pytest.skip(validator.skipped_reason)
    async with running_bot(make_bot(), allow_schema_violations=True) as h:
        reply = await h.slash("bad")
        assert reply.content == "rejected 50035"
        assert any(
            "embeds.0.title" in msg and "256" in msg for _, _, msg in h.fake.schema_violations
        ), h.fake.schema_violations
    # without the opt-out the harness fails the test
    with pytest.raises(AssertionError, match="OpenAPI schema"):
        async with running_bot(make_bot()) as h:
            await h.slash("bad")
    print(
        f"\nspec load {validator.load_seconds * 1000:.1f} ms, "
        f"{len(validator._validators)} validators built "
        f"in {validator.build_seconds * 1000:.1f} ms, "
        f"{validator.validated} bodies validated in {validator.validate_seconds * 1000:.1f} ms"
    )


# -- faults and the gateway --------------------------------------------------------------


async def test_rate_limit_is_retried() -> None:
    async with running_bot(make_bot()) as h:
        h.fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=429)
        reply = await h.slash("ping")
        assert reply.content == "pong"
        statuses = [r.status for r in h.requests("POST", r"/interactions/\d+/[^/]+/callback")]
        assert statuses == [429, 200]


async def test_server_error_is_retried() -> None:
    async with running_bot(make_bot()) as h:
        h.fake.fail_next("POST", r"/channels/\d+/messages", status=500)
        await h.slash("announce", text="after 500")
        request = await h.wait_for_request("POST", r"/channels/\d+/messages", count=2, timeout=5)
        assert request.status == 200
        assert [r.status for r in h.requests("POST", r"/channels/\d+/messages")] == [500, 200]


async def test_unknown_route_is_404_and_recorded() -> None:
    async with running_bot(make_bot()) as h:
        with pytest.raises(discord.NotFound):
            await h.bot.fetch_user(1234)
        assert ("GET", "/users/1234") in h.fake.unknown_routes


@pytest.mark.parametrize("disturbance", ["reconnect", "invalidate", "drop"])
async def test_bot_comes_back_after_gateway_trouble(disturbance: str) -> None:
    async with running_bot(make_bot()) as h:
        if disturbance == "reconnect":
            await h.fake.reconnect_request()
        elif disturbance == "invalidate":
            await h.fake.invalidate_session()
        else:
            await h.fake.drop_socket()
        reply = await h.slash("ping")
        assert reply.content == "pong"
        if disturbance == "invalidate":
            assert h.fake.identify_count == 2
        else:
            assert h.fake.resume_count == 1 and h.fake.identify_count == 1


async def test_auto_sharded_bot() -> None:
    fake = FakeDiscord(shard_count=2, guild_count=2)
    shards = {(g.id >> 22) % 2 for g in fake.guilds}
    assert shards == {0, 1}
    bot = make_bot(commands.AutoShardedBot)
    async with running_bot(bot, fake) as h:
        assert ("GET", "/gateway/bot") in [(r.method, r.path) for r in fake.requests]
        assert sorted(s.shard for s in fake.connected_sessions()) == [(0, 2), (1, 2)]
        assert {g.id for g in h.bot.guilds} == {g.id for g in fake.guilds}
        other = fake.add_member(fake.guilds[1], username="far")
        reply = await h.slash("ping", member=other)
        assert reply.content == "pong"
        assert reply.payload["guild_id"] == str(fake.guilds[1].id)


async def test_late_acknowledgement_is_rejected_like_discord() -> None:
    bot = make_bot()

    @bot.tree.command(description="Too slow.")
    async def sleepy(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("late")

    fake = FakeDiscord()
    fake.ack_deadline = 0.1
    with pytest.raises(AssertionError, match="acknowledged after 0.1s"):
        async with running_bot(bot, fake) as h:
            with pytest.raises(AssertionError, match="acknowledged too late"):
                await h.slash("sleepy", timeout=0.5)
    assert set(fake.late_callbacks) == {"/sleepy"}


async def test_member_channel_and_role_options_are_resolved() -> None:
    bot = make_bot()

    @bot.tree.command(description="Describe.")
    async def who(
        interaction: discord.Interaction,
        member: discord.Member,
        where: discord.TextChannel,
        role: discord.Role,
    ) -> None:
        await interaction.response.send_message(f"{member.name} {where.name} {role.name}")

    async with running_bot(bot) as h:
        moderators = h.guild.role("Moderators")
        reply = await h.slash(
            "who", options={"member": h.moderator}, where=h.channel, role=moderators
        )
        assert reply.content == "moderator general Moderators"


async def test_failing_command_traceback_shows_in_timeout_message() -> None:
    bot = make_bot()
    del bot.tree.on_error  # back to discord.py's default handler: log, no response

    @bot.tree.command(description="Crash.")
    async def crash(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    async with running_bot(bot) as h:
        with pytest.raises(AssertionError, match="kaboom"):
            await h.slash("crash", timeout=0.5)
        assert any("kaboom" in e for e in h.logged_errors)


# -- guards ------------------------------------------------------------------------------


async def test_network_guard_blocks_non_loopback() -> None:
    original = aiohttp.ClientSession._request
    with NetworkGuard() as guard:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(NetworkGuardError):
                await session.get("https://discord.com/api/v10/gateway")
    assert guard.blocked and "discord.com" in guard.blocked[0]
    with pytest.raises(AssertionError, match="non-loopback"):
        async with running_bot(make_bot()) as h:
            with pytest.raises(NetworkGuardError):
                await h.bot.http.get_from_cdn("https://cdn.discordapp.com/embed/avatars/0.png")
    assert aiohttp.ClientSession._request is original


async def test_timeouts_are_bounded_and_named() -> None:
    async with running_bot(make_bot()) as h:
        with pytest.raises(AssertionError, match="request #1 DELETE"):
            await h.wait_for_request("DELETE", r"/nothing", timeout=0.2)


# -- a bot in another process -------------------------------------------------------------

CHILD_BOT = textwrap.dedent(
    """
    import sys, discord, yarl
    from discord.ext import commands

    discord.http.Route.BASE = sys.argv[1]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(),
                       guild_ready_timeout=0.1)

    @bot.tree.command(description="Echo.")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(text.upper())

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook
    bot.run("child-token", log_handler=None)
    """
)


async def test_bot_in_another_process() -> None:
    async with FakeDiscord() as fake:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD_BOT,
            fake.api_base_url,
            fake.gateway_url,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        failure: AssertionError | None = None
        try:
            await fake.wait_until(lambda: fake.commands.get(None), 15, "the child's command sync")
            await fake.wait_for_session(timeout=10)
            reply = await fake.slash("echo", text="hi")
            assert reply.content == "HI"
        except AssertionError as exc:
            failure = exc
        finally:
            if child.returncode is None:
                child.terminate()
            _, stderr = await asyncio.wait_for(child.communicate(), 10)
        if failure is not None:
            raise AssertionError(f"{failure}\nchild stderr:\n{stderr.decode()[-3000:]}")
        assert not fake.schema_violations, fake.schema_violations


async def test_standalone_cli_prints_urls() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox.fake",
        "--port",
        "0",
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        # Two lines that can be pasted into config.toml as they are.
        assert re.fullmatch(rb'discord_api_url = "http://127\.0\.0\.1:\d+/api/v10"\n', line), line
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


def test_harness_type_exported() -> None:
    assert BotHarness.slash.__doc__


async def test_forget_history_drops_every_record():
    async with FakeDiscord() as fake:
        fake.requests.append(None)  # type: ignore[arg-type]
        fake.messages[1] = {"id": "1"}
        fake.channel_messages[5].append(1)
        fake.forget_history()
        assert (fake.requests, fake.messages, dict(fake.channel_messages)) == ([], {}, {})
        assert fake.interactions == {}
