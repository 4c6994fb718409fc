"""The stand-in's REST plumbing: route table, bodies (JSON or multipart), Discord's errors.

A new endpoint is one line in :data:`ROUTES` (method, Discord's path template, handler
name, whether it needs the bot token) and one ``async def`` handler on a mixin; the
handler gets the path's ``{names}`` as keyword arguments plus ``body`` and ``files``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

# (method, path template, handler attribute, needs "Authorization: Bot <token>")
ROUTES: list[tuple[str, str, str, bool]] = [
    ("GET", "/users/@me", "_get_me", True),
    ("GET", "/users/@me/guilds", "_get_my_guilds", True),  # glossary-bot doctor
    ("GET", "/oauth2/applications/@me", "_get_application", True),
    ("GET", "/applications/@me", "_get_application", True),
    ("GET", "/gateway", "_get_gateway", False),
    ("GET", "/gateway/bot", "_get_gateway_bot", True),
    ("GET", "/applications/{app}/commands", "_get_commands", True),
    ("PUT", "/applications/{app}/commands", "_put_commands", True),
    ("POST", "/applications/{app}/commands", "_post_command", True),
    ("GET", "/applications/{app}/guilds/{guild}/commands", "_get_commands", True),
    ("PUT", "/applications/{app}/guilds/{guild}/commands", "_put_commands", True),
    ("POST", "/applications/{app}/guilds/{guild}/commands", "_post_command", True),
    ("POST", "/interactions/{iid}/{token}/callback", "_callback", False),
    ("GET", "/webhooks/{app}/{token}/messages/@original", "_get_original", False),
    ("PATCH", "/webhooks/{app}/{token}/messages/@original", "_edit_original", False),
    ("DELETE", "/webhooks/{app}/{token}/messages/@original", "_delete_original", False),
    ("POST", "/webhooks/{app}/{token}", "_followup", False),
    ("GET", "/webhooks/{app}/{token}/messages/{mid}", "_get_followup", False),
    ("PATCH", "/webhooks/{app}/{token}/messages/{mid}", "_edit_followup", False),
    ("DELETE", "/webhooks/{app}/{token}/messages/{mid}", "_delete_followup", False),
    ("POST", "/channels/{cid}/messages", "_post_message", True),
    ("GET", "/channels/{cid}/messages/{mid}", "_get_message", True),
    ("PATCH", "/channels/{cid}/messages/{mid}", "_edit_message", True),
    ("DELETE", "/channels/{cid}/messages/{mid}", "_delete_message", True),
    ("GET", "/channels/{cid}", "_get_channel", True),
    ("POST", "/channels/{cid}/typing", "_typing", True),
    ("POST", "/users/@me/channels", "_open_dm", True),
    ("GET", "/guilds/{gid}", "_get_guild", True),
    ("GET", "/guilds/{gid}/channels", "_get_guild_channels", True),
    ("GET", "/guilds/{gid}/roles", "_get_guild_roles", True),
    ("GET", "/guilds/{gid}/members/{uid}", "_get_member", True),
]


def _compile(template: str) -> re.Pattern[str]:
    """``/webhooks/{app}/{token}`` -> a regex with named groups (ids are digits)."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{token\\\}", r"(?P<token>[^/]+)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", pattern)
    return re.compile(pattern)


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
    response: Any = None

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status}>"


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type`` *exactly* ``application/json``.

    discord.py only decodes a body when the header equals that string, and aiohttp's
    ``json_response`` appends ``; charset=utf-8``.
    """
    response = web.Response(body=json.dumps(data).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def discord_error(
    status: int,
    message: str,
    code: int = 0,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error body shaped as Discord's: ``{"code", "message"[, "errors"]}``."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status, headers)


def rate_limit_headers(
    retry_after: float, *, is_global: bool, scope: str, now: float
) -> dict[str, str]:
    """The headers Discord sends with a 429. discord.py only honours a 429 that carries
    ``Via`` (without it, it assumes a Cloudflare ban) and waits ``retry_after``."""
    retry = f"{retry_after:g}"
    headers = {
        "Via": "1.1 google",
        "Retry-After": retry,
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": retry,
        "X-RateLimit-Reset": f"{now + retry_after:.3f}",
        "X-RateLimit-Bucket": "fake-bucket",
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return headers


def rate_limited(
    retry_after: float,
    *,
    now: float,
    is_global: bool = False,
    scope: str = "user",
    message: str = "You are being rate limited.",
    code: int | None = None,
) -> web.Response:
    """Discord's 429: ``{"message", "retry_after", "global"[, "code"]}`` and its headers."""
    body: dict[str, Any] = {"message": message, "retry_after": retry_after, "global": is_global}
    if code is not None:
        body["code"] = code
    headers = rate_limit_headers(retry_after, is_global=is_global, scope=scope, now=now)
    return json_response(body, 429, headers)


