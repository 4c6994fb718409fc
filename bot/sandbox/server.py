"""The sandbox: the real bot, a local Discord stand-in, and a page that looks like a channel.

Teachers and content authors should be able to try the bot without a Discord account,
a token or a network, and see exactly what students will see. So nothing here imitates
the bot: :class:`Sandbox` starts the real :class:`~bot.client.GlossaryBot` the way
``glossary-bot run`` does (config, ``Store.open``, ``GlossaryBot(config, store)``,
``bot.start``), pointed at :class:`~bot.sandbox.fake_discord.FakeDiscord` instead of
Discord. The page only turns typing and clicks into the interactions Discord would send
(through the stand-in's injection API) and shows the messages the bot really sent.

Everything listens on 127.0.0.1 only. The page's JSON API also refuses requests whose
``Host`` or ``Origin`` is not this server, so another web site open in the same browser
cannot drive it (DNS rebinding, cross-site POSTs).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
from aiohttp import web

from bot.client import GlossaryBot, point_discord_at
from bot.config import Config
from bot.reloads import ContentWatcher, reload_and_report
from bot.sandbox.commands import (
    BOOLEAN,
    CHANNEL,
    MENTIONABLE,
    ROLE,
    USER,
    CommandError,
    CommandSpec,
    convert,
    flatten,
    parse,
)
from bot.sandbox.fake_discord import (
    EPHEMERAL,
    LOADING,
    LOOPBACK_HOST,
    FakeDiscord,
    FakeMember,
    InteractionReply,
    NetworkGuard,
    iter_components,
)
from bot.store import Store

log = logging.getLogger(__name__)

HOST = LOOPBACK_HOST
DEFAULT_PORT = 8765
DATABASE_NAME = "sandbox.sqlite3"
# Any non-empty string works against the stand-in; this one cannot be mistaken for a real token.
SANDBOX_TOKEN = "sandbox-token-not-a-discord-token"
# Longer than Discord's 3 s answer window, which the stand-in enforces itself.
RESPONSE_TIMEOUT = 5.0
AUTOCOMPLETE_TIMEOUT = 3.0
READY_TIMEOUT = 30.0
LONG_POLL_SECONDS = 20.0
MAX_TEXT = 4000
MAX_SHOWN_MESSAGES = 200
STATIC_DIR = Path(__file__).with_name("static")
STATIC_FILES = {
    "index.html": "text/html",
    "sandbox.css": "text/css",
    "sandbox.js": "text/javascript",
}
# The page has no inline scripts or styles, so a strict policy costs nothing and would
# stop any markup that slipped through escaping from running.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PERSONAS = ("student", "moderator")


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says why and what to do."""


class PortInUse(SandboxError):
    """The page's port is taken (or not allowed)."""


def sandbox_database(config: Config) -> Path:
    """Next to the real database, but never the same file: trying things out must not
    count towards the class's lookup statistics."""
    return config.database.with_name(DATABASE_NAME)


