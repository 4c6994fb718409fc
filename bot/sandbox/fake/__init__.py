"""A small stand-in for Discord (REST + gateway) that the *real* discord.py stack talks to.

Why it exists: the bot's behaviour lives in discord.py's command tree, view store,
interaction parsing and HTTP client. Mocking discord.py objects would test our
assumptions about discord.py, not the bot. Instead :class:`FakeDiscord` is an aiohttp
server on ``127.0.0.1`` (random free port) that speaks enough of Discord's API for a bot
to log in, connect to the gateway, receive injected interactions and answer them, and
that refuses what Discord refuses (limits, permissions, expired tokens), answering with
Discord's status codes and error bodies.

It ships in the package because ``glossary-bot sandbox`` runs the real bot against it for
people without a Discord account. What only tests need (fault injection, request
recorders, OpenAPI validation, click/modal helpers) lives in ``tests/support/``.
:func:`bot.sandbox.running.bot_against_fake` starts a bot against it; a bot in *another
process* is pointed at ``fake.address`` (config keys ``discord_api_url`` and
``discord_gateway_url``) and the interactions are injected through this object.

One module per part: ``constants`` (Discord's numbers), ``clock`` (time and snowflakes),
``world`` (guilds, members, permissions), ``gateway`` (the websocket), ``payloads``
(interactions as Discord sends them), ``replies`` (what the bot answered), ``messages``
(stored messages), ``cdn`` (files attached to commands), ``rest`` (routing and errors),
``resources`` and ``webhooks`` (the REST handlers), ``limits`` (what Discord refuses),
``guard`` (no network), ``core`` (assembly).

Run standalone (prints the URLs, serves until interrupted)::

    python -m bot.sandbox.fake --port 0
"""

from bot.sandbox.fake.cdn import FakeUpload
from bot.sandbox.fake.clock import Clock, snowflake_time
from bot.sandbox.fake.constants import (
    ADMINISTRATOR,
    API_PREFIX,
    DEFAULT_TIMEOUT,
    EMBED_LINKS,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    LOADING,
    LOOPBACK_HOST,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from bot.sandbox.fake.core import FakeAddress, FakeDiscord, NotStarted, WaitTimeout
from bot.sandbox.fake.gateway import GatewaySession
from bot.sandbox.fake.guard import NetworkGuard, NetworkGuardError
from bot.sandbox.fake.payloads import UnknownCommand
from bot.sandbox.fake.replies import InteractionReply, NotAnswered, iter_components
from bot.sandbox.fake.rest import RecordedRequest
from bot.sandbox.fake.world import FakeGuild, FakeMember, channel_permissions

__all__ = [
    "ADMINISTRATOR",
    "API_PREFIX",
    "DEFAULT_TIMEOUT",
    "EMBED_LINKS",
    "EPHEMERAL",
    "EVERYONE_PERMISSIONS",
    "LOADING",
    "LOOPBACK_HOST",
    "MANAGE_GUILD",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "Clock",
    "FakeAddress",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeUpload",
    "GatewaySession",
    "InteractionReply",
    "NetworkGuard",
    "NetworkGuardError",
    "NotAnswered",
    "NotStarted",
    "RecordedRequest",
    "UnknownCommand",
    "WaitTimeout",
    "channel_permissions",
    "iter_components",
    "snowflake_time",
]
