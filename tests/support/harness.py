"""Run a real discord.py bot against :class:`~tests.support.fake_discord.FakeDiscord`.

Usage (no pytest fixtures needed; build your own fixture around it if you like)::

    from tests.support.harness import running_bot

    async def test_define() -> None:
        bot = make_bot()                       # a commands.Bot, not started
        async with running_bot(bot) as h:
            reply = await h.slash("define", term="backend")
            assert reply.embeds[0]["title"] == "Backend"
            reply = await h.slash("glossary", "reload", member=h.moderator)
            choices = await h.autocomplete("define", focused="term", term="ba")
            clicked = await h.click(reply.buttons[0]["custom_id"], message=reply.message)
            await h.wait_for_request("POST", r"/channels/\\d+/messages")

What ``running_bot`` does, and why:

* starts a :class:`FakeDiscord` on 127.0.0.1 unless you pass one (pass one to configure
  guilds, members, shards or faults *before* the bot connects);
* starts the bot with :func:`bot.sandbox.running.bot_against_fake`, the one way the tests,
  the sandbox and the benchmarks start a bot against a stand-in: it points discord.py at
  the fake (process-wide globals; restored on exit) and installs a ``NetworkGuard``, so
  any HTTP request to a non-loopback host raises and fails the test;
* with ``fast_start=True`` (default) replaces the bot's ``before_identify_hook`` with
  :func:`no_delay_before_identify` (discord.py sleeps 5 s before every re-IDENTIFY) and
  lowers ``guild_ready_timeout`` to 0.1 s (discord.py waits that long after the last
  GUILD_CREATE before READY; default 2 s). Construct bots with
  ``guild_ready_timeout=0.1`` yourself if you prefer not to rely on that;
* on exit: ``await bot.close()``, cancels the task, restores globals, stops the fake it
  started, and fails the test if the bot crashed, a request body violated Discord's
  OpenAPI schema (unless ``allow_schema_violations=True``), an interaction was
  acknowledged after Discord's 3 s deadline (``fake.ack_deadline``; None disables) or a
  non-loopback request was attempted. ERROR records logged by discord.py (tracebacks of
  failing commands and views) are kept in ``h.logged_errors`` and shown in timeout
  messages; they do not fail the test by themselves.

Only one ``running_bot`` per process at a time (the globals are shared).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.sandbox.running import BotDidNotStart, bot_against_fake
from tests.support.fake_discord import (
    ADMINISTRATOR,
    DEFAULT_TIMEOUT,
    EPHEMERAL,
    MANAGE_GUILD,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    InteractionReply,
    NetworkGuard,
    NetworkGuardError,
    RecordedRequest,
    iter_components,
)

__all__ = [
    "ADMINISTRATOR",
    "EPHEMERAL",
    "MANAGE_GUILD",
    "BotHarness",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "InteractionReply",
    "NetworkGuardError",
    "RecordedRequest",
    "iter_components",
    "no_delay_before_identify",
    "running_bot",
]

FAST_GUILD_READY_TIMEOUT = 0.1


async def no_delay_before_identify(shard_id: int | None, *, initial: bool = False) -> None:
    """A ``before_identify_hook`` without discord.py's 5 s sleep before re-identifying.

    Assign it as ``bot.before_identify_hook = no_delay_before_identify``.
    """
    return None


class _ErrorCollector(logging.Handler):
    """Copies discord.py ERROR records (tracebacks of failing commands/views) into the
    fake, so a "timed out waiting for the bot's response" message can say why."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(logging.ERROR)
        self.fake = fake

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.fake.logged_errors.append(self.format(record)[-3000:])


