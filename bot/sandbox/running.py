"""The real bot against a fake Discord: one way to start it, for tests, sandbox and benchmarks.

:func:`bot_against_fake` points discord.py at a stand-in (in this process or another),
refuses every non-loopback request while the bot runs, starts ``bot.start(token)``,
returns once the bot is ready, and on exit closes the bot and puts everything back.

What is patched, and why (no private discord.py attribute is touched here):

* ``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``:
  class attributes, the only way discord.py offers to talk to another server; process-wide,
  so one bot against a fake per process at a time; restored on exit.
* ``aiohttp.ClientSession._request`` (an aiohttp private, by :class:`NetworkGuard`): the one
  method every aiohttp request goes through, including the session discord.py builds itself.

The tests' harness additionally lowers ``bot._connection.guild_ready_timeout`` for bots
built without ``guild_ready_timeout=`` (see ``tests/support/harness.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import discord
import yarl

from bot.sandbox.fake.core import FakeAddress
from bot.sandbox.fake.guard import NetworkGuard, check_loopback_url

READY_POLL_SECONDS = 0.01
CLOSE_TIMEOUT = 10.0
CANCEL_TIMEOUT = 5.0


class BotDidNotStart(RuntimeError):
    """The bot stopped, or was not ready in time, while starting against the stand-in."""


@dataclass
class RunningBot:
    """A bot started by :func:`bot_against_fake`; ``crashed`` is set once it has stopped."""

    bot: discord.Client
    task: asyncio.Task[None]
    guard: NetworkGuard
    crashed: BaseException | None = field(default=None)


_pointed: list[FakeAddress] = []


@contextlib.contextmanager
def discord_pointed_at(address: FakeAddress) -> Iterator[None]:
    """Point discord.py's REST base and gateway URL at ``address``; restore on exit.

    Several bots may share one stand-in (shards in one process), never two stand-ins."""
    if _pointed and _pointed[-1] != address:
        raise RuntimeError("discord.py is already pointed at another stand-in in this process")
    for url in (address.api_url, address.gateway_url):
        check_loopback_url(url)
    gateway = discord.gateway.DiscordWebSocket
    saved = discord.http.Route.BASE, gateway.DEFAULT_GATEWAY
    discord.http.Route.BASE = address.api_url.rstrip("/")
    gateway.DEFAULT_GATEWAY = yarl.URL(address.gateway_url)
    _pointed.append(address)
    try:
        yield
    finally:
        _pointed.pop()
        discord.http.Route.BASE, gateway.DEFAULT_GATEWAY = saved


async def _wait_ready(bot: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.is_ready():
        if task.done():
            error = None if task.cancelled() else task.exception()
            raise BotDidNotStart(f"the bot stopped before it was ready: {error!r}") from error
        if loop.time() > deadline:
            raise BotDidNotStart(f"the bot was not ready within {timeout:.0f} s")
        await asyncio.sleep(READY_POLL_SECONDS)


@contextlib.asynccontextmanager
async def bot_against_fake(
    bot: discord.Client,
    address: FakeAddress,
    *,
    token: str,
    ready_timeout: float = 30.0,
) -> AsyncIterator[RunningBot]:
    """Run ``bot`` against the stand-in at ``address`` until the block ends.

    Raises :class:`BotDidNotStart` if the bot stops or is not ready within
    ``ready_timeout``. On exit (each step bounded): ``bot.close()``, the task is cancelled
    if still running, its exception (if any) is kept in ``RunningBot.crashed``, and
    discord.py's URLs and aiohttp are restored.
    """
    with NetworkGuard() as guard, discord_pointed_at(address):
        task = asyncio.create_task(bot.start(token), name=f"{type(bot).__name__}-against-fake")
        running = RunningBot(bot, task, guard)
        try:
            await _wait_ready(bot, task, ready_timeout)
            yield running
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.close(), CLOSE_TIMEOUT)
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), CANCEL_TIMEOUT)
            if task.done() and not task.cancelled():
                running.crashed = task.exception()
