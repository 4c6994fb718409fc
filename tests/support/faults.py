"""Fault injection for the tests' stand-in: failing requests, gateway reconnects and drops."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.gateway import GatewaySession
from bot.sandbox.fake.rest import json_response, rate_limit_headers, rate_limited

if TYPE_CHECKING:
    from bot.sandbox.fake.core import FakeDiscord as _Base
else:
    _Base = object


@dataclass
class RouteLimit:
    """A real rate limit on matching requests: at most ``limit`` per ``per`` seconds."""

    method: str
    path_regex: re.Pattern[str]
    limit: int
    per: float
    is_global: bool
    seen: list[float]


@dataclass
class Fault:
    method: str
    path_regex: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


class FaultMixin(_Base):
    """``fail_next`` for REST; ``reconnect_request`` / ``invalidate_session`` /
    ``drop_socket`` for the gateway."""

    _faults: list[Fault]
    _limits: list[RouteLimit]

    def limit_route(
        self, method: str, path_regex: str, *, limit: int, per: float, is_global: bool = False
    ) -> None:
        """Rate-limit matching requests as Discord does: past ``limit`` in ``per`` seconds
        (on the fake's clock), 429 with ``retry_after`` until the oldest leaves the window,
        ``global`` and ``X-RateLimit-Scope`` as given."""
        self._limits.append(
            RouteLimit(method.upper(), re.compile(path_regex), limit, per, is_global, [])
        )

    def _take_limit(self, method: str, path: str) -> web.Response | None:
        now = self.clock.time()
        for bucket in self._limits:
            if bucket.method != method or not bucket.path_regex.fullmatch(path):
                continue
            bucket.seen = [t for t in bucket.seen if now - t < bucket.per]
            if len(bucket.seen) >= bucket.limit:
                retry_after = round(bucket.per - (now - bucket.seen[0]), 3)
                return rate_limited(max(retry_after, 0.001), now=now, is_global=bucket.is_global,
                                    scope="global" if bucket.is_global else "user")
            bucket.seen.append(now)
        return None

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
        429 defaults to a 50 ms per-route rate limit with Discord's headers and body
        (``retry_after``, ``global``). discord.py retries 429 after ``retry_after`` and
        500/502/504 after 1 s, 3 s, ...
        """
        if body is None:
            if status == 429:
                body = {"message": "You are being rate limited.", "retry_after": 0.05,
                        "global": False}
            else:
                body = {"message": f"{status}: Fake failure", "code": 0}
        default_headers: dict[str, str] = {}
        if status == 429:
            retry = float(body.get("retry_after", 0.05)) if isinstance(body, dict) else 0.05
            is_global = bool(isinstance(body, dict) and body.get("global"))
            default_headers = rate_limit_headers(
                retry, is_global=is_global, scope="global" if is_global else "user",
                now=self.clock.time(),
            )
        self._faults.append(Fault(method.upper(), re.compile(path_regex), status, body,
                                  {**default_headers, **(headers or {})}, times))

    def _take_fault(self, method: str, path: str) -> web.Response | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method == method and fault.path_regex.fullmatch(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return json_response(fault.body, fault.status, fault.headers)
        return None

    def _sessions_to_disturb(self) -> list[GatewaySession]:
        sessions = self.connected_sessions()
        if not sessions:
            raise AssertionError("no connected gateway session to disturb")
        return sessions

    async def reconnect_request(self) -> None:
        """Send op 7 RECONNECT; the bot closes the socket and RESUMEs."""
        for session in self._sessions_to_disturb():
            ws = session.ws
            session.ws = None  # inject waits for the resumed socket
            if ws is not None:
                with contextlib.suppress(ConnectionResetError, RuntimeError):
                    await self._send(ws, {"op": 7, "d": None})
        self._notify()

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` the bot must IDENTIFY again."""
        for session in self._sessions_to_disturb():
            ws = session.ws
            session.invalid = not resumable
            session.ws = None
            if ws is not None:
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
