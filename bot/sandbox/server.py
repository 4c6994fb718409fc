"""The sandbox: the real bot, a local Discord stand-in, and a page that looks like a channel.

Teachers and content authors should be able to try the bot without a Discord account,
a token or a network, and see exactly what students will see. So nothing here imitates
the bot: :class:`Sandbox` starts the real :class:`~bot.client.GlossaryBot` the way
``glossary-bot run`` does (config, ``Store.open``, ``GlossaryBot(config, store)``,
``bot.start``), pointed at :class:`~bot.sandbox.fake.FakeDiscord` instead of
Discord. The page only turns typing and clicks into the interactions Discord would send
(through the stand-in's injection API) and shows the messages the bot really sent.

Everything listens on 127.0.0.1 only. This module holds the lifecycle and the channel's
contents; :mod:`bot.sandbox.actions` turns typing and clicks into interactions and
:mod:`bot.sandbox.page` serves the page and its JSON API.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.client import GlossaryBot
from bot.config import Config
from bot.reloads import AUTO_RELOAD, ContentWatcher, reload_and_report
from bot.sandbox.actions import ActionsMixin, display_name
from bot.sandbox.errors import SandboxError
from bot.sandbox.fake import (
    EPHEMERAL,
    LOADING,
    FakeDiscord,
    FakeMember,
)
from bot.sandbox.page import HOST, PageMixin
from bot.sandbox.running import BotDidNotStart, bot_against_fake
from bot.store import Store

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DATABASE_NAME = "sandbox.sqlite3"
# Any non-empty string works against the stand-in; this one cannot be mistaken for a real token.
SANDBOX_TOKEN = "sandbox-token-not-a-discord-token"
READY_TIMEOUT = 30.0
MAX_SHOWN_MESSAGES = 200


def sandbox_database(config: Config) -> Path:
    """Next to the real database, but never the same file: trying things out must not
    count towards the class's lookup statistics."""
    return config.database.with_name(DATABASE_NAME)


