"""FakeDiscord: the stand-in's state, lifecycle and waiting, assembled from its parts."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.fake.appcommands import CommandMixin
from bot.sandbox.fake.cdn import CDN_PREFIX, CdnMixin
from bot.sandbox.fake.clock import Clock, Snowflakes
from bot.sandbox.fake.constants import API_PREFIX, IDENTIFY_WINDOW_S, LOOPBACK_HOST
from bot.sandbox.fake.gateway import GatewayMixin, GatewaySession
from bot.sandbox.fake.messages import MessageMixin, Pings
from bot.sandbox.fake.payloads import PayloadMixin
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.resources import ResourceMixin
from bot.sandbox.fake.rest import RestMixin
from bot.sandbox.fake.webhooks import WebhookMixin
from bot.sandbox.fake.world import FakeGuild, FakeMember, WorldMixin


class WaitTimeout(TimeoutError):
    """What a bounded wait on the stand-in was waiting for did not happen in time."""


class NotStarted(RuntimeError):
    """The stand-in has no address before ``start()``."""


@dataclass(frozen=True)
class FakeAddress:
    """Where a stand-in listens: what discord.py is pointed at (also from another process)."""

    api_url: str
    gateway_url: str


class FakeDiscord(
    WorldMixin,
    GatewayMixin,
    PayloadMixin,
    MessageMixin,
    RestMixin,
    CommandMixin,
    ResourceMixin,
    WebhookMixin,
    CdnMixin,
):
    """The stand-in Discord. Start with ``await fake.start()`` / ``async with fake``.

    State a caller may inspect:

    * ``messages`` - every message the bot created, by id; ``channel_messages`` by channel.
    * ``interactions`` - every injected interaction's :class:`InteractionReply`, by id.
    * ``sessions`` - gateway sessions; ``identify_count`` / ``resume_count``.
    * ``commands`` - synced commands: ``commands[None]`` global, ``commands[guild_id]``.
    * ``uploads`` - files members attached to commands (``cdn.FakeUpload``), by id.
    * ``clock`` - the stand-in's time (ids and timestamps follow it); ``clock.advance(s)``.
    """

    def __init__(
        self,
        *,
        shard_count: int = 1,
        guild_count: int = 1,
        expected_token: str | None = None,
        heartbeat_interval_ms: int = 41250,
        clock: Clock | None = None,
        max_concurrency: int = 1,
        enforce_identify_limit: bool = False,
        identify_window_s: float = IDENTIFY_WINDOW_S,
    ) -> None:
        self.shard_count = shard_count
        # What /gateway/bot reports, and (with enforce_identify_limit) what IDENTIFY obeys:
        # Discord answers an IDENTIFY too soon after another in its bucket with op 9.
        self.max_concurrency = max_concurrency
        self.enforce_identify_limit = enforce_identify_limit
        # Discord's 5 s; tests of coordinated start-ups may shorten it (bot and fake alike).
        self.identify_window_s = identify_window_s
        self.expected_token = expected_token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.clock = clock or Clock()
        self._snowflakes = Snowflakes(self.clock)

        self.app_id = self.snowflake()
        self.bot_user = FakeMember(id=self.app_id, username="GlossaryBot", guild_id=0, bot=True)

        self.messages: dict[int, dict[str, Any]] = {}
        self.channel_messages: defaultdict[int, list[int]] = defaultdict(list)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._creates: dict[int | None, list[float]] = {}
        self.interactions: dict[int, InteractionReply] = {}
        self._by_token: dict[str, InteractionReply] = {}
        self.modals: dict[str, dict[str, Any]] = {}
        self.uploads = {}  # attachment id -> what the CDN serves (bot.sandbox.fake.cdn)
        self._cdn_secret = secrets.token_bytes(16)
        self.dm_channels: dict[int, dict[str, Any]] = {}  # by channel id
        self.pings: dict[int, Pings] = {}  # by message id: who a new message notified
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.identify_times: list[tuple[float, int]] = []  # (loop time, shard id) per IDENTIFY
        self.identifies_refused = 0
        self.resume_count = 0
        self.dispatch_message_events = True
        # Discord fails an interaction not acknowledged within 3 s ("Unknown interaction").
        self.ack_deadline: float | None = 3.0
        self.late_callbacks: list[str] = []
        self._changed = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self.guilds: list[FakeGuild] = []
        self._guild_index: dict[int, FakeGuild] = {}
        self._channel_guild: dict[int, FakeGuild] = {}
        for _ in range(guild_count):
            self.add_guild()

    def forget_history(self) -> None:
        """Drop the records of past interactions and messages.

        Callers inspect them, so they are kept; a long-running sandbox or a benchmark of
        tens of thousands of interactions would otherwise hold hundreds of MB of them.
        """
        self.interactions.clear()
        self._by_token.clear()
        self.messages.clear()
        self.pings.clear()
        self.channel_messages.clear()

    # -- ids and time ------------------------------------------------------------------
    def snowflake(self) -> int:
        """A fresh id whose timestamp is the clock's now (ids only increase)."""
        return self._snowflakes.next()

    def _new_guild_id(self) -> int:
        """Default guilds are spread over the shards: guild i lands on shard i % count
        (Discord's rule: ``(guild_id >> 22) % shard_count``). Made before the clock's now,
        as a server is older than the bot's session (see ``Snowflakes.earlier_where``)."""
        target = len(self.guilds) % self.shard_count
        return self._snowflakes.earlier_where(lambda g: (g >> 22) % self.shard_count == target)

    def now_iso(self) -> str:
        return self.clock.iso()

    # -- addresses, lifecycle ----------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise NotStarted("FakeDiscord is not started")
        return f"http://{LOOPBACK_HOST}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """Value for ``discord.http.Route.BASE`` (config key ``discord_api_url``)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (config key ``discord_gateway_url``)."""
        if self.port is None:
            raise NotStarted("FakeDiscord is not started")
        return f"ws://{LOOPBACK_HOST}:{self.port}/"

    @property
    def address(self) -> FakeAddress:
        return FakeAddress(self.api_base_url, self.gateway_url)

    async def start(self, port: int = 0) -> FakeDiscord:
        """Listen on 127.0.0.1 (never another address); port 0 picks a free one."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self._gateway)
        for prefix in (CDN_PREFIX, CDN_PREFIX + "-proxy"):  # url and proxy_url
            app.router.add_get(prefix + "/{owner}/{aid}/{name}", self._cdn_download)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_route("*", "/{tail:.*}", self._rest_outside_api)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK_HOST, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001), 1.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- change notification -----------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait (bounded) until ``predicate()`` is truthy; :class:`WaitTimeout` naming ``what``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(
                    f"timed out after {timeout}s waiting for {what}" + self._diagnostics()
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _diagnostics(self) -> str:
        """Appended to timeout messages (the tests' stand-in says much more)."""
        if self.late_callbacks:
            return f"\n  acknowledged too late (> {self.ack_deadline}s): {self.late_callbacks}"
        return ""
