"""A small fake Discord (REST + gateway) that the *real* discord.py stack talks to.

Why this exists: the bot's behaviour lives in discord.py's command tree, view store,
interaction parsing and HTTP client. Mocking discord.py objects would test our
assumptions about discord.py, not the bot. Instead :class:`FakeDiscord` is an aiohttp
server on ``127.0.0.1`` (random free port) that speaks just enough of Discord's API for
a bot to log in, connect to the gateway, receive injected interactions and answer them.
Everything the bot sends is recorded and, when ``jsonschema`` is installed and Discord's
own OpenAPI description is present (``../shared/discord-api/openapi.json`` next to the
repository), every JSON body is validated against it.

It lives in the package, not only under ``tests/``, because ``glossary-bot sandbox`` runs
the real bot against it for people without a Discord account; the tests import it through
``tests.support.fake_discord`` so both stay on the same code. ``jsonschema`` is only a test
dependency, so validation is optional and imported lazily.

Pointing discord.py at the fake (done for you by :func:`tests.support.harness.running_bot`,
and by :func:`bot.client.point_discord_at` in the sandbox)::

    discord.http.Route.BASE = fake.api_base_url            # http://127.0.0.1:PORT/api/v10
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

A bot in *another process* can use the same two URLs (config keys ``discord_api_url`` and
``discord_gateway_url``); the test then injects interactions through this object, because
the injection API (:meth:`FakeDiscord.slash`, :meth:`FakeDiscord.click`, ...) works on the
gateway sessions connected to the fake, not on a bot object.

Run standalone (prints the URLs, serves until interrupted)::

    python -m bot.sandbox.fake_discord --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import functools
import itertools
import json
import os
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

__all__ = [
    "ADMINISTRATOR",
    "EPHEMERAL",
    "LOADING",
    "MANAGE_GUILD",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "GatewaySession",
    "InteractionReply",
    "NetworkGuard",
    "NetworkGuardError",
    "RecordedRequest",
    "SchemaValidator",
    "get_schema_validator",
    "iter_components",
]

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000
LOOPBACK_HOST = "127.0.0.1"

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
)

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Gateway intents we care about.
INTENT_GUILD_MESSAGES = 1 << 9

DEFAULT_TIMEOUT = 5.0

_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_PATH = _REPO_ROOT.parent / "shared" / "discord-api" / "openapi.json"


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


# --------------------------------------------------------------------------------------
# Network guard
# --------------------------------------------------------------------------------------


class NetworkGuardError(RuntimeError):
    """Raised when code under test tries to reach a host that is not loopback.

    A RuntimeError (not OSError/aiohttp.ClientError) on purpose: discord.py's reconnect
    loop swallows and retries network errors, but lets this one propagate so a
    misconfigured bot fails fast instead of hammering the real Discord.
    """


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class NetworkGuard:
    """Refuse every aiohttp client request whose host (or proxy) is not loopback.

    Implemented by wrapping ``aiohttp.ClientSession._request`` (which ``request``,
    ``get``, ``ws_connect``... all go through), because discord.py creates its own
    session and connector internally. The check runs before any DNS lookup or
    connection attempt. Blocked URLs are also recorded in :attr:`blocked`, since the
    bot may catch the exception and carry on; the harness fails the test on exit if
    anything was blocked. Guards nest; the original method is restored when the last
    active guard exits.
    """

    _active: list[NetworkGuard] = []
    _original: Any = None

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __enter__(self) -> NetworkGuard:
        cls = type(self)
        if not cls._active:
            cls._original = aiohttp.ClientSession._request
            original = cls._original

            @functools.wraps(original)
            async def guarded(
                session: aiohttp.ClientSession,
                method: str,
                str_or_url: Any,
                *args: Any,
                **kwargs: Any,
            ) -> Any:
                _check_loopback(session, method, str_or_url, kwargs.get("proxy"))
                return await original(session, method, str_or_url, *args, **kwargs)

            aiohttp.ClientSession._request = guarded  # type: ignore[method-assign]
        cls._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        cls = type(self)
        with contextlib.suppress(ValueError):
            cls._active.remove(self)
        if not cls._active and cls._original is not None:
            aiohttp.ClientSession._request = cls._original  # type: ignore[method-assign]
            cls._original = None


def _check_loopback(
    session: aiohttp.ClientSession, method: str, str_or_url: Any, proxy: Any
) -> None:
    from yarl import URL

    url = URL(str(str_or_url))
    base = getattr(session, "_base_url", None)
    if not url.is_absolute() and base is not None:
        url = base.join(url)
    hosts = [url.host]
    if proxy is not None:
        hosts.append(URL(str(proxy)).host)
    for host in hosts:
        if host not in _LOOPBACK_HOSTS:
            message = f"blocked non-loopback request: {method} {url} (host {host!r})"
            for guard in NetworkGuard._active:
                guard.blocked.append(message)
            raise NetworkGuardError(message)


# --------------------------------------------------------------------------------------
# OpenAPI validation
# --------------------------------------------------------------------------------------


class SchemaValidator:
    """Validates request bodies against Discord's OpenAPI 3.1 description.

    One instance per spec file is shared by all tests (see :func:`get_schema_validator`):
    loading the 1 MB spec and compiling validators is the expensive part, so both happen
    lazily and are cached. ``build_seconds`` records the time spent so the self-test can
    report it.
    """

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path
        self.skipped_reason: str | None = None
        self._spec: dict[str, Any] | None = None
        self._routes: list[tuple[re.Pattern[str], str]] = []
        self._validators: dict[tuple[str, str], Any] = {}
        self.build_seconds = 0.0
        self.load_seconds = 0.0
        self.validate_seconds = 0.0
        self.validated = 0
        try:
            import jsonschema  # noqa: F401
        except ImportError:  # jsonschema is a test dependency only
            self.skipped_reason = "jsonschema is not installed; OpenAPI validation skipped"
            return
        if not spec_path.is_file():
            self.skipped_reason = f"OpenAPI spec not found at {spec_path}; validation skipped"

    @property
    def enabled(self) -> bool:
        return self.skipped_reason is None

    def _load(self) -> dict[str, Any]:
        if self._spec is None:
            started = time.perf_counter()
            spec = json.loads(self.spec_path.read_text(encoding="utf-8"))
            schemas = spec.get("components", {}).get("schemas", {})
            if "SnowflakeType" in schemas:
                # The spec types snowflakes as strings, but Discord accepts integers in
                # request bodies too, and discord.py relies on that (attachment ids are
                # sent as ints). Accept both, as the real API does.
                schemas["SnowflakeType"] = {
                    "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
                }
            routes: list[tuple[re.Pattern[str], str, int]] = []
            for template in spec.get("paths", {}):
                pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
                literal = len(re.sub(r"\{[^/]+?\}", "", template))
                routes.append((re.compile(pattern), template, literal))
            # Most literal characters first, so ".../messages/@original" beats ".../{message_id}".
            routes.sort(key=lambda item: -item[2])
            self._routes = [(rx, template) for rx, template, _ in routes]
            self._spec = spec
            self.load_seconds = time.perf_counter() - started
        return self._spec

    def template_for(self, path: str) -> str | None:
        """The spec path template matching a concrete API path (without ``/api/v10``)."""
        self._load()
        for rx, template in self._routes:
            if rx.fullmatch(path):
                return template
        return None

    def _validator(self, template: str, method: str) -> Any:
        key = (template, method)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            started = time.perf_counter()
            spec = self._load()
            operation = spec["paths"][template].get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            validator = None
            if schema is not None:
                validator = Draft202012Validator({**schema, "components": spec["components"]})
            self._validators[key] = validator
            self.build_seconds += time.perf_counter() - started
        return self._validators[key]

    def validate(self, method: str, path: str, body: Any) -> list[tuple[list[str | int], str]]:
        """Return ``[(json_path, message), ...]`` (empty when valid or unchecked)."""
        if not self.enabled:
            return []
        template = self.template_for(path)
        if template is None:
            return []
        validator = self._validator(template, method)
        if validator is None:
            return []
        started = time.perf_counter()
        problems: list[tuple[list[str | int], str]] = []
        for error in validator.iter_errors(body):
            for leaf in _leaf_errors(error):
                problems.append((list(leaf.absolute_path), _describe(leaf)))
        self.validate_seconds += time.perf_counter() - started
        self.validated += 1
        return problems


def get_schema_validator(spec_path: Path | None = None) -> SchemaValidator:
    """The process-wide validator for ``spec_path`` (default: the shared Discord spec).

    ``DISCORD_OPENAPI_SPEC`` overrides the default location.
    """
    if spec_path is None:
        spec_path = Path(os.environ.get("DISCORD_OPENAPI_SPEC", DEFAULT_SPEC_PATH))
    return _validator_for(Path(spec_path).resolve())


@functools.cache
def _validator_for(spec_path: Path) -> SchemaValidator:
    return SchemaValidator(spec_path)


def _is_branch_mismatch(error: Any) -> bool:
    """True when a union branch failed only because it is a different kind of object.

    Discord's unions discriminate on ``type`` (``{"type": 4}`` vs ``{"type": 7}``) or on
    null-vs-object; reporting "4 is not one of [8]" for every other branch would bury
    the real problem.
    """
    rel = list(error.relative_path)
    if error.validator in ("enum", "const") and rel == ["type"]:
        return True
    return error.validator == "type" and not rel


def _leaf_errors(error: Any) -> list[Any]:
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    plausible = [errs for errs in branches.values() if not any(map(_is_branch_mismatch, errs))]
    if not plausible:
        return [error]
    chosen = min(plausible, key=len)
    leaves: list[Any] = []
    for sub in chosen:
        leaves.extend(_leaf_errors(sub))
    return leaves


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "<body>"
    if error.validator == "maxLength":
        what = f"must be {error.validator_value} or fewer in length (got {len(error.instance)})"
    elif error.validator == "minLength":
        what = f"must be {error.validator_value} or more in length (got {len(error.instance)})"
    elif error.validator == "maxItems":
        what = f"must have {error.validator_value} or fewer items (got {len(error.instance)})"
    else:
        what = error.message
        if len(what) > 240:
            what = what[:240] + "..."
    return f"{where}: {what}"


def _discord_error_tree(problems: list[tuple[list[str | int], str]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, message in problems:
        node = tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": "SCHEMA_VALIDATION", "message": message})
    return tree


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


@dataclass
class FakeMember:
    """A guild member as the fake presents it in interactions and GUILD_CREATE."""

    id: int
    username: str
    guild_id: int
    roles: list[int] = field(default_factory=list)
    permissions: int = EVERYONE_PERMISSIONS
    global_name: str | None = None
    nick: str | None = None
    bot: bool = False
    joined_at: str = field(default_factory=_now_iso)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def user_payload(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            user["bot"] = True
        return user

    def member_payload(self, *, with_permissions: bool = True) -> dict[str, Any]:
        member: dict[str, Any] = {
            "user": self.user_payload(),
            "nick": self.nick,
            "avatar": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            member["permissions"] = str(self.permissions)
        return member


@dataclass
class FakeGuild:
    """A guild: roles, channels and members the fake announces in GUILD_CREATE."""

    id: int
    name: str
    owner_id: int
    roles: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)

    @property
    def text_channel(self) -> dict[str, Any]:
        """The first text channel (the default place interactions come from)."""
        return next(c for c in self.channels if c["type"] == 0)

    def role(self, name_or_id: str | int) -> dict[str, Any]:
        for role in self.roles:
            if role["name"] == name_or_id or role["id"] == str(name_or_id):
                return role
        raise KeyError(f"no role {name_or_id!r} in guild {self.name}")

    def get_member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.id == user_id), None)

    def channel(self, channel_id: int) -> dict[str, Any] | None:
        return next((c for c in self.channels if c["id"] == str(channel_id)), None)

    def base_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": self.roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def create_payload(self) -> dict[str, Any]:
        payload = self.base_payload()
        payload.update(
            {
                "unavailable": False,
                "joined_at": _now_iso(),
                "large": False,
                "member_count": len(self.members),
                "members": [m.member_payload(with_permissions=False) for m in self.members],
                "channels": self.channels,
                "threads": [],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return payload


@dataclass
class RecordedRequest:
    """One HTTP request the bot made (``path`` excludes the ``/api/v10`` prefix)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    content_type: str = ""

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status}>"