def form_error(problems: list[tuple[list[str | int], str, str]]) -> web.Response:
    """400 50035 "Invalid Form Body" with Discord's nested ``errors`` tree.

    ``problems`` are ``(path, code, message)``, e.g. ``(["embeds"], "BASE_TYPE_MAX_LENGTH",
    "Embed size exceeds maximum size of 6000")``.
    """
    tree: dict[str, Any] = {}
    for path, code, message in problems:
        node = tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return discord_error(400, "Invalid Form Body", 50035, tree)


async def read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]], str | None]:
    """(json body, files, parse error). Multipart: the ``payload_json`` part is the body."""
    if request.content_type.startswith("multipart/"):
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
                files.append({
                    "field": part.name,
                    "filename": part.filename,
                    "size": len(raw),
                    "content_type": part.headers.get("Content-Type"),
                })
        return body, files, None
    raw = await request.read()
    if not raw:
        return None, [], None
    try:
        return json.loads(raw), [], None
    except ValueError as exc:
        return None, [], f"body is not JSON: {exc}"


class RestMixin:
    """Serves ``/api/v10/...`` from :data:`ROUTES`; hooks for recorders and fault injection."""

    routes: list[tuple[str, str, str, bool]] = ROUTES
    expected_token: str | None

    if TYPE_CHECKING:

        def _notify(self) -> None: ...

    def _before_route(
        self, method: str, path: str, body: Any, parse_error: str | None
    ) -> web.StreamResponse | None:
        """Hook: an answer that replaces serving the request (faults, schema checks)."""
        return None

    def _on_request(self, record: RecordedRequest) -> None:
        """Hook: every request, once answered (``record.status`` set)."""

    def _on_unknown_route(self, method: str, path: str) -> None:
        """Hook: a request no route serves (answered 404)."""
        log.warning("the Discord stand-in has no route for %s %s", method, path)

    @functools.cached_property
    def _compiled_routes(self) -> list[tuple[str, re.Pattern[str], str, bool]]:
        return [(m, _compile(t), handler, auth) for m, t, handler, auth in self.routes]

    async def _rest_outside_api(self, request: web.Request) -> web.StreamResponse:
        self._on_unknown_route(request.method, request.path)
        self._on_request(
            RecordedRequest(request.method, request.path, dict(request.query), None, 404)
        )
        self._notify()
        return discord_error(404, "404: Not Found")

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        body, files, parse_error = await read_body(request)
        record = RecordedRequest(
            method, path, dict(request.query), body, 0, files, request.content_type
        )
        try:
            response = await self._serve(request, method, path, body, files, parse_error)
        except Exception as exc:  # a bug in the fake must not hang the bot
            log.exception("the Discord stand-in failed on %s %s", method, path)
            response = discord_error(500, f"fake discord error: {exc!r}")
            self._on_unknown_route(method, path + f" (fake crashed: {exc!r})")
        record.status = response.status
        if isinstance(response, web.Response) and response.body:
            record.response = response.body
        self._on_request(record)
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
        early = self._before_route(method, path, body, parse_error)
        if early is not None:
            return early
        if parse_error is not None:
            return discord_error(400, "The request body contains invalid JSON.", 50109)
        for route_method, rx, handler, needs_auth in self._compiled_routes:
            if route_method != method:
                continue
            match = rx.fullmatch(path)
            if match is None:
                continue
            if needs_auth and not self._authorised(request):
                return discord_error(401, "401: Unauthorized")
            return await getattr(self, handler)(
                request, body=body, files=files, **match.groupdict()
            )
        self._on_unknown_route(method, path)
        return discord_error(404, "404: Not Found")

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bot ")
        return (
            auth.startswith("Bot ")
            and bool(token)
            and (self.expected_token is None or token == self.expected_token)
        )
