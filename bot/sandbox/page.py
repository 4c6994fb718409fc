"""The sandbox page's web side: static files, the JSON API the page calls, and the rule
that only this machine, on this page's own address, may drive it.

The page's JSON API refuses requests whose ``Host`` or ``Origin`` is not this server, so
another web site open in the same browser cannot drive it (DNS rebinding, cross-site POSTs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.actions import display_name
from bot.sandbox.commands import CommandError, CommandSpec
from bot.sandbox.errors import PortInUse
from bot.sandbox.fake import LOOPBACK_HOST, FakeDiscord, FakeMember

HOST = LOOPBACK_HOST
LONG_POLL_SECONDS = 20.0
MAX_TEXT = 4000
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


class PageMixin:
    """The page's aiohttp app (``_start_page``) and its handlers, for the Sandbox."""

    fake: FakeDiscord
    port: int | None
    requested_port: int
    watch: bool
    version: int
    _change: asyncio.Event
    _closing: bool
    _runner: web.AppRunner | None

    if TYPE_CHECKING:  # provided by Sandbox and its ActionsMixin

        @property
        def url(self) -> str: ...
        def page_messages(self) -> list[dict[str, Any]]: ...
        def commands(self) -> list[CommandSpec]: ...
        def persona(self, name: object) -> FakeMember: ...
        async def run_command(self, text: str, persona: str | None = None) -> dict[str, Any]: ...
        async def autocomplete(self, text: str, persona: str | None = None) -> dict[str, Any]: ...
        async def click(self, message_id: str, custom_id: str, persona: str | None = None,
                        values: list[str] | None = None) -> dict[str, Any]: ...

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
        members = {str(m.id): display_name(m) for m in guild.members}
        return _json({
            "guild": guild.name,
            "channel": {"id": guild.text_channel["id"], "name": guild.text_channel["name"]},
            "bot": {"id": str(self.fake.app_id), "name": self.fake.bot_user.username},
            "personas": [
                {"key": key, "name": display_name(self.persona(key)),
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