@dataclass
class _Fault:
    method: str
    path_regex: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


def iter_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Walk a component tree (action rows, containers, sections, labels) depth first."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from iter_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from iter_components([component["accessory"]])


class InteractionReply:
    """What the bot did with one injected interaction.

    Created when the interaction is injected; filled in live as the bot answers, so a
    test can await follow-ups after the initial callback. ``content``/``embeds``/
    ``components``/``flags`` describe the *current* state of the response message
    (after deferrals, edits and a deferral-completing follow-up) when there is one, and
    the callback data otherwise (modal, autocomplete, deferred component update).
    """

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any], description: str) -> None:
        self.fake = fake
        self.payload = payload
        self.description = description
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.interaction_type: int = payload["type"]
        self.callback: dict[str, Any] | None = None
        self.original_message_id: int | None = None
        self.followups: list[dict[str, Any]] = []
        self.followup_message_ids: list[int] = []
        self.edits: list[dict[str, Any]] = []
        self.original_deleted = False
        self.injected_at: float | None = None
        if payload.get("message"):
            # A component interaction's "original" message is the one the component is on.
            self.original_message_id = int(payload["message"]["id"])

    def __repr__(self) -> str:
        return f"<InteractionReply {self.description} type={self.callback_type}>"

    # -- raw state ---------------------------------------------------------------------
    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def type(self) -> int:
        """Callback type: 4 message, 5 deferred, 6 deferred update, 7 update, 8 choices, 9 modal."""
        assert self.callback is not None, f"{self.description}: the bot has not responded yet"
        return int(self.callback["type"])

    @property
    def data(self) -> dict[str, Any]:
        """The ``data`` dict of the interaction callback ({} when absent)."""
        assert self.callback is not None, f"{self.description}: the bot has not responded yet"
        return self.callback.get("data") or {}

    @property
    def message(self) -> dict[str, Any] | None:
        """The response message as the fake stores it now (None if there is none)."""
        if self.original_message_id is None or self.original_deleted:
            return None
        return self.fake.messages.get(self.original_message_id)

    @property
    def followup_messages(self) -> list[dict[str, Any]]:
        return [self.fake.messages[i] for i in self.followup_message_ids if i in self.fake.messages]

    def _view(self) -> dict[str, Any]:
        message = self.message
        if message is not None and self.callback_type not in (6, 8, 9, None):
            return message
        if message is not None and self.edits:
            return message
        return self.data

    @property
    def content(self) -> str | None:
        return self._view().get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self._view().get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self._view().get("components") or [])

    @property
    def flags(self) -> int:
        return int(self._view().get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred ("thinking") response has not been completed."""
        message = self.message
        return bool(message and int(message.get("flags") or 0) & LOADING)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        for body in [*reversed(self.edits), self.data]:
            if "allowed_mentions" in body:
                return body["allowed_mentions"]
        return None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        assert self.type == 8, (
            f"{self.description}: expected autocomplete result, got type {self.type}"
        )
        return list(self.data.get("choices") or [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All buttons (type 2) in the current response, in order."""
        return [c for c in iter_components(self.components) if c.get("type") == 2]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    # -- waiting -----------------------------------------------------------------------
    async def wait_callback(self, timeout: float = DEFAULT_TIMEOUT) -> InteractionReply:
        await self.fake.wait_until(
            lambda: self.callback is not None, timeout, f"the bot's response to {self.description}"
        )
        return self

    async def wait_followup(self, n: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until at least ``n`` follow-ups were sent; return the n-th body."""
        await self.fake.wait_until(
            lambda: len(self.followups) >= n, timeout, f"follow-up #{n} to {self.description}"
        )
        return self.followups[n - 1]

    async def wait_edit(self, n: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until at least ``n`` edits of the original response; return the n-th body."""
        await self.fake.wait_until(
            lambda: len(self.edits) >= n,
            timeout,
            f"edit #{n} of the response to {self.description}",
        )
        return self.edits[n - 1]


@dataclass
class GatewaySession:
    """One identified gateway session (survives RESUMEs across sockets)."""

    session_id: str
    shard: tuple[int, int] | None
    intents: int
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    transport: Any = None
    invalid: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)
    presence_updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed and not self.invalid

    def handles_guild(self, guild_id: int) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


def _json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type`` *exactly* ``application/json``.

    discord.py only decodes a body when the header equals that string, and aiohttp's
    ``json_response`` appends ``; charset=utf-8``.
    """
    response = web.Response(body=json.dumps(data).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def _error(status: int, message: str, code: int = 0, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json_response(body, status)


Handler = Callable[..., Any]


class FakeDiscord:
    """The fake Discord server. Start with ``await fake.start()`` / ``async with fake``.

    State a test may inspect:

    * ``requests`` - every REST request (:class:`RecordedRequest`), in order.
    * ``unknown_routes`` - ``(method, path)`` of requests no handler served (answered 404).
    * ``schema_violations`` - ``(method, path, message)`` of bodies that failed OpenAPI
      validation (answered 400 like Discord would).
    * ``messages`` - every message the bot created, by id; ``channel_messages`` by channel.
    * ``sessions`` - gateway sessions; ``identify_count`` / ``resume_count``.
    * ``commands`` - synced commands: ``commands[None]`` global, ``commands[guild_id]``.
    """

    def __init__(
        self,
        *,
        shard_count: int = 1,
        guild_count: int = 1,
        expected_token: str | None = None,
        validate_schema: bool = True,
        spec_path: Path | None = None,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        self.shard_count = shard_count
        self.expected_token = expected_token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._ids = itertools.count(1)
        self._id_base_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS - 10_000_000

        self.schema: SchemaValidator | None = (
            get_schema_validator(spec_path) if validate_schema else None
        )

        self.app_id = self.snowflake()
        self.bot_user = FakeMember(id=self.app_id, username="GlossaryBot", guild_id=0, bot=True)

        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.schema_violations: list[tuple[str, str, str]] = []
        self.gateway_log: list[dict[str, Any]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.channel_messages: dict[int, list[int]] = defaultdict(list)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self.interactions: dict[int, InteractionReply] = {}
        self._by_token: dict[str, InteractionReply] = {}
        self.modals: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.resume_count = 0
        self.dispatch_message_events = True
        # Discord fails an interaction not acknowledged within 3 s ("Unknown interaction").
        self.ack_deadline: float | None = 3.0
        self.late_callbacks: list[str] = []
        # Filled by the harness with ERROR records from discord.py's loggers (diagnostics).
        self.logged_errors: list[str] = []
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self.guilds: list[FakeGuild] = []
        for _ in range(guild_count):
            self.add_guild()

    def forget_history(self) -> None:
        """Drop the records of past requests, interactions and messages.

        Tests inspect them, so they are kept; a long-running sandbox or a benchmark of tens
        of thousands of interactions would otherwise hold hundreds of MB of them.
        """
        self.requests.clear()
        self.interactions.clear()
        self._by_token.clear()
        self.messages.clear()
        self.channel_messages.clear()

    # -- ids, lifecycle ----------------------------------------------------------------
    def snowflake(self) -> int:
        """A fresh snowflake; consecutive ids have consecutive timestamps (and shards)."""
        n = next(self._ids)
        return ((self._id_base_ms + n) << 22) | (n & 0xFFF)

    @property
    def schema_check_skipped_reason(self) -> str | None:
        if self.schema is None:
            return "schema validation disabled for this FakeDiscord"
        return self.schema.skipped_reason

    @property
    def base_url(self) -> str:
        assert self.port is not None, "FakeDiscord is not started"
        return f"http://{LOOPBACK_HOST}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """Value for ``discord.http.Route.BASE`` (config key ``api_base_url``)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (config key ``gateway_url``)."""
        assert self.port is not None, "FakeDiscord is not started"
        return f"ws://{LOOPBACK_HOST}:{self.port}/"

    async def start(self, port: int = 0) -> FakeDiscord:
        """Listen on 127.0.0.1 (never another address); port 0 picks a free one."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_route("*", "/{tail:.*}", self._rest_outside_api)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK_HOST, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
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
        """Wait (bounded) until ``predicate()`` is truthy; AssertionError naming ``what``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            event = self._changed
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}" + self._diagnostics()
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _diagnostics(self) -> str:
        lines = []
        if self.schema_violations:
            lines.append(f"schema violations: {self.schema_violations[-3:]}")
        if self.unknown_routes:
            lines.append(f"unknown routes: {self.unknown_routes[-3:]}")
        if self.late_callbacks:
            lines.append(f"acknowledged too late (> {self.ack_deadline}s): {self.late_callbacks}")
        recent = [f"{r.method} {r.path} -> {r.status}" for r in self.requests[-5:]]
        lines.append(f"last requests: {recent}")
        for error in self.logged_errors[-2:]:
            lines.append("bot logged: " + error)
        return "\n  " + "\n  ".join(lines)

    # -- guilds and members ------------------------------------------------------------
    def add_guild(self, name: str | None = None, guild_id: int | None = None) -> FakeGuild:
        """Add a guild with @everyone, Students, Moderators (MANAGE_GUILD) and bot roles,
        a #general text channel, and members: the bot, an owner, ``student`` and
        ``moderator``. Add guilds before the bot connects (they arrive in GUILD_CREATE)."""
        gid = guild_id
        if gid is None:
            # Spread default guilds over the shards: guild i lands on shard i % count.
            target = len(self.guilds) % self.shard_count
            gid = self.snowflake()
            while (gid >> 22) % self.shard_count != target:
                gid = self.snowflake()
        guild = FakeGuild(id=gid, name=name or f"Test Guild {gid % 1000}", owner_id=0)

        def role(rid: int, rname: str, perms: int, position: int, **extra: Any) -> dict[str, Any]:
            return {
                "id": str(rid),
                "name": rname,
                "color": 0,
                "colors": {"primary_color": 0},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": position,
                "permissions": str(perms),
                "managed": False,
                "mentionable": False,
                "flags": 0,
                **extra,
            }

        guild.roles = [
            role(gid, "@everyone", EVERYONE_PERMISSIONS, 0),
            role(self.snowflake(), "Students", 0, 1),
            role(self.snowflake(), "Moderators", MANAGE_GUILD, 2),
            role(
                self.snowflake(),
                "GlossaryBot",
                EVERYONE_PERMISSIONS,
                3,
                managed=True,
                tags={"bot_id": str(self.app_id)},
            ),
        ]
        guild.channels = [
            {
                "id": str(self.snowflake()),
                "type": 0,
                "guild_id": str(gid),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "topic": None,
                "nsfw": False,
                "parent_id": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            },
        ]
        bot_member = FakeMember(
            id=self.app_id,
            username=self.bot_user.username,
            guild_id=gid,
            bot=True,
            roles=[int(guild.roles[3]["id"])],
        )
        guild.members.append(bot_member)
        owner = self._new_member(guild, "owner", [], ADMINISTRATOR | EVERYONE_PERMISSIONS)
        guild.owner_id = owner.id
        self._new_member(guild, "student", ["Students"], None)
        self._new_member(guild, "moderator", ["Moderators"], None)
        self.guilds.append(guild)
        return guild

    def _new_member(
        self,
        guild: FakeGuild,
        username: str,
        roles: list[str | int],
        permissions: int | None,
        member_id: int | None = None,
    ) -> FakeMember:
        role_ids = [int(guild.role(r)["id"]) for r in roles]
        if permissions is None:
            permissions = int(guild.role(guild.id)["permissions"])
            for rid in role_ids:
                permissions |= int(guild.role(rid)["permissions"])
        member = FakeMember(
            id=member_id or self.snowflake(),
            username=username,
            guild_id=guild.id,
            roles=role_ids,
            permissions=permissions,
            global_name=username.title(),
        )
        guild.members.append(member)
        return member

    def add_member(
        self,
        guild: FakeGuild | None = None,
        *,
        username: str | None = None,
        roles: Iterable[str | int] = (),
        permissions: int | None = None,
        member_id: int | None = None,
    ) -> FakeMember:
        """Add a member; ``roles`` by name or id; ``permissions`` default: from roles."""
        guild = guild or self.guild
        return self._new_member(
            guild, username or f"user{len(guild.members)}", list(roles), permissions, member_id
        )

    def add_role(
        self, name: str, permissions: int = 0, guild: FakeGuild | None = None
    ) -> dict[str, Any]:
        """Add a role (before the bot connects, or it will not know about it)."""
        guild = guild or self.guild
        role = dict(guild.roles[1])
        role.update(
            {
                "id": str(self.snowflake()),
                "name": name,
                "permissions": str(permissions),
                "position": len(guild.roles),
            }
        )
        guild.roles.append(role)
        return role

    @property
    def guild(self) -> FakeGuild:
        return self.guilds[0]

    @property
    def student(self) -> FakeMember:
        return self._member_named(self.guild, "student")

    @property
    def moderator(self) -> FakeMember:
        return self._member_named(self.guild, "moderator")

    @staticmethod
    def _member_named(guild: FakeGuild, username: str) -> FakeMember:
        return next(m for m in guild.members if m.username == username)

    def _find_guild(self, guild_id: int) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def _find_channel(self, channel_id: int) -> tuple[FakeGuild | None, dict[str, Any] | None]:
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None, None

    # -- faults ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 429,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests matching with an error instead of serving them.

        ``path_regex`` is ``re.fullmatch``-ed against the path without ``/api/v10``.
        429 defaults to a 50 ms per-route rate limit with the headers discord.py reads
        (it only honours a 429 that carries ``Via``, else it assumes a Cloudflare ban).
        discord.py retries 429 after ``retry_after`` and 500/502/504 after 1 s, 3 s, ...
        """
        if body is None:
            if status == 429:
                body = {
                    "retry_after": 0.05,
                    "global": False,
                    "message": "You are being rate limited.",
                }
            else:
                body = {"message": f"{status}: Fake failure", "code": 0}
        default_headers: dict[str, str] = {}
        if status == 429:
            retry = str(body.get("retry_after", 0.05)) if isinstance(body, dict) else "0.05"
            default_headers = {
                "Via": "1.1 google",
                "Retry-After": retry,
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": retry,
                "X-RateLimit-Reset": f"{time.time() + float(retry):.3f}",
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
            }
            if isinstance(body, dict) and body.get("global"):
                default_headers["X-RateLimit-Global"] = "true"
        self._faults.append(
            _Fault(
                method.upper(),
                re.compile(path_regex),
                status,
                body,
                {**default_headers, **(headers or {})},
                times,
            )
        )

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method == method and fault.path_regex.fullmatch(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- request log -------------------------------------------------------------------
    def find_requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RecordedRequest]:
        rx = re.compile(path_regex) if path_regex else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (rx is None or rx.fullmatch(r.path))
        ]

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        count: int = 1,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        """Wait until ``count`` matching requests were *answered*; return the count-th.

        Looks at the whole log, so a request made before the call counts. ``path_regex``
        is ``re.fullmatch``-ed against the path without ``/api/v10``.
        """

        def matching() -> list[RecordedRequest]:
            return [
                r
                for r in self.find_requests(method, path_regex)
                if r.status and (predicate is None or predicate(r))
            ]

        found = await self.wait_until(
            lambda: len(matching()) >= count, timeout, f"request #{count} {method} {path_regex}"
        )
        assert found
        return matching()[count - 1]

    # -- gateway -----------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("Upgrade", "").lower() == "websocket":
            return _error(404, "404: Not Found")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: GatewaySession | None = None
        try:
            await self._send(
                ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.gateway_log.append(frame)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await self._send(ws, {"op": 11})
                elif op == 2:
                    session = await self._identify(ws, request, data)
                elif op == 6:
                    session = await self._resume(ws, request, data)
                elif op == 8 and session is not None:
                    await self._member_chunk(session, data)
                elif op == 3 and session is not None:
                    session.presence_updates.append(data)
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                session.transport = None
            self._notify()
        return ws

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame))

    async def _identify(
        self, ws: web.WebSocketResponse, request: web.Request, data: dict[str, Any]
    ) -> GatewaySession | None:
        token = str(data.get("token", ""))
        if not token or (self.expected_token is not None and token != self.expected_token):
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard = tuple(data["shard"]) if data.get("shard") else None
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            shard=shard,  # type: ignore[arg-type]
            intents=int(data.get("intents") or 0),
            ws=ws,
            transport=request.transport,
        )
        self.sessions[session.session_id] = session
        self.identify_count += 1
        guilds = [g for g in self.guilds if session.handles_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **self.bot_user.user_payload(),
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
                "email": None,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._dispatch_on(session, "READY", ready)
        for guild in guilds:
            await self._dispatch_on(session, "GUILD_CREATE", guild.create_payload())
        self._notify()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, request: web.Request, data: dict[str, Any]
    ) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalid:
            await self._send(ws, {"op": 9, "d": False})
            return None
        self.resume_count += 1
        old = session.ws
        session.ws = ws
        session.transport = request.transport
        if old is not None and old is not ws:
            with contextlib.suppress(Exception):
                await old.close(code=4000)
        last_seen = int(data.get("seq") or 0)
        for frame in [f for f in session.sent if f["s"] > last_seen]:
            await self._send(ws, frame)
        await self._dispatch_on(session, "RESUMED", {})
        self._notify()
        return session

    async def _member_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self._find_guild(int(data["guild_id"]))
        members = [
            m.member_payload(with_permissions=False) for m in (guild.members if guild else [])
        ]
        chunk: dict[str, Any] = {
            "guild_id": data["guild_id"],
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch_on(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _dispatch_on(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        del session.sent[:-500]
        if session.ws is not None and not session.ws.closed:
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self._send(session.ws, frame)

    def connected_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connected]

    async def wait_for_session(
        self, guild_id: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> GatewaySession:
        """The newest connected session handling ``guild_id`` (waits for a reconnect)."""

        def pick() -> GatewaySession | None:
            candidates = [
                s
                for s in self.connected_sessions()
                if guild_id is None or s.handles_guild(guild_id)
            ]
            return candidates[-1] if candidates else None

        return await self.wait_until(pick, timeout, f"a gateway session for guild {guild_id}")

    async def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Send a gateway dispatch (op 0) to the session responsible for ``guild_id``."""
        session = await self.wait_for_session(guild_id, timeout)
        await self._dispatch_on(session, event, data)

    async def _broadcast(
        self, event: str, data: dict[str, Any], guild_id: int | None, intent: int
    ) -> None:
        for session in self.connected_sessions():
            if (guild_id is None or session.handles_guild(guild_id)) and session.intents & intent:
                await self._dispatch_on(session, event, data)

    def _sessions_to_disturb(self) -> list[GatewaySession]:
        sessions = self.connected_sessions()
        assert sessions, "no connected gateway session to disturb"
        return sessions

    async def reconnect_request(self) -> None:
        """Send op 7 RECONNECT; the bot closes the socket and RESUMEs."""
        for session in self._sessions_to_disturb():
            ws = session.ws
            session.ws = None  # inject waits for the resumed socket
            assert ws is not None
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self._send(ws, {"op": 7, "d": None})
        self._notify()

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` the bot must IDENTIFY again."""
        for session in self._sessions_to_disturb():
            ws = session.ws
            session.invalid = not resumable
            session.ws = None
            assert ws is not None
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self._send(ws, {"op": 9, "d": resumable})
        self._notify()

    async def drop_socket(self) -> None:
        """Abort the TCP connection under the gateway socket (no close frame)."""
        for session in self._sessions_to_disturb():
            transport = session.transport
            session.ws = None
            session.transport = None
            if transport is not None:
                transport.abort()
        self._notify()

    # -- interactions: building --------------------------------------------------------
    def synced_commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        return list(self.commands.get(guild_id, []))

    def interaction_payload(
        self,
        type_: int,
        data: dict[str, Any] | None,
        *,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """A full INTERACTION_CREATE payload from ``member`` in ``channel``'s guild."""
        member = member or self.student
        guild = self._find_guild(member.guild_id) or self.guild
        channel = channel or guild.text_channel
        bot_member = guild.get_member(self.app_id)
        app_permissions = bot_member.permissions if bot_member else EVERYONE_PERMISSIONS
        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "application_id": str(self.app_id),
            "type": type_,
            "token": "itok-" + secrets.token_urlsafe(24),
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": channel["id"],
            "channel": channel,
            "member": member.member_payload(),
            "app_permissions": str(app_permissions),
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "locale": locale,
            "guild_locale": "en-US",
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        return payload

    async def inject(
        self,
        payload: dict[str, Any],
        description: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Deliver an interaction over the gateway; returns its (still pending) reply."""
        reply = InteractionReply(
            self, payload, description or f"interaction type {payload['type']}"
        )
        self.interactions[reply.id] = reply
        self._by_token[reply.token] = reply
        reply.injected_at = asyncio.get_running_loop().time()
        await self.dispatch(
            "INTERACTION_CREATE", payload, guild_id=int(payload["guild_id"]), timeout=timeout
        )
        return reply

    def command_data(
        self,
        name: str,
        path: tuple[str, ...],
        options: dict[str, Any],
        *,
        guild_id: int | None = None,
        command_defs: list[dict[str, Any]] | None = None,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """``data`` of a chat-input (or autocomplete) interaction.

        Option types come from the command definition: ``command_defs`` (e.g. from the
        bot's tree), else the commands the bot synced (guild ones first, then global);
        unknown names fail loudly. Without any definition, types are guessed from the
        Python values. ``guild_id`` is put in ``data`` only for guild commands, as Discord does.
        """
        definition, data_guild_id = None, None
        if command_defs is not None:
            definition = _find_command(command_defs, name)
            data_guild_id = guild_id
        else:
            for scope in (guild_id, None):
                definition = _find_command(self.synced_commands(scope), name)
                if definition is not None:
                    data_guild_id = scope
                    break
        resolved: dict[str, dict[str, Any]] = {}
        option_defs = definition.get("options", []) if definition else None
        leaf: list[dict[str, Any]] = []
        top = leaf
        for part in path:
            sub_def = None
            if option_defs is not None:
                sub_def = next((o for o in option_defs if o["name"] == part), None)
                assert sub_def is not None and sub_def.get("type") in (1, 2), (
                    f"/{name}: no subcommand (group) {part!r}; known: "
                    f"{[o['name'] for o in option_defs if o.get('type') in (1, 2)]}"
                )
            kind = sub_def["type"] if sub_def else (1 if part == path[-1] else 2)
            node: dict[str, Any] = {"name": part, "type": kind, "options": []}
            leaf.append(node)
            leaf = node["options"]
            option_defs = sub_def.get("options", []) if sub_def else None
        for key, value in options.items():
            opt_def = None
            if option_defs is not None:
                opt_def = next((o for o in option_defs if o["name"] == key), None)
                assert opt_def is not None, (
                    f"/{' '.join((name, *path))} has no option {key!r}; "
                    f"known: {[o['name'] for o in option_defs]}"
                )
            option = self._option(key, value, opt_def, resolved, focused == key)
            leaf.append(option)
        data: dict[str, Any] = {
            "id": str(definition["id"])
            if definition and definition.get("id")
            else str(self._command_id(data_guild_id, name, 1)),
            "name": name,
            "type": 1,
            "options": top,
        }
        if data_guild_id is not None:
            data["guild_id"] = str(data_guild_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(
        self,
        name: str,
        value: Any,
        definition: dict[str, Any] | None,
        resolved: dict[str, dict[str, Any]],
        focused: bool,
    ) -> dict[str, Any]:
        if isinstance(value, FakeMember):
            resolved.setdefault("users", {})[str(value.id)] = value.user_payload()
            member = value.member_payload()
            member.pop("user")
            resolved.setdefault("members", {})[str(value.id)] = member
            kind, value = 6, str(value.id)
        elif isinstance(value, dict) and "type" in value and "guild_id" in value:
            # a channel dict (e.g. ``guild.text_channel``)
            resolved.setdefault("channels", {})[value["id"]] = {
                "id": value["id"],
                "name": value.get("name"),
                "type": value["type"],
                "permissions": str(EVERYONE_PERMISSIONS),
            }
            kind, value = 7, value["id"]
        elif isinstance(value, dict) and "permissions" in value and "name" in value:
            # a role dict (e.g. ``guild.role("Moderators")``)
            resolved.setdefault("roles", {})[value["id"]] = value
            kind, value = 8, value["id"]
        elif definition is not None:
            kind = definition["type"]
        elif isinstance(value, bool):
            kind = 5
        elif isinstance(value, int):
            kind = 4
        elif isinstance(value, float):
            kind = 10
        else:
            kind = 3
        option: dict[str, Any] = {"name": name, "type": kind, "value": value}
        if focused:
            option["focused"] = True
        return option

    # -- interactions: high level ------------------------------------------------------
    async def slash(
        self,
        name: str,
        *path: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        command_defs: list[dict[str, Any]] | None = None,
        command_guild_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> InteractionReply:
        """Run ``/name [path...]`` with options; wait for the bot's callback."""
        member = member or self.student
        all_options = {**(options or {}), **kwargs}
        data = self.command_data(
            name,
            path,
            all_options,
            guild_id=command_guild_id if command_defs is not None else member.guild_id,
            command_defs=command_defs,
        )
        payload = self.interaction_payload(2, data, member=member, channel=channel)
        reply = await self.inject(payload, "/" + " ".join((name, *path)), timeout)
        return await reply.wait_callback(timeout)

    async def autocomplete(
        self,
        name: str,
        *path: str,
        focused: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        command_defs: list[dict[str, Any]] | None = None,
        command_guild_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused``; return the choices the bot offered."""
        member = member or self.student
        all_options = {**(options or {}), **kwargs}
        all_options.setdefault(focused, "")
        data = self.command_data(
            name,
            path,
            all_options,
            guild_id=command_guild_id if command_defs is not None else member.guild_id,
            command_defs=command_defs,
            focused=focused,
        )
        payload = self.interaction_payload(4, data, member=member, channel=channel)
        reply = await self.inject(
            payload, f"autocomplete /{' '.join((name, *path))} {focused}", timeout
        )
        await reply.wait_callback(timeout)
        return reply.choices

    def synthetic_message(
        self,
        custom_id: str,
        *,
        component_type: int = 2,
        channel: dict[str, Any] | None = None,
        flags: int = 0,
        content: str = "",
    ) -> dict[str, Any]:
        """A bot message the bot never sent (e.g. from before a restart) with one component."""
        channel = channel or self.guild.text_channel
        if component_type == 2:
            component: dict[str, Any] = {
                "type": 2,
                "style": 1,
                "label": "Click",
                "custom_id": custom_id,
            }
        else:
            component = {
                "type": component_type,
                "custom_id": custom_id,
                "min_values": 1,
                "max_values": 1,
            }
            if component_type == 3:
                component["options"] = [{"label": "x", "value": "x"}]
        message = self._new_message(
            {
                "content": content,
                "components": [{"type": 1, "components": [component]}],
                "flags": flags,
            },
            channel_id=int(channel["id"]),
            msg_type=0,
        )
        return message

    async def click(
        self,
        custom_id: str,
        *,
        message: dict[str, Any] | None = None,
        member: FakeMember | None = None,
        component_type: int | None = None,
        values: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Click a button / choose select ``values`` on ``message`` (default: synthetic)."""
        if message is None:
            message = self.synthetic_message(custom_id, component_type=component_type or 2)
        present = {
            c["custom_id"]: c
            for c in iter_components(message.get("components") or [])
            if "custom_id" in c
        }
        found = present.get(custom_id)
        assert found is not None, (
            f"message {message.get('id')} has no component {custom_id!r}; has {list(present)}"
        )
        component_type = component_type or int(found["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if component_type in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        payload = self.interaction_payload(
            3, data, member=member, message=message, channel=self._channel_of(message)
        )
        reply = await self.inject(payload, f"click {custom_id!r}", timeout)
        return await reply.wait_callback(timeout)

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, str | list[str]],
        *,
        member: FakeMember | None = None,
        modal: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Submit modal ``custom_id`` with ``values`` by input custom_id.

        The submitted structure mirrors the modal the bot showed (``modal`` or the last
        one with that custom_id): action rows of text inputs, or Label (type 18)
        components wrapping a text input / select. Unknown custom_ids fail loudly.
        """
        modal = modal or self.modals.get(custom_id)
        if modal is not None:
            components = _modal_submit_components(modal.get("components") or [], values)
        else:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ]
        data = {"custom_id": custom_id, "components": components}
        payload = self.interaction_payload(
            5,
            data,
            member=member,
            message=message,
            channel=self._channel_of(message) if message else None,
        )
        reply = await self.inject(payload, f"modal {custom_id!r}", timeout)
        return await reply.wait_callback(timeout)

    def _channel_of(self, message: dict[str, Any]) -> dict[str, Any] | None:
        return self._find_channel(int(message["channel_id"]))[1]

    # -- messages ----------------------------------------------------------------------
    def _new_message(
        self,
        body: dict[str, Any],
        *,
        channel_id: int,
        msg_type: int,
        reply: InteractionReply | None = None,
        files: list[dict[str, Any]] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        guild, _ = self._find_channel(channel_id)
        message: dict[str, Any] = {
            "id": str(message_id or self.snowflake()),
            "type": msg_type,
            "channel_id": str(channel_id),
            "author": self.bot_user.user_payload(),
            "content": "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
            "application_id": str(self.app_id),
        }
        if guild is not None:
            message["guild_id"] = str(guild.id)
        if reply is not None:
            message["webhook_id"] = str(self.app_id)
            user = reply.payload["member"]["user"]
            message["interaction_metadata"] = {
                "id": str(reply.id),
                "type": reply.interaction_type,
                "user": user,
                "authorizing_integration_owners": reply.payload["authorizing_integration_owners"],
            }
            if reply.interaction_type == 2:
                message["interaction_metadata"]["name"] = reply.payload["data"]["name"]
        _apply_body(message, body, files or [], creating=True)
        self.messages[int(message["id"])] = message
        self.channel_messages[channel_id].append(int(message["id"]))
        return message

    async def _announce(self, event: str, message: dict[str, Any]) -> None:
        if not self.dispatch_message_events or int(message.get("flags") or 0) & EPHEMERAL:
            return
        guild_id = int(message["guild_id"]) if message.get("guild_id") else None
        data = (
            message
            if event != "MESSAGE_DELETE"
            else {
                "id": message["id"],
                "channel_id": message["channel_id"],
                "guild_id": message.get("guild_id"),
            }
        )
        await self._broadcast(event, data, guild_id, INTENT_GUILD_MESSAGES)

    # -- REST plumbing -----------------------------------------------------------------
    async def _rest_outside_api(self, request: web.Request) -> web.StreamResponse:
        self.unknown_routes.append((request.method, request.path))
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.query), None, 404)
        )
        self._notify()
        return _error(404, "404: Not Found")

    async def _read_body(
        self, request: web.Request
    ) -> tuple[Any, list[dict[str, Any]], str | None]:
        """(json body, files, parse error). Multipart: the ``payload_json`` part is the body."""
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = None
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        return None, files, f"payload_json is not JSON: {exc}"
                else:
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "size": len(raw),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return body, files, None
        raw = await request.read()
        if not raw:
            return None, [], None
        try:
            return json.loads(raw), [], None
        except ValueError as exc:
            return None, [], f"body is not JSON: {exc}"

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        body, files, parse_error = await self._read_body(request)
        record = RecordedRequest(
            method, path, dict(request.query), body, 0, files, request.content_type
        )
        self.requests.append(record)
        try:
            response = await self._serve(request, method, path, body, files, parse_error)
        except Exception as exc:  # a bug in the fake must not hang the bot
            response = _error(500, f"fake discord error: {exc!r}")
            self.unknown_routes.append((method, path + f" (fake crashed: {exc!r})"))
        record.status = response.status
        self._notify()
        return response

    async def _serve(
        self,
        request: web.Request,
        method: str,
        path: str,
        body: Any,
        files: list[dict[str, Any]],
        parse_error: str | None,
    ) -> web.StreamResponse:
        fault = self._take_fault(method, path)
        if fault is not None:
            return _json_response(fault.body, fault.status, fault.headers)
        if parse_error is not None:
            self.schema_violations.append((method, path, parse_error))
            return _error(400, "400: Bad Request", 50109)
        if body is not None and self.schema is not None:
            problems = self.schema.validate(method, path, body)
            if problems:
                for _, message in problems:
                    self.schema_violations.append((method, path, message))
                return _error(400, "Invalid Form Body", 50035, _discord_error_tree(problems))
        for route_method, rx, handler, needs_auth in self._routes:
            if route_method != method:
                continue
            match = rx.fullmatch(path)
            if match is None:
                continue
            if needs_auth:
                auth = request.headers.get("Authorization", "")
                token = auth.removeprefix("Bot ")
                if (
                    not auth.startswith("Bot ")
                    or not token
                    or (self.expected_token is not None and token != self.expected_token)
                ):
                    return _error(401, "401: Unauthorized")
            return await handler(request, body=body, files=files, **match.groupdict())
        self.unknown_routes.append((method, path))
        return _error(404, "404: Not Found")

    @functools.cached_property
    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        s = r"(?P<{}>\d+)"
        tok = r"(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/@me/guilds", self._get_my_guilds, True),  # glossary-bot doctor
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", f"/applications/{s.format('app')}/commands", self._get_commands, True),
            ("PUT", f"/applications/{s.format('app')}/commands", self._put_commands, True),
            (
                "GET",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands",
                self._put_commands,
                True,
            ),
            ("POST", f"/interactions/{s.format('iid')}/{tok}/callback", self._callback, False),
            (
                "GET",
                f"/webhooks/{s.format('app')}/{tok}/messages/@original",
                self._get_original,
                False,
            ),
            (
                "PATCH",
                f"/webhooks/{s.format('app')}/{tok}/messages/@original",
                self._edit_original,
                False,
            ),
            (
                "DELETE",
                f"/webhooks/{s.format('app')}/{tok}/messages/@original",
                self._delete_original,
                False,
            ),
            ("POST", f"/webhooks/{s.format('app')}/{tok}", self._followup, False),
            (
                "GET",
                f"/webhooks/{s.format('app')}/{tok}/messages/{s.format('mid')}",
                self._get_followup,
                False,
            ),
            (
                "PATCH",
                f"/webhooks/{s.format('app')}/{tok}/messages/{s.format('mid')}",
                self._edit_followup,
                False,
            ),
            (
                "DELETE",
                f"/webhooks/{s.format('app')}/{tok}/messages/{s.format('mid')}",
                self._delete_followup,
                False,
            ),
            ("POST", f"/channels/{s.format('cid')}/messages", self._post_message, True),
            (
                "GET",
                f"/channels/{s.format('cid')}/messages/{s.format('mid')}",
                self._get_message,
                True,
            ),
            (
                "PATCH",
                f"/channels/{s.format('cid')}/messages/{s.format('mid')}",
                self._edit_message,
                True,
            ),
            (
                "DELETE",
                f"/channels/{s.format('cid')}/messages/{s.format('mid')}",
                self._delete_message,
                True,
            ),
            ("GET", f"/channels/{s.format('cid')}", self._get_channel, True),
            ("POST", f"/channels/{s.format('cid')}/typing", self._typing, True),
            ("GET", f"/guilds/{s.format('gid')}", self._get_guild, True),
            ("GET", f"/guilds/{s.format('gid')}/channels", self._get_guild_channels, True),
            ("GET", f"/guilds/{s.format('gid')}/roles", self._get_guild_roles, True),
            ("GET", f"/guilds/{s.format('gid')}/members/{s.format('uid')}", self._get_member, True),
        ]
        return [(m, re.compile(p), h, a) for m, p, h, a in table]

    # -- REST handlers: identity -------------------------------------------------------
    async def _get_me(self, request: web.Request, **_: Any) -> web.Response:
        return _json_response(
            {
                **self.bot_user.user_payload(),
                "verified": True,
                "flags": 0,
                "mfa_enabled": False,
                "locale": "en-US",
                "email": None,
            }
        )

    async def _get_application(self, request: web.Request, **_: Any) -> web.Response:
        return _json_response(
            {
                "id": str(self.app_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self.guild.get_member(self.guild.owner_id).user_payload()  # type: ignore[union-attr]
                if self.guilds
                else self.bot_user.user_payload(),
                "team": None,
                "bot": self.bot_user.user_payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "tags": [],
                "approximate_guild_count": len(self.guilds),
            }
        )

    async def _get_gateway(self, request: web.Request, **_: Any) -> web.Response:
        return _json_response({"url": self.gateway_url.rstrip("/")})

    async def _get_gateway_bot(self, request: web.Request, **_: Any) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    # -- REST handlers: commands -------------------------------------------------------
    def _command_id(self, guild_id: int | None, name: str, kind: int) -> int:
        key = (guild_id, name, kind)
        if key not in self._command_ids:
            self._command_ids[key] = self.snowflake()
        return self._command_ids[key]

    async def _get_commands(
        self, request: web.Request, app: str, guild: str | None = None, **_: Any
    ) -> web.Response:
        if int(app) != self.app_id:
            return _error(403, "Missing Access", 50001)
        return _json_response(self.commands.get(int(guild) if guild else None, []))

    async def _put_commands(
        self, request: web.Request, app: str, body: Any, guild: str | None = None, **_: Any
    ) -> web.Response:
        if int(app) != self.app_id:
            return _error(403, "Missing Access", 50001)
        gid = int(guild) if guild else None
        if gid is not None and self._find_guild(gid) is None:
            return _error(403, "Missing Access", 50001)
        echoed = []
        for command in body or []:
            kind = int(command.get("type") or 1)
            item = {
                "id": str(self._command_id(gid, command["name"], kind)),
                "application_id": str(self.app_id),
                "version": str(self.snowflake()),
                "type": kind,
                "description": command.get("description", ""),
                "default_member_permissions": command.get("default_member_permissions"),
                "nsfw": bool(command.get("nsfw", False)),
                **{k: v for k, v in command.items() if k not in ("id", "type")},
            }
            item.setdefault("options", [])
            if gid is not None:
                item["guild_id"] = str(gid)
            echoed.append(item)
        self.commands[gid] = echoed
        return _json_response(echoed)

    # -- REST handlers: interactions ---------------------------------------------------
    async def _callback(
        self,
        request: web.Request,
        iid: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.StreamResponse:
        reply = self.interactions.get(int(iid))
        if reply is None or reply.token != token:
            return _error(404, "Unknown interaction", 10062)
        if reply.callback is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        loop_time = asyncio.get_running_loop().time()
        if (
            self.ack_deadline is not None
            and reply.injected_at is not None
            and loop_time - reply.injected_at > self.ack_deadline
        ):
            self.late_callbacks.append(reply.description)
            return _error(404, "Unknown interaction", 10062)
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        channel_id = int(reply.payload["channel_id"])
        interaction: dict[str, Any] = {"id": str(reply.id), "type": reply.interaction_type}
        resource: dict[str, Any] | None = None
        created: dict[str, Any] | None = None
        updated: dict[str, Any] | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            msg_body = dict(data) if kind == 4 else {"flags": flags | LOADING}
            msg_type = 20 if reply.interaction_type == 2 else 0
            created = self._new_message(
                msg_body, channel_id=channel_id, msg_type=msg_type, reply=reply, files=files
            )
            reply.original_message_id = int(created["id"])
            interaction.update(
                {
                    "response_message_id": created["id"],
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                }
            )
            resource = {"type": kind, "message": created}
        elif kind in (6, 7):
            if reply.interaction_type not in (3, 5):
                return _error(400, "Interaction callback type not allowed here", 50035)
            target = self.messages.get(reply.original_message_id or 0)
            if target is not None:
                interaction["response_message_id"] = target["id"]
                if kind == 7:
                    _apply_body(target, data, files, creating=False)
                    updated = target
                    resource = {"type": kind, "message": target}
        elif kind == 8:
            if reply.interaction_type != 4:
                return _error(400, "Interaction callback type not allowed here", 50035)
        elif kind == 9:
            self.modals[data.get("custom_id", "")] = data
        reply.callback = body
        self._notify()
        if created is not None:
            await self._announce("MESSAGE_CREATE", created)
        if updated is not None:
            await self._announce("MESSAGE_UPDATE", updated)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        result: dict[str, Any] = {"interaction": interaction}
        if resource is not None:
            result["resource"] = resource
        return _json_response(result)

    def _reply_for_webhook(self, app: str, token: str) -> InteractionReply | None:
        reply = self._by_token.get(token)
        if reply is None or int(app) != self.app_id:
            return None
        return reply

    async def _get_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return _error(404, "Unknown Webhook", 10015)
        if reply.message is None:
            return _error(404, "Unknown Message", 10008)
        return _json_response(reply.message)

    async def _edit_original(
        self,
        request: web.Request,
        app: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return _error(404, "Unknown Webhook", 10015)
        message = reply.message
        if message is None:
            return _error(404, "Unknown Message", 10008)
        reply.edits.append(body or {})
        _apply_body(message, body or {}, files, creating=False)
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return _json_response(message)

    async def _delete_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return _error(404, "Unknown Webhook", 10015)
        message = reply.message
        if message is None:
            return _error(404, "Unknown Message", 10008)
        reply.original_deleted = True
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _followup(
        self,
        request: web.Request,
        app: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.StreamResponse:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return _error(404, "Unknown Webhook", 10015)
        if reply.callback is None:
            return _error(404, "Unknown Webhook", 10015)
        body = body or {}
        original = reply.message
        if (
            original is not None
            and reply.callback_type == 5
            and int(original.get("flags") or 0) & LOADING
        ):
            # Discord: the first follow-up after a "thinking" deferral replaces the
            # loading message (keeping the deferral's ephemerality).
            keep = int(original["flags"]) & EPHEMERAL
            _apply_body(
                original, {k: v for k, v in body.items() if k != "flags"}, files, creating=False
            )
            original["flags"] = (int(original.get("flags") or 0) & ~LOADING) | keep
            original["edited_timestamp"] = None
            message = original
            event = "MESSAGE_UPDATE"
        else:
            message = self._new_message(
                body,
                channel_id=int(reply.payload["channel_id"]),
                msg_type=20 if reply.interaction_type == 2 else 0,
                reply=reply,
                files=files,
            )
            event = "MESSAGE_CREATE"
        reply.followups.append(body)
        reply.followup_message_ids.append(int(message["id"]))
        self._notify()
        await self._announce(event, message)
        if request.query.get("wait") in ("0", "false", "False"):
            return web.Response(status=204)
        return _json_response(message)

    def _followup_message(
        self, app: str, token: str, mid: str
    ) -> tuple[InteractionReply | None, dict[str, Any] | None]:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return None, None
        ids = {*reply.followup_message_ids, reply.original_message_id}
        return reply, self.messages.get(int(mid)) if int(mid) in ids else None

    async def _get_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        _, message = self._followup_message(app, token, mid)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        return _json_response(message)

    async def _edit_followup(
        self,
        request: web.Request,
        app: str,
        token: str,
        mid: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        reply, message = self._followup_message(app, token, mid)
        if reply is None or message is None:
            return _error(404, "Unknown Message", 10008)
        if int(mid) == reply.original_message_id:
            reply.edits.append(body or {})
        _apply_body(message, body or {}, files, creating=False)
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return _json_response(message)

    async def _delete_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        reply, message = self._followup_message(app, token, mid)
        if reply is None or message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages.pop(int(mid), None)
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    # -- REST handlers: channels and guilds --------------------------------------------
    async def _post_message(
        self, request: web.Request, cid: str, body: Any, files: list[dict[str, Any]], **_: Any
    ) -> web.Response:
        _, channel = self._find_channel(int(cid))
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        body = body or {}
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or files
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            return _error(400, "Cannot send an empty message", 50006)
        msg_type = 19 if body.get("message_reference") else 0
        message = self._new_message(body, channel_id=int(cid), msg_type=msg_type, files=files)
        self._notify()
        await self._announce("MESSAGE_CREATE", message)
        return _json_response(message)

    def _channel_message(self, cid: str, mid: str) -> dict[str, Any] | None:
        message = self.messages.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return None
        return message

    async def _get_message(
        self, request: web.Request, cid: str, mid: str, **_: Any
    ) -> web.Response:
        message = self._channel_message(cid, mid)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        return _json_response(message)

    async def _edit_message(
        self,
        request: web.Request,
        cid: str,
        mid: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        message = self._channel_message(cid, mid)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        _apply_body(message, body or {}, files, creating=False)
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return _json_response(message)

    async def _delete_message(
        self, request: web.Request, cid: str, mid: str, **_: Any
    ) -> web.Response:
        message = self._channel_message(cid, mid)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages.pop(int(mid))
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request, cid: str, **_: Any) -> web.Response:
        _, channel = self._find_channel(int(cid))
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        return _json_response(channel)

    async def _typing(self, request: web.Request, **_: Any) -> web.Response:
        return web.Response(status=204)

    async def _get_guild(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return _error(404, "Unknown Guild", 10004)
        return _json_response(guild.base_payload())

    async def _get_guild_channels(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return _error(404, "Unknown Guild", 10004)
        return _json_response(guild.channels)

    async def _get_guild_roles(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return _error(404, "Unknown Guild", 10004)
        return _json_response(guild.roles)

    async def _get_member(self, request: web.Request, gid: str, uid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        member = guild.get_member(int(uid)) if guild else None
        if member is None:
            return _error(404, "Unknown Member", 10007)
        return _json_response(member.member_payload(with_permissions=False))

    # -- REST handlers: what glossary-bot doctor reads (bot/doctor.py) -------------------
    async def _get_my_guilds(self, request: web.Request, **_: Any) -> web.Response:
        """The bot's servers as partial guilds (``GET /users/@me/guilds``)."""
        return _json_response([
            {"id": str(g.id), "name": g.name, "icon": None, "banner": None, "owner": False,
             "permissions": str(EVERYONE_PERMISSIONS), "features": []}
            for g in self.guilds
        ])


def _find_command(defs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((d for d in defs if d.get("name") == name and int(d.get("type") or 1) == 1), None)


def _apply_body(
    message: dict[str, Any], body: dict[str, Any], files: list[dict[str, Any]], *, creating: bool
) -> None:
    """Apply a create/edit body to a stored message the way Discord would."""
    if "content" in body:
        message["content"] = body["content"] or ""
    if "components" in body:
        message["components"] = body["components"] or []
    for key in ("tts", "poll", "message_reference"):
        if body.get(key) is not None:
            message[key] = body[key]
    if "embeds" in body:
        message["embeds"] = [{"type": "rich", **e} for e in (body["embeds"] or [])]
    if "flags" in body and body["flags"] is not None:
        if creating:
            message["flags"] = int(body["flags"])
        else:  # only SUPPRESS_EMBEDS (and component v2) can change; ephemeral/loading stay
            keep = int(message.get("flags") or 0) & (EPHEMERAL | LOADING)
            message["flags"] = (int(body["flags"]) & ~(EPHEMERAL | LOADING)) | keep
    if "attachments" in body or files:
        attachments = []
        by_index = {f["field"]: f for f in files}
        for item in body.get("attachments") or []:
            upload = by_index.get(f"files[{item.get('id')}]")
            if upload is None:
                # an existing attachment kept on edit
                existing = next(
                    (
                        a
                        for a in message.get("attachments", [])
                        if str(a["id"]) == str(item.get("id"))
                    ),
                    None,
                )
                if existing is not None:
                    attachments.append(existing)
                continue
            attachments.append(_attachment(upload, item.get("description")))
        if not body.get("attachments"):
            attachments.extend(_attachment(f, None) for f in files)
        message["attachments"] = attachments
    if not creating:
        message["edited_timestamp"] = _now_iso()


def _attachment(upload: dict[str, Any], description: str | None) -> dict[str, Any]:
    aid = str(secrets.randbits(60))
    name = upload.get("filename") or "file"
    attachment: dict[str, Any] = {
        "id": aid,
        "filename": name,
        "size": upload.get("size", 0),
        "url": f"http://{LOOPBACK_HOST}/attachments/{aid}/{name}",
        "proxy_url": f"http://{LOOPBACK_HOST}/attachments/{aid}/{name}",
    }
    if upload.get("content_type"):
        attachment["content_type"] = upload["content_type"]
    if description:
        attachment["description"] = description
    return attachment


def _modal_submit_components(
    components: list[dict[str, Any]], values: dict[str, str | list[str]]
) -> list[dict[str, Any]]:
    """Mirror a modal's layout into a MODAL_SUBMIT ``components`` list."""
    remaining = dict(values)

    def submit(component: dict[str, Any]) -> dict[str, Any] | None:
        cid = component.get("custom_id")
        if cid is None:
            return None
        kind = component.get("type")
        value = remaining.pop(cid, None)
        if kind == 4:
            return {
                "type": 4,
                "id": component.get("id", 0),
                "custom_id": cid,
                "value": "" if value is None else value,
            }
        return {
            "type": kind,
            "id": component.get("id", 0),
            "custom_id": cid,
            "values": [] if value is None else ([value] if isinstance(value, str) else value),
        }

    out: list[dict[str, Any]] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:
            inner = [c for c in map(submit, component.get("components") or []) if c]
            out.append({"type": 1, "id": component.get("id", 0), "components": inner})
        elif kind == 18 and isinstance(component.get("component"), dict):
            inner_one = submit(component["component"])
            if inner_one:
                out.append({"type": 18, "id": component.get("id", 0), "component": inner_one})
        elif kind == 10:
            continue
        else:
            single = submit(component)
            if single:
                out.append(single)
    assert not remaining, f"modal has no inputs {sorted(remaining)}"
    return out


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Discord on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeDiscord()
        await fake.start(args.port)
        print(f"api_base_url = {fake.api_base_url}", flush=True)
        print(f"gateway_url = {fake.gateway_url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    _main()
