"""The stand-in's gateway: the websocket a bot identifies on, resumes, and gets events from."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.sandbox.fake.constants import DEFAULT_TIMEOUT
from bot.sandbox.fake.rest import discord_error
from bot.sandbox.fake.world import FakeGuild, FakeMember


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



class GatewayMixin:
    """Sessions, IDENTIFY/RESUME, dispatches. Needs the world and ``wait_until``."""

    guilds: list[FakeGuild]
    bot_user: FakeMember
    app_id: int
    heartbeat_interval_ms: int
    expected_token: str | None
    sessions: dict[str, GatewaySession]
    identify_count: int
    identify_times: list[tuple[float, int]]
    identifies_refused: int
    max_concurrency: int
    enforce_identify_limit: bool
    identify_window_s: float
    resume_count: int
    _sockets: set[web.WebSocketResponse]

    gateway_url: str

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def _notify(self) -> None: ...

        async def wait_until(
            self, predicate: Callable[[], Any], timeout: float, what: str
        ) -> Any: ...

        def _find_guild(self, guild_id: int) -> FakeGuild | None: ...

    def _on_gateway_frame(self, frame: dict[str, Any]) -> None:
        """Hook for recorders (tests keep a log of what the bot sent)."""

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("Upgrade", "").lower() == "websocket":
            return discord_error(404, "404: Not Found")
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
                self._on_gateway_frame(frame)
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
        now = asyncio.get_running_loop().time()
        shard_id = int(shard[0]) if shard else 0
        if self.enforce_identify_limit and self._too_soon(shard_id, now):
            # Discord: "If you hit this limit, the Gateway will respond with an Opcode 9
            # Invalid Session"; discord.py then identifies again after its 5 s pause.
            self.identifies_refused += 1
            await self._send(ws, {"op": 9, "d": False})
            return None
        self.identify_times.append((now, shard_id))
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

    def _bucket(self, shard_id: int) -> int:
        return shard_id % max(1, self.max_concurrency)

    def _too_soon(self, shard_id: int, now: float) -> bool:
        bucket = self._bucket(shard_id)
        return any(self._bucket(s) == bucket and now - t < self.identify_window_s
                   for t, s in reversed(self.identify_times))

    def identifies_too_soon(self) -> int:
        """How many accepted IDENTIFYs came within 5 s of the previous one in their bucket:
        each is one Discord would have refused (with ``enforce_identify_limit`` off)."""
        last: dict[int, float] = {}
        count = 0
        for when, shard_id in self.identify_times:
            bucket = self._bucket(shard_id)
            if bucket in last and when - last[bucket] < self.identify_window_s:
                count += 1
            last[bucket] = when
        return count

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

