"""REST resources other than interactions: identity, commands, channels, messages, guilds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.constants import (
    ATTACH_FILES,
    EMBED_LINKS,
    EVERYONE_PERMISSIONS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from bot.sandbox.fake.rest import discord_error, json_response
from bot.sandbox.fake.world import FakeGuild, FakeMember


class ResourceMixin:
    """Handlers named in :data:`bot.sandbox.fake.rest.ROUTES` (all but interactions)."""

    app_id: int
    bot_user: FakeMember
    guilds: list[FakeGuild]
    shard_count: int
    max_concurrency: int
    messages: dict[int, dict[str, Any]]
    dm_channels: dict[int, dict[str, Any]]
    gateway_url: str

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord
        guild: FakeGuild

        def snowflake(self) -> int: ...
        def _find_guild(self, guild_id: int) -> FakeGuild | None: ...
        def _find_channel(
            self, channel_id: int
        ) -> tuple[FakeGuild | None, dict[str, Any] | None]: ...
        def _new_message(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]: ...
        def _apply(self, message: dict[str, Any], body: dict[str, Any],
                   files: list[dict[str, Any]], *, creating: bool = False) -> None: ...
        def _refuse(self, body: dict[str, Any], files: list[dict[str, Any]], *,
                    creating: bool, prefix: tuple[str, ...] = ()) -> web.Response | None: ...
        def bot_permissions(self, channel_id: int) -> int | None: ...
        def dm_channel(self, member: FakeMember) -> dict[str, Any]: ...
        def _notify(self) -> None: ...
        async def _announce(self, event: str, message: dict[str, Any]) -> None: ...

    # -- REST handlers: identity -------------------------------------------------------
    async def _get_me(self, request: web.Request, **_: Any) -> web.Response:
        return json_response(
            {
                **self.bot_user.user_payload(),
                "verified": True,
                "flags": 0,
                "mfa_enabled": False,
                "locale": "en-US",
                "email": None,
            }
        )

    async def _get_my_guilds(self, request: web.Request, **_: Any) -> web.Response:
        """The bot's servers as partial guilds (``GET /users/@me/guilds``, for doctor)."""
        return json_response([
            {"id": str(g.id), "name": g.name, "icon": None, "banner": None, "owner": False,
             "permissions": str(EVERYONE_PERMISSIONS), "features": []}
            for g in self.guilds
        ])

    async def _get_application(self, request: web.Request, **_: Any) -> web.Response:
        return json_response(
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
        return json_response({"url": self.gateway_url.rstrip("/")})

    async def _get_gateway_bot(self, request: web.Request, **_: Any) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    # -- REST handlers: channels and guilds --------------------------------------------
    def _refuse_posting(
        self, channel_id: int, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> web.Response | None:
        """Discord's answer when the bot may not post this in a guild channel: without View
        Channel it cannot see it (403 50001), without Send Messages, or Embed Links for
        embeds (Attach Files for files), it lacks permissions (403 50013)."""
        permissions = self.bot_permissions(channel_id)
        if permissions is None:  # a DM: nothing to check
            return None
        if not permissions & VIEW_CHANNEL:
            return discord_error(403, "Missing Access", 50001)
        needed = SEND_MESSAGES
        if body.get("embeds"):
            needed |= EMBED_LINKS
        if files:
            needed |= ATTACH_FILES
        if permissions & needed != needed:
            return discord_error(403, "Missing Permissions", 50013)
        return None

    async def _post_message(
        self, request: web.Request, cid: str, body: Any, files: list[dict[str, Any]], **_: Any
    ) -> web.Response:
        channel_id = int(cid)
        if self._find_channel(channel_id)[1] is None and channel_id not in self.dm_channels:
            return discord_error(404, "Unknown Channel", 10003)
        body = body or {}
        denied = self._refuse_posting(channel_id, body, files)
        if denied is not None:
            return denied
        refused = self._refuse(body, files, creating=True)
        if refused is not None:
            return refused
        msg_type = 19 if body.get("message_reference") else 0
        message = self._new_message(body, channel_id=int(cid), msg_type=msg_type, files=files)
        self._notify()
        await self._announce("MESSAGE_CREATE", message)
        return json_response(message)

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
            return discord_error(404, "Unknown Message", 10008)
        return json_response(message)

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
            return discord_error(404, "Unknown Message", 10008)
        refused = self._refuse(body or {}, files, creating=False)
        if refused is not None:
            return refused
        self._apply(message, body or {}, files, creating=False)
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_message(
        self, request: web.Request, cid: str, mid: str, **_: Any
    ) -> web.Response:
        message = self._channel_message(cid, mid)
        if message is None:
            return discord_error(404, "Unknown Message", 10008)
        self.messages.pop(int(mid))
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request, cid: str, **_: Any) -> web.Response:
        _, channel = self._find_channel(int(cid))
        if channel is None:
            return discord_error(404, "Unknown Channel", 10003)
        return json_response(channel)

    async def _open_dm(self, request: web.Request, body: Any, **_: Any) -> web.Response:
        """``POST /users/@me/channels {"recipient_id"}``: the bot's DM with a known user."""
        wanted = str((body or {}).get("recipient_id", ""))
        for guild in self.guilds:
            for member in guild.members:
                if str(member.id) == wanted:
                    return json_response(self.dm_channel(member))
        return discord_error(400, "Invalid Recipient(s)", 50033)

    async def _typing(self, request: web.Request, **_: Any) -> web.Response:
        return web.Response(status=204)

    async def _get_guild(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return discord_error(404, "Unknown Guild", 10004)
        return json_response(guild.base_payload())

    async def _get_guild_channels(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return discord_error(404, "Unknown Guild", 10004)
        return json_response(guild.channels)

    async def _get_guild_roles(self, request: web.Request, gid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        if guild is None:
            return discord_error(404, "Unknown Guild", 10004)
        return json_response(guild.roles)

    async def _get_member(self, request: web.Request, gid: str, uid: str, **_: Any) -> web.Response:
        guild = self._find_guild(int(gid))
        member = guild.get_member(int(uid)) if guild else None
        if member is None:
            return discord_error(404, "Unknown Member", 10007)
        return json_response(member.member_payload(with_permissions=False))