class SandboxDiscord(FakeDiscord):
    """The stand-in, plus a hook the page's long-poll waits on."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def _notify(self) -> None:
        super()._notify()
        self._on_change()


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


class Sandbox(ActionsMixin, PageMixin):
    """Start with ``await sandbox.start()`` (or ``async with``); ``url`` is the page.

    ``port=0`` picks a free port (tests). ``database`` defaults to
    :func:`sandbox_database`. With ``watch=True`` saved term files are reloaded.
    """

    def __init__(
        self,
        config: Config,
        *,
        port: int = DEFAULT_PORT,
        watch: bool = False,
        database: Path | None = None,
        watch_interval: float = 1.0,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.requested_port = port
        self.watch = watch
        self.watch_interval = watch_interval
        self.ready_timeout = ready_timeout
        self.base_config = config
        self.database = database or sandbox_database(config)
        self.fake = SandboxDiscord(self._changed)
        self.fake.guild.name = "Glossary Sandbox"
        self.config: Config | None = None
        self.store: Store | None = None
        self.bot: GlossaryBot | None = None
        self.port: int | None = None
        self.notes: dict[int, dict[str, Any]] = {}
        # interaction id -> (command name, the command as typed), for "X used /define"
        self.typed: dict[int, tuple[str, str]] = {}
        self.version = 0
        self._change = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._bot_running = contextlib.AsyncExitStack()
        self._watcher: ContentWatcher | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise SandboxError("the sandbox is not started")
        return f"http://{HOST}:{self.port}/"

    @property
    def addresses(self) -> list[Any]:
        """Every address the sandbox listens on (the page and the stand-in)."""
        found: list[Any] = []
        for runner in (self._runner, self.fake._runner):
            if runner is not None:
                found.extend(runner.addresses)
        return found

    async def __aenter__(self) -> Sandbox:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Page first (so a taken port fails before anything else starts), then the
        stand-in, then the bot; returns once the bot is ready for commands."""
        await self._start_page()
        await self.fake.start(0)
        self.config = replace(
            self.base_config,
            token=SANDBOX_TOKEN,
            database=self.database,
            dev_guild_id=None,  # a real server's id means nothing to the stand-in
            shard_count=None,  # one stand-in guild, one shard
            shard_ids=None,
            # --watch reports to the page; the bot's own auto-reload would reload twice.
            auto_reload=self.base_config.auto_reload and not self.watch,
            discord_api_url=self.fake.api_base_url,
            discord_gateway_url=self.fake.gateway_url,
        )
        self.store = await Store.open(self.config.database)
        # guild_ready_timeout: the stand-in sends every guild at once, no need to wait 2 s.
        self.bot = GlossaryBot(self.config, self.store, guild_ready_timeout=0.2)
        try:  # "no network" is a promise: bot_against_fake enforces it
            await self._bot_running.enter_async_context(bot_against_fake(
                self.bot, self.fake.address, token=self.config.require_token(),
                ready_timeout=self.ready_timeout,
            ))
        except BotDidNotStart as exc:
            raise SandboxError(str(exc)) from exc
        await self._welcome()
        if self.watch:
            self._watcher = ContentWatcher(
                self.config.content_dir, self._reload_after_save, debounce=self.watch_interval
            )
            await self._watcher.start()

    async def stop(self) -> None:
        """Stop everything that was started, each step bounded, in reverse order."""
        self._closing = True
        self._changed()  # release long-polls now rather than after 20 s
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self._bot_running.aclose()  # closes the bot, puts discord.py and aiohttp back
        if self.store is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.store.close(), 10.0)
            self.store = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.fake.stop(), 5.0)
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner.cleanup(), 5.0)
            self._runner = None

    # -- the channel's contents -----------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1
        self._change.set()
        self._change = asyncio.Event()

    def add_note(
        self,
        content: str,
        *,
        embeds: list[dict[str, Any]] | None = None,
        failed_command: tuple[FakeMember, str, str] | None = None,
    ) -> dict[str, Any]:
        """A message from the sandbox itself (not the bot): welcome, watch reloads,
        "did not respond". Ids come from the stand-in so notes sort among messages."""
        note_id = self.fake.snowflake()
        note: dict[str, Any] = {
            "id": str(note_id),
            "kind": "failed" if failed_command else "system",
            "author": {"name": "Sandbox", "bot": False},
            "timestamp": _now_iso(),
            "edited": False,
            "content": content,
            "embeds": embeds or [],
            "components": [],
            "ephemeral": failed_command is not None,
            "loading": False,
            "invoked_by": None,
        }
        if failed_command is not None:
            member, action, what = failed_command
            note["author"] = {"name": self.fake.bot_user.username, "bot": True}
            note["invoked_by"] = {"name": display_name(member), "action": action,
                                  "command": what, "full": what, "user_id": str(member.id)}
        self.notes[note_id] = note
        self._changed()
        return note

    def page_messages(self) -> list[dict[str, Any]]:
        """The channel as the page shows it, oldest first: bot messages and notes."""
        channel_id = int(self.fake.guild.text_channel["id"])
        shown: dict[int, dict[str, Any]] = dict(self.notes)
        # The stand-in keeps a deleted interaction response, only marking its reply.
        deleted = {
            r.original_message_id for r in self.fake.interactions.values() if r.original_deleted
        }
        for message_id in self.fake.channel_messages.get(channel_id, []):
            message = self.fake.messages.get(message_id)
            if message is not None and message_id not in deleted:
                shown[message_id] = self.page_message(message)
        return [shown[key] for key in sorted(shown)[-MAX_SHOWN_MESSAGES:]]

    def page_message(self, message: dict[str, Any]) -> dict[str, Any]:
        flags = int(message.get("flags") or 0)
        invoked_by = None
        meta = message.get("interaction_metadata")
        if meta and int(meta.get("type") or 0) == 2:
            user = meta.get("user") or {}
            fallback = "/" + str(meta.get("name", ""))
            command, typed = self.typed.get(int(meta["id"]), (fallback, fallback))
            invoked_by = {
                "name": user.get("global_name") or user.get("username") or "someone",
                "action": "used",
                "command": command,
                "full": typed,
                "user_id": str(user.get("id", "")),
            }
        return {
            "id": message["id"],
            "kind": "bot",
            "author": {"name": self.fake.bot_user.username, "bot": True},
            "timestamp": message.get("timestamp"),
            "edited": bool(message.get("edited_timestamp")),
            "content": message.get("content") or "",
            "embeds": message.get("embeds") or [],
            "components": message.get("components") or [],
            "ephemeral": bool(flags & EPHEMERAL),
            "loading": bool(flags & LOADING),
            "invoked_by": invoked_by,
        }

    async def _welcome(self) -> None:
        assert self.config is not None
        shown_dir = _shown_path(self.config.content_dir)
        lines = [
            "Welcome! This is the **real** glossary bot, talking to a stand-in for Discord "
            "that runs on this computer: no account, no token, nothing leaves this machine.",
            "Type `/define backend` below (suggestions appear as you type), or try "
            "`/search database`, `/share git note:read this first`.",
            "Switch between **Student** and **Moderator** at the top right to try "
            "`/glossary reload` and `/glossary stats`.",
        ]
        where = f"the term files in `{shown_dir}`" if shown_dir else "the term files"
        if self.watch:
            lines.append(f"Watching {where}: saved changes are reloaded and reported here.")
        else:
            lines.append(f"After editing {where}, run `/glossary reload` as Moderator.")
        self.add_note("\n".join(lines))
        assert self.bot is not None
        # The bot loaded them at start-up; unchanged files are not parsed again.
        report = await reload_and_report(self.bot.store, self.config.content_dir)
        if report.diff is None:  # refused
            self.add_note("The term files have errors:", embeds=[report.embed.to_dict()])

    async def _reload_after_save(self) -> None:
        """What ``--watch`` does on save: the same reload as ``/glossary reload``, with
        the same report, posted as a note."""
        assert self.bot is not None and self.config is not None
        shown_dir = _shown_path(self.config.content_dir) or str(self.config.content_dir)
        report = await reload_and_report(self.bot.store, self.config.content_dir,
                                         actor_name=AUTO_RELOAD)
        self.add_note(f"Saved changes in `{shown_dir}` (--watch):",
                      embeds=[report.embed.to_dict()])

def _shown_path(path: Path) -> str:
    """``data/terms`` when under the working directory (the usual case), else empty:
    a long temporary path in the welcome message helps nobody."""
    with contextlib.suppress(ValueError, OSError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return ""