class SandboxDiscord(FakeDiscord):
    """The stand-in, plus a hook the page's long-poll waits on, and bounded memory."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def _notify(self) -> None:
        super()._notify()
        if len(self.requests) > 5000:  # the sandbox never looks far back
            del self.requests[:-1000]
        self._on_change()


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


class Sandbox:
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
        self._bot_task: asyncio.Task[None] | None = None
        self._watcher: ContentWatcher | None = None
        self._guard: NetworkGuard | None = None
        self._saved_urls: tuple[str, Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.port is not None, "the sandbox is not started"
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
        gateway = discord.gateway.DiscordWebSocket
        self._saved_urls = (discord.http.Route.BASE, gateway.DEFAULT_GATEWAY)
        point_discord_at(self.config.discord_api_url, self.config.discord_gateway_url)
        self._guard = NetworkGuard().__enter__()  # "no network" is a promise: enforce it
        self.store = await Store.open(self.config.database)
        # guild_ready_timeout: the stand-in sends every guild at once, no need to wait 2 s.
        self.bot = GlossaryBot(self.config, self.store, guild_ready_timeout=0.2)
        self._bot_task = asyncio.create_task(
            self.bot.start(self.config.require_token()), name="sandbox-bot"
        )
        await self._wait_ready()
        await self._welcome()
        if self.watch:
            self._watcher = ContentWatcher(
                self.config.content_dir, self._reload_after_save, debounce=self.watch_interval
            )
            await self._watcher.start()

    async def _start_page(self) -> None:
        app = web.Application(middlewares=[self._local_only], client_max_size=256 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/state", self._api_state)
        app.router.add_get("/api/messages", self._api_messages)
        app.router.add_post("/api/command", self._api_command)
        app.router.add_post("/api/autocomplete", self._api_autocomplete)
        app.router.add_post("/api/click", self._api_click)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            reason = exc.strerror or str(exc)
            raise PortInUse(
                f"cannot listen on {HOST}:{self.requested_port} ({reason}). Is a sandbox "
                "already running? Choose another port with --port N."
            ) from None
        self.port = self._runner.addresses[0][1]

    async def _wait_ready(self) -> None:
        assert self.bot is not None and self._bot_task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout
        while not self.bot.is_ready():
            if self._bot_task.done():
                error = None if self._bot_task.cancelled() else self._bot_task.exception()
                raise SandboxError(f"the bot stopped while starting: {error!r}")
            if loop.time() > deadline:
                raise SandboxError(f"the bot was not ready within {self.ready_timeout:.0f} s")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop everything that was started, each step bounded, in reverse order."""
        self._closing = True
        self._changed()  # release long-polls now rather than after 20 s
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        if self.bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.bot.close(), 10.0)
        if self._bot_task is not None:
            if not self._bot_task.done():
                self._bot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._bot_task), 5.0)
            self._bot_task = None
        if self.store is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.store.close(), 10.0)
            self.store = None
        if self._guard is not None:
            self._guard.__exit__(None, None, None)
            self._guard = None
        if self._saved_urls is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
                self._saved_urls
            )
            self._saved_urls = None
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
            note["invoked_by"] = {"name": _display_name(member), "action": action,
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
        report = await reload_and_report(self.bot.store, self.config.content_dir)
        self.add_note(f"Saved changes in `{shown_dir}` (--watch):",
                      embeds=[report.embed.to_dict()])

    # -- running commands -----------------------------------------------------------------
    def command_definitions(self) -> list[dict[str, Any]]:
        """The bot's chat-input commands, as it syncs them (with the synced ids)."""
        assert self.bot is not None
        tree = self.bot.tree
        synced = {c["name"]: c["id"] for c in self.fake.synced_commands(None)}
        definitions = []
        for command in tree.get_commands(type=discord.AppCommandType.chat_input):
            payload = command.to_dict(tree)
            if command.name in synced:
                payload["id"] = synced[command.name]
            definitions.append(payload)
        return definitions

    def commands(self) -> list[CommandSpec]:
        return flatten(self.command_definitions())

    def persona(self, name: object) -> FakeMember:
        if name == "moderator":
            return self.fake.moderator
        if name in (None, "student"):
            return self.fake.student
        raise CommandError(f"Unknown persona {name!r}; use student or moderator.")

    def _resolve(self, option_type: int, text: str) -> Any:
        """A user, channel or role named in an option, as Discord's client picks it."""
        guild = self.fake.guild
        wanted = text.strip().lstrip("@#").lower()
        if option_type in (USER, MENTIONABLE):
            for member in guild.members:
                names = {member.username.lower(), (member.global_name or "").lower(),
                         str(member.id), f"<{member.id}>", f"<@{member.id}>"}
                if wanted in names or text.strip() in names:
                    return member
            people = ", ".join(m.username for m in guild.members if not m.bot)
            raise CommandError(f"No member called {text!r} here. Members: {people}.")
        if option_type == CHANNEL:
            for channel in guild.channels:
                if wanted in (str(channel.get("name", "")).lower(), channel["id"]):
                    return channel
            raise CommandError(f"No channel called {text!r} here.")
        if option_type == ROLE:
            for role in guild.roles:
                if wanted in (role["name"].lower().lstrip("@"), role["id"]):
                    return role
            raise CommandError(f"No role called {text!r} here.")
        raise CommandError(f"Options of type {option_type} are not supported in the sandbox.")

    async def run_command(self, text: str, persona: str | None = None) -> dict[str, Any]:
        """Parse and run a typed command as ``persona``; returns the page's view of it."""
        member = self.persona(persona)
        text = text.strip()
        parsed = parse(text, self.commands())
        options = convert(parsed, self._resolve)
        spec = parsed.spec
        payload = self.fake.interaction_payload(
            2,
            self.fake.command_data(
                spec.name, spec.subpath, options, command_defs=self.command_definitions()
            ),
            member=member,
        )
        self.typed[int(payload["id"])] = ("/" + spec.qualified_name, text)
        reply = await self._inject(
            payload, "/" + spec.qualified_name, (member, "used", "/" + spec.qualified_name)
        )
        return self._result(reply)

    async def click(
        self,
        message_id: str,
        custom_id: str,
        persona: str | None = None,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """Click a button (or pick ``values`` in a select menu) on a bot message."""
        member = self.persona(persona)
        message = self.fake.messages.get(_int(message_id))
        if message is None:
            raise LookupError("That message is gone.")
        component = next(
            (c for c in iter_components(message.get("components") or [])
             if c.get("custom_id") == custom_id),
            None,
        )
        if component is None:
            raise LookupError("That message has no such button.")
        if component.get("disabled"):
            raise CommandError("That button is disabled.")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": int(component["type"])}
        if data["component_type"] in (3, 5, 6, 7, 8):
            data["values"] = [str(v) for v in values or []][:25]
        payload = self.fake.interaction_payload(3, data, member=member, message=message)
        label = component.get("label") or custom_id
        reply = await self._inject(payload, f"click {custom_id!r}", (member, "clicked", label))
        return self._result(reply)

    async def _inject(
        self, payload: dict[str, Any], description: str, who: tuple[FakeMember, str]
    ) -> InteractionReply:
        reply = await self.fake.inject(payload, description, RESPONSE_TIMEOUT)
        try:
            await reply.wait_callback(RESPONSE_TIMEOUT)
        except AssertionError:
            self.add_note("The application did not respond", failed_command=who)
            raise CommandError("The application did not respond.") from None
        return reply

    def _result(self, reply: InteractionReply) -> dict[str, Any]:
        if reply.type == 9:
            title = reply.data.get("title") or "a form"
            self.add_note(f"The bot opened a form (**{title}**); the sandbox cannot show forms "
                          "yet. Try this one in Discord.")
        message = reply.message
        return {
            "ok": True,
            "callback_type": reply.type,
            "message": self.page_message(message) if message is not None else None,
        }

    async def autocomplete(self, text: str, persona: str | None = None) -> dict[str, Any]:
        """The suggestions Discord would show for the option being typed at the end of
        ``text``: the bot's own autocomplete where it has one, else Discord's client-side
        pickers (choices, true/false, members)."""
        member = self.persona(persona)
        empty: dict[str, Any] = {"choices": [], "option": None}
        try:
            parsed = parse(text, self.commands())
        except CommandError:
            return empty
        if parsed.focused is None:
            return empty
        spec = parsed.spec
        option = spec.option(parsed.focused)
        assert option is not None
        current = parsed.raw.get(option.name, "")
        start, end = parsed.spans[option.name]
        result: dict[str, Any] = {"option": option.name, "command": spec.qualified_name,
                                  "start": start, "end": end, "choices": []}
        if option.autocomplete:
            data = self.fake.command_data(
                spec.name, spec.subpath, {option.name: current},
                command_defs=self.command_definitions(), focused=option.name,
            )
            payload = self.fake.interaction_payload(4, data, member=member)
            reply = await self.fake.inject(payload, "autocomplete", AUTOCOMPLETE_TIMEOUT)
            with contextlib.suppress(AssertionError):
                await reply.wait_callback(AUTOCOMPLETE_TIMEOUT)
                result["choices"] = [
                    {"name": str(c["name"]), "value": str(c["value"])} for c in reply.choices
                ]
            return result
        if option.choices:
            pairs = [(name, str(value)) for name, value in option.choices]
        elif option.type == BOOLEAN:
            pairs = [("True", "true"), ("False", "false")]
        elif option.type in (USER, MENTIONABLE):
            pairs = [(_display_name(m), m.username) for m in self.fake.guild.members if not m.bot]
        else:
            return result
        wanted = current.lower()
        result["choices"] = [
            {"name": name, "value": value} for name, value in pairs
            if name.lower().startswith(wanted) or value.lower().startswith(wanted)
        ][:25]
        return result

    # -- HTTP -------------------------------------------------------------------------
    @web.middleware
    async def _local_only(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        allowed_hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        if request.host not in allowed_hosts:
            return web.Response(status=403, text="The sandbox answers only on " + self.url)
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin is not None and origin not in {f"http://{h}" for h in allowed_hosts}:
                return web.Response(status=403, text="Cross-site requests are refused.")
            if request.content_type != "application/json":
                return web.Response(status=415, text="Send JSON.")
        response = await handler(request)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return await self._static_file("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        return await self._static_file(request.match_info["name"])

    async def _static_file(self, name: str) -> web.StreamResponse:
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        body = await asyncio.to_thread((STATIC_DIR / name).read_bytes)
        return web.Response(body=body, content_type=STATIC_FILES[name], charset="utf-8")

    async def _api_state(self, request: web.Request) -> web.Response:
        guild = self.fake.guild
        members = {str(m.id): _display_name(m) for m in guild.members}
        return _json({
            "guild": guild.name,
            "channel": {"id": guild.text_channel["id"], "name": guild.text_channel["name"]},
            "bot": {"id": str(self.fake.app_id), "name": self.fake.bot_user.username},
            "personas": [
                {"key": key, "name": _display_name(self.persona(key)),
                 "id": str(self.persona(key).id), "moderator": key == "moderator"}
                for key in PERSONAS
            ],
            "members": members,
            "roles": {r["id"]: r["name"] for r in guild.roles},
            "channels": {c["id"]: c["name"] for c in guild.channels},
            "commands": [c.to_json() for c in self.commands()],
            "watch": self.watch,
        })

    async def _api_messages(self, request: web.Request) -> web.Response:
        """Long-poll: answers at once if ``version`` is stale, else on the next change
        (or after ``LONG_POLL_SECONDS`` with the same version)."""
        try:
            seen = int(request.query.get("version", "-1"))
        except ValueError:
            seen = -1
        if seen == self.version and not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._change.wait(), LONG_POLL_SECONDS)
        return _json({"version": self.version, "messages": self.page_messages()})

    async def _api_command(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            result = await self.run_command(_text(body), body.get("as"))
        except CommandError as exc:
            return _json({"ok": False, "error": str(exc)}, status=400)
        return _json(result)

    async def _api_autocomplete(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            return _json(await self.autocomplete(_text(body), body.get("as")))
        except CommandError as exc:
            return _json({"ok": False, "error": str(exc)}, status=400)

    async def _api_click(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            values = body.get("values")
            result = await self.click(
                str(body.get("message_id", "")), str(body.get("custom_id", "")), body.get("as"),
                values if isinstance(values, list) else None,
            )
        except LookupError as exc:
            return _json({"ok": False, "error": str(exc.args[0])}, status=404)
        except CommandError as exc:
            return _json({"ok": False, "error": str(exc)}, status=400)
        return _json(result)


def _display_name(member: FakeMember) -> str:
    return member.nick or member.global_name or member.username


def _shown_path(path: Path) -> str:
    """``data/terms`` when under the working directory (the usual case), else empty:
    a long temporary path in the welcome message helps nobody."""
    with contextlib.suppress(ValueError, OSError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return ""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str):
        raise web.HTTPBadRequest(text="text must be a string")
    return text[:MAX_TEXT]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")
