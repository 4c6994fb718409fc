"""INTERACTION_CREATE payloads as Discord sends them: commands with typed options,
component clicks, and delivering them to the bot over the gateway."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from bot.sandbox.fake.constants import DEFAULT_TIMEOUT, EVERYONE_PERMISSIONS
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.world import FakeGuild, FakeMember


class UnknownCommand(LookupError):
    """A command, subcommand or option the bot never declared."""


class PayloadMixin:
    """Builds and injects interactions. Needs the world, the gateway and the messages."""

    app_id: int
    commands: dict[int | None, list[dict[str, Any]]]
    interactions: dict[int, InteractionReply]
    _by_token: dict[str, InteractionReply]

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord
        guild: FakeGuild
        student: FakeMember

        def snowflake(self) -> int: ...
        def _find_guild(self, guild_id: int) -> FakeGuild | None: ...
        def _find_channel(
            self, channel_id: int
        ) -> tuple[FakeGuild | None, dict[str, Any] | None]: ...
        def _command_id(self, guild_id: int | None, name: str, kind: int) -> int: ...
        def _new_message(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]: ...
        async def dispatch(
            self, event: str, data: dict[str, Any], *, guild_id: int | None = None,
            timeout: float = DEFAULT_TIMEOUT,
        ) -> None: ...

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

