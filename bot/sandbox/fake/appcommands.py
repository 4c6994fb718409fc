"""Application commands: what the bot syncs, with Discord's 200-creates-a-day limit.

Discord counts every command *created* (a name it did not have in that scope: global or
one guild), by bulk overwrite or one at a time, and refuses the 201st of a day with a 429
(code 30034) whose ``retry_after`` runs to the end of the day window. Updating a command
that exists is not a create.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.clock import Clock
from bot.sandbox.fake.rest import discord_error, json_response, rate_limited
from bot.sandbox.fake.world import FakeGuild

DAILY_CREATES = 200
DAY = 24 * 60 * 60.0


class CommandMixin:
    """``commands[None]`` (global) and ``commands[guild_id]``, as the bot synced them."""

    app_id: int
    clock: Clock
    commands: dict[int | None, list[dict[str, Any]]]
    _command_ids: dict[tuple[int | None, str, int], int]
    _creates: dict[int | None, list[float]]  # clock times of creates, per scope

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def snowflake(self) -> int: ...
        def _find_guild(self, guild_id: int) -> FakeGuild | None: ...

    def synced_commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        return list(self.commands.get(guild_id, []))

    def _command_id(self, guild_id: int | None, name: str, kind: int) -> int:
        key = (guild_id, name, kind)
        if key not in self._command_ids:
            self._command_ids[key] = self.snowflake()
        return self._command_ids[key]

    def _scope(self, app: str, guild: str | None) -> int | None | web.Response:
        if int(app) != self.app_id:
            return discord_error(403, "Missing Access", 50001)
        gid = int(guild) if guild else None
        if gid is not None and self._find_guild(gid) is None:
            return discord_error(403, "Missing Access", 50001)
        return gid

    def _over_daily_limit(self, gid: int | None, new: int) -> web.Response | None:
        now = self.clock.time()
        recent = [t for t in self._creates.get(gid, []) if now - t < DAY]
        self._creates[gid] = recent
        if new and len(recent) + new > DAILY_CREATES:
            retry_after = round(DAY - (now - recent[0]), 3) if recent else DAY
            return rate_limited(
                retry_after, now=now, scope="shared", code=30034,
                message="Max number of daily application command creates has been reached "
                        f"({DAILY_CREATES})",
            )
        recent.extend([now] * new)
        return None

    def _echo(self, gid: int | None, command: dict[str, Any]) -> dict[str, Any]:
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
        return item

    def _is_new(self, gid: int | None, command: dict[str, Any]) -> bool:
        kind = int(command.get("type") or 1)
        return not any(c["name"] == command["name"] and int(c["type"]) == kind
                       for c in self.commands.get(gid, []))

    async def _get_commands(
        self, request: web.Request, app: str, guild: str | None = None, **_: Any
    ) -> web.Response:
        gid = self._scope(app, guild)
        if isinstance(gid, web.Response):
            return gid
        return json_response(self.commands.get(gid, []))

    async def _put_commands(
        self, request: web.Request, app: str, body: Any, guild: str | None = None, **_: Any
    ) -> web.Response:
        gid = self._scope(app, guild)
        if isinstance(gid, web.Response):
            return gid
        wanted = list(body or [])
        limited = self._over_daily_limit(gid, sum(self._is_new(gid, c) for c in wanted))
        if limited is not None:
            return limited
        self.commands[gid] = [self._echo(gid, command) for command in wanted]
        return json_response(self.commands[gid])

    async def _post_command(
        self, request: web.Request, app: str, body: Any, guild: str | None = None, **_: Any
    ) -> web.Response:
        gid = self._scope(app, guild)
        if isinstance(gid, web.Response):
            return gid
        command = dict(body or {})
        new = self._is_new(gid, command)
        limited = self._over_daily_limit(gid, int(new))
        if limited is not None:
            return limited
        item = self._echo(gid, command)
        kept = [c for c in self.commands.get(gid, []) if c["id"] != item["id"]]
        self.commands[gid] = [*kept, item]
        return json_response(item, 201 if new else 200)
