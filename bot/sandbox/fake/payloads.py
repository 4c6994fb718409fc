"""INTERACTION_CREATE payloads as Discord sends them: commands with typed options,
component clicks, and delivering them to the bot over the gateway."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from bot.sandbox.fake.cdn import FakeUpload
from bot.sandbox.fake.clock import Clock
from bot.sandbox.fake.constants import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    DEFAULT_TIMEOUT,
    EVERYONE_PERMISSIONS,
    GUILD_INSTALL,
    USER_INSTALL,
)
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.world import FakeGuild, FakeMember, channel_permissions

# What Discord reports the bot may do in a DM (no guild, no overwrites).
DM_PERMISSIONS = EVERYONE_PERMISSIONS


class UnknownCommand(LookupError):
    """A command, subcommand or option the bot never declared."""


class PayloadMixin:
    """Builds and injects interactions. Needs the world, the gateway and the messages."""

    app_id: int
    clock: Clock
    commands: dict[int | None, list[dict[str, Any]]]
    interactions: dict[int, InteractionReply]
    _by_token: dict[str, InteractionReply]
    dm_channels: dict[int, dict[str, Any]]

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord
        guild: FakeGuild
        student: FakeMember

        def snowflake(self) -> int: ...
        def _find_guild(self, guild_id: int) -> FakeGuild | None: ...
        def _find_channel(
            self, channel_id: int
        ) -> tuple[FakeGuild | None, dict[str, Any] | None]: ...
        def _command_id(self, guild_id: int | None, name: str, kind: int) -> int: ...
        def resolve_upload(self, upload: FakeUpload) -> dict[str, Any]: ...
        def synced_commands(self, guild_id: int | None) -> list[dict[str, Any]]: ...
        def _new_message(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]: ...
        async def dispatch(
            self, event: str, data: dict[str, Any], *, guild_id: int | None = None,
            timeout: float = DEFAULT_TIMEOUT,
        ) -> None: ...

    def interaction_payload(
        self,
        type_: int,
        data: dict[str, Any] | None,
        *,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
        context: int = CONTEXT_GUILD,
        user_install: bool = False,
    ) -> dict[str, Any]:
        """A full INTERACTION_CREATE payload from ``member``, as Discord sends it.

        ``context``: ``CONTEXT_GUILD`` (in ``channel``, default the member's guild's
        #general: ``member`` with the permissions it has there, ``app_permissions`` the
        bot's there), ``CONTEXT_BOT_DM`` (the bot's DM with the member) or
        ``CONTEXT_PRIVATE_CHANNEL`` (another DM, user-installed apps only): ``user`` and
        no ``member``/``guild_id``. ``user_install``: the app is installed to the user, so
        ``authorizing_integration_owners`` names the user (``"1"``) instead of the guild.
        """
        member = member or self.student
        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "application_id": str(self.app_id),
            "type": type_,
            "token": "itok-" + secrets.token_urlsafe(24),
            "version": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "context": context,
            "locale": locale,
        }
        owners: dict[str, str] = {USER_INSTALL: str(member.id)} if user_install else {}
        if context == CONTEXT_GUILD:
            channel = self._in_guild(payload, member, channel)
            if not user_install:
                owners[GUILD_INSTALL] = payload["guild_id"]
        else:
            channel = channel or self.dm_channel(member)
            payload["user"] = member.user_payload()
            payload["app_permissions"] = str(DM_PERMISSIONS)
            if context == CONTEXT_BOT_DM and not user_install:
                owners[GUILD_INSTALL] = "0"  # Discord: "0" in the bot's DM
        payload["channel_id"] = channel["id"]
        payload["channel"] = channel
        payload["authorizing_integration_owners"] = owners
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        return payload

    def _in_guild(
        self, payload: dict[str, Any], member: FakeMember, channel: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Add the guild parts: the member with its permissions in the channel, and the
        bot's (``app_permissions``). Returns the channel (default: #general)."""
        guild = self._find_guild(member.guild_id) or self.guild
        channel = channel or guild.text_channel
        member_payload = member.member_payload()
        member_payload["permissions"] = str(channel_permissions(guild, member, channel))
        payload.update({
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "member": member_payload,
            "app_permissions": str(self._app_permissions(guild, channel)),
        })
        return channel

    def _member_permissions_in(
        self, channel: dict[str, Any], member: FakeMember | None
    ) -> int:
        guild, known = self._find_channel(int(channel["id"]))
        member = member or self.student
        if guild is None or known is None or member.guild_id != guild.id:
            return EVERYONE_PERMISSIONS
        return channel_permissions(guild, member, known)

    def _app_permissions(self, guild: FakeGuild, channel: dict[str, Any]) -> int:
        bot_member = guild.get_member(self.app_id)
        return 0 if bot_member is None else channel_permissions(guild, bot_member, channel)

    def dm_channel(self, member: FakeMember) -> dict[str, Any]:
        """The bot's DM channel with ``member`` (made on first use, as Discord does)."""
        for channel in self.dm_channels.values():
            if channel["recipients"][0]["id"] == str(member.id):
                return channel
        channel = {
            "id": str(self.snowflake()),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [member.user_payload()],
        }
        self.dm_channels[int(channel["id"])] = channel
        return channel

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
        reply.injected_clock = self.clock.time()
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id, timeout=timeout)
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
        member: FakeMember | None = None,
    ) -> dict[str, Any]:
        """``data`` of a chat-input (or autocomplete) interaction.

        A channel option resolves with ``member``'s permissions in it (default: the
        student's), as Discord resolves it for whoever typed the command.

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
                if sub_def is None or sub_def.get("type") not in (1, 2):
                    raise UnknownCommand(
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
                if opt_def is None:
                    raise UnknownCommand(
                        f"/{' '.join((name, *path))} has no option {key!r}; "
                        f"known: {[o['name'] for o in option_defs]}"
                    )
            option = self._option(key, value, opt_def, resolved, focused == key, member)
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
        member: FakeMember | None = None,
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
                "permissions": str(self._member_permissions_in(value, member)),
            }
            kind, value = 7, value["id"]
        elif isinstance(value, dict) and "permissions" in value and "name" in value:
            # a role dict (e.g. ``guild.role("Moderators")``)
            resolved.setdefault("roles", {})[value["id"]] = value
            kind, value = 8, value["id"]
        elif isinstance(value, FakeUpload):
            attachment = self.resolve_upload(value)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            kind, value = 11, attachment["id"]
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

    def _channel_of(self, message: dict[str, Any]) -> dict[str, Any] | None:
        return self._find_channel(int(message["channel_id"]))[1]



def _find_command(defs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((d for d in defs if d.get("name") == name and int(d.get("type") or 1) == 1), None)