class BotHarness:
    """Drive a running bot: inject interactions, look at what it sent.

    Interaction helpers take ``member=`` (default: :attr:`student`) and ``channel=``
    (default: the guild's #general), and a ``timeout`` (default 5 s) after which they
    raise AssertionError naming what was awaited. Command options are keyword
    arguments; use ``options={...}`` for an option literally named like one of the
    helper's own parameters (``member``, ``channel``, ``timeout``, ``focused``).
    """

    def __init__(
        self, bot: commands.Bot | discord.Client, fake: FakeDiscord, guard: NetworkGuard
    ) -> None:
        self.bot = bot
        self.fake = fake
        self.guard = guard
        self.allow_schema_violations = False

    # -- the world ---------------------------------------------------------------------
    @property
    def schema_check_skipped_reason(self) -> str | None:
        """Why request bodies are not validated (None when they are)."""
        return self.fake.schema_check_skipped_reason

    @property
    def logged_errors(self) -> list[str]:
        """ERROR records discord.py logged while running (e.g. unhandled view errors)."""
        return self.fake.logged_errors

    @property
    def guild(self) -> FakeGuild:
        return self.fake.guild

    @property
    def channel(self) -> dict[str, Any]:
        """The default text channel (JSON dict, ``int(h.channel["id"])`` for its id)."""
        return self.fake.guild.text_channel

    @property
    def student(self) -> FakeMember:
        """A member with only @everyone + Students permissions."""
        return self.fake.student

    @property
    def moderator(self) -> FakeMember:
        """A member whose role grants MANAGE_GUILD."""
        return self.fake.moderator

    def member(
        self,
        *,
        username: str | None = None,
        roles: list[str | int] | tuple[str | int, ...] = (),
        permissions: int | None = None,
        member_id: int | None = None,
    ) -> FakeMember:
        """A new member of the default guild (roles by name or id; permissions from roles
        unless given). Roles must exist: add them with ``fake.add_role`` before starting."""
        return self.fake.add_member(
            username=username, roles=roles, permissions=permissions, member_id=member_id
        )

    # -- interactions ------------------------------------------------------------------
    def _command_defs(
        self, name: str, guild_id: int
    ) -> tuple[list[dict[str, Any]] | None, int | None]:
        """Definitions from the bot's own tree (the truth in-process, synced or not)."""
        tree = getattr(self.bot, "tree", None)
        if not isinstance(tree, app_commands.CommandTree):
            return None, None
        for scope in (discord.Object(guild_id), None):
            for command in tree.get_commands(guild=scope, type=discord.AppCommandType.chat_input):
                if command.name == name:
                    payload = command.to_dict(tree)
                    synced = [
                        c
                        for c in self.fake.synced_commands(scope and scope.id)
                        if c["name"] == name
                    ]
                    if synced:
                        payload["id"] = synced[0]["id"]
                    return [payload], scope and scope.id
        return None, None

    async def slash(
        self,
        name: str,
        *path: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> InteractionReply:
        """Invoke ``/name path...`` and wait for the bot's interaction callback."""
        member = member or self.student
        defs, scope = self._command_defs(name, member.guild_id)
        return await self.fake.slash(
            name,
            *path,
            member=member,
            channel=channel,
            options=options,
            command_defs=defs,
            command_guild_id=scope,
            timeout=timeout,
            **kwargs,
        )

    async def autocomplete(
        self,
        name: str,
        *path: str,
        focused: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` (its current text as a kwarg); return the choices."""
        member = member or self.student
        defs, scope = self._command_defs(name, member.guild_id)
        return await self.fake.autocomplete(
            name,
            *path,
            focused=focused,
            member=member,
            channel=channel,
            options=options,
            command_defs=defs,
            command_guild_id=scope,
            timeout=timeout,
            **kwargs,
        )

    async def click(
        self,
        custom_id: str,
        *,
        message: dict[str, Any] | None = None,
        member: FakeMember | None = None,
        values: list[str] | None = None,
        component_type: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Click ``custom_id`` on ``message`` (e.g. ``reply.message``); ``message=None``
        clicks it on a synthetic bot message the bot never sent (persistent views)."""
        return await self.fake.click(
            custom_id,
            message=message,
            member=member,
            values=values,
            component_type=component_type,
            timeout=timeout,
        )

    async def submit_modal(
        self,
        modal: str | InteractionReply,
        values: dict[str, Any],
        *,
        member: FakeMember | None = None,
        message: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Submit a modal: pass the reply that opened it (type 9) or its custom_id."""
        modal_data = None
        if isinstance(modal, InteractionReply):
            assert modal.type == 9, f"{modal.description} did not open a modal (type {modal.type})"
            modal_data = modal.data
            custom_id = modal_data["custom_id"]
            if message is None and modal.interaction_type == 3:
                message = modal.payload.get("message")
        else:
            custom_id = modal
        return await self.fake.submit_modal(
            custom_id, values, member=member, modal=modal_data, message=message, timeout=timeout
        )

    # -- requests ----------------------------------------------------------------------
    async def wait_for_request(
        self, method: str, path_regex: str, *, timeout: float = DEFAULT_TIMEOUT, count: int = 1
    ) -> RecordedRequest:
        """Wait for the ``count``-th answered request matching (path without /api/v10)."""
        return await self.fake.wait_for_request(method, path_regex, timeout=timeout, count=count)

    def requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RecordedRequest]:
        return self.fake.find_requests(method, path_regex)

    def channel_messages(self, channel: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Messages currently in ``channel`` (default #general), oldest first."""
        cid = int((channel or self.channel)["id"])
        return [
            self.fake.messages[i]
            for i in self.fake.channel_messages[cid]
            if i in self.fake.messages
        ]


@contextlib.asynccontextmanager
async def running_bot(
    bot: commands.Bot | discord.Client,
    fake: FakeDiscord | None = None,
    *,
    token: str = "fake-token",
    ready_timeout: float = 10.0,
    fast_start: bool = True,
    allow_schema_violations: bool = False,
) -> AsyncIterator[BotHarness]:
    """Start ``bot`` against ``fake`` (a fresh one by default); see the module docstring."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = FakeDiscord()
        if fake.port is None:
            await fake.start()
            stack.push_async_callback(fake.stop)
        if fast_start:
            bot.before_identify_hook = no_delay_before_identify  # type: ignore[method-assign]
            # The one private discord.py attribute the tests patch: bots built without
            # guild_ready_timeout= (most tests build GlossaryBot as run_bot does) would
            # wait 2 s after the last GUILD_CREATE; there is no public setter.
            state = bot._connection
            state.guild_ready_timeout = min(state.guild_ready_timeout, FAST_GUILD_READY_TIMEOUT)
        collector = _ErrorCollector(fake)
        discord_logger = logging.getLogger("discord")
        discord_logger.addHandler(collector)
        stack.callback(discord_logger.removeHandler, collector)
        try:
            running = await stack.enter_async_context(
                bot_against_fake(bot, fake.address, token=token, ready_timeout=ready_timeout)
            )
        except BotDidNotStart as exc:
            raise AssertionError(str(exc) + fake._diagnostics()) from exc.__cause__
        harness = BotHarness(bot, fake, running.guard)
        harness.allow_schema_violations = allow_schema_violations
        try:
            yield harness
        finally:
            await stack.aclose()
    problems = []
    crashed = running.crashed
    if crashed is not None and not isinstance(crashed, asyncio.CancelledError):
        problems.append(f"bot task crashed: {crashed!r}")
    if fake.late_callbacks:
        problems.append(
            f"interactions acknowledged after {fake.ack_deadline}s (Discord rejects them): "
            f"{fake.late_callbacks}"
        )
    if running.guard.blocked:
        problems.append(f"non-loopback requests attempted: {running.guard.blocked}")
    if fake.schema_violations and not harness.allow_schema_violations:
        lines = "\n    ".join(f"{m} {p}: {msg}" for m, p, msg in fake.schema_violations)
        problems.append(f"request bodies violating Discord's OpenAPI schema:\n    {lines}")
    if problems:
        raise AssertionError("bot harness: " + "\n  ".join(problems))


class BotProcess:
    """``python -m bot`` running against a fake Discord; ``output`` once it has stopped."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = ""

    @property
    def returncode(self) -> int | None:
        return self.process.returncode


@contextlib.asynccontextmanager
async def bot_process(
    fake: FakeDiscord, work_dir: Any, content_dir: Any, *, token: str = "fake-token",
    database: Any = None, extra_config: str = "",
) -> AsyncIterator[BotProcess]:
    """Start the bot as a separate process, exactly as a user would (``python -m bot
    --config``), pointed at ``fake``; yield once it has synced and connected; on exit stop
    it with SIGTERM (bounded) and keep everything it printed in ``output``."""
    import os
    import signal
    import sys
    from pathlib import Path

    repo_root = Path(__file__).resolve().parents[2]
    config_path = Path(work_dir) / "config.toml"
    config_path.write_text(
        f'content_dir = "{content_dir}"\n'
        f'database = "{database or Path(work_dir) / "proc.sqlite3"}"\n'
        f'discord_api_url = "{fake.api_base_url}"\n'
        f'discord_gateway_url = "{fake.gateway_url}"\n' + extra_config
    )
    env = {k: v for k, v in os.environ.items() if k != "GLOSSARY_CONFIG"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), cwd=repo_root,
        env={**env, "DISCORD_TOKEN": token}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    running = BotProcess(process)
    # Read while it runs: a bot logging at DEBUG fills the 64 KiB pipe in seconds, and a
    # process blocked on a full pipe never gets as far as syncing its commands.
    printed = bytearray()

    async def drain() -> None:
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            printed.extend(chunk)

    reader = asyncio.create_task(drain())
    try:
        await fake.wait_until(lambda: fake.commands.get(None), 20, "the bot's command sync")
        await fake.wait_for_session(timeout=10)
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(process.wait(), reader), 20)
        running.output = printed.decode(errors="replace")
