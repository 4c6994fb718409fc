"""The stand-in's world: guilds with roles, channels and members, and who may do what.

Permissions are computed as Discord computes them (guild roles, then the channel's
overwrites for @everyone, the member's roles and the member), so ``app_permissions`` in an
interaction and the 403 for a channel the bot cannot post in follow the same rules.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.fake.constants import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    INTENT_GUILDS,
    MANAGE_GUILD,
)


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


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


def base_permissions(guild: FakeGuild, member: FakeMember) -> int:
    """A member's guild-wide permissions: @everyone, their roles (or their own ``permissions``
    when they were given explicitly); the owner and administrators have all of them."""
    if member.id == guild.owner_id:
        return ALL_PERMISSIONS
    permissions = member.permissions
    if permissions & ADMINISTRATOR:
        return ALL_PERMISSIONS
    return permissions


def channel_permissions(guild: FakeGuild, member: FakeMember, channel: dict[str, Any]) -> int:
    """Discord's algorithm: base permissions, then the channel's overwrites for @everyone,
    for the member's roles (all denies, then all allows) and for the member."""
    permissions = base_permissions(guild, member)
    if permissions == ALL_PERMISSIONS:
        return permissions
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites") or []}

    def apply(overwrite: dict[str, Any] | None, current: int) -> int:
        if overwrite is None:
            return current
        return (current & ~int(overwrite.get("deny") or 0)) | int(overwrite.get("allow") or 0)

    permissions = apply(overwrites.get(str(guild.id)), permissions)
    deny = allow = 0
    for role_id in member.roles:
        overwrite = overwrites.get(str(role_id))
        if overwrite is not None:
            deny |= int(overwrite.get("deny") or 0)
            allow |= int(overwrite.get("allow") or 0)
    permissions = (permissions & ~deny) | allow
    return apply(overwrites.get(str(member.id)), permissions)


class WorldMixin:
    """Guilds, roles, channels and members (``guilds[0]`` is the default guild)."""

    guilds: list[FakeGuild]
    shard_count: int
    app_id: int
    bot_user: FakeMember
    _guild_index: dict[int, FakeGuild]
    _channel_guild: dict[int, FakeGuild]

    if TYPE_CHECKING:  # provided by FakeDiscord

        def snowflake(self) -> int: ...

        def _new_guild_id(self) -> int: ...
        async def _broadcast(
            self, event: str, data: dict[str, Any], guild_id: int | None, intent: int
        ) -> None: ...

    def add_guild(self, name: str | None = None, guild_id: int | None = None) -> FakeGuild:
        """Add a guild with @everyone, Students, Moderators (MANAGE_GUILD) and bot roles,
        a #general text channel, and members: the bot, an owner, ``student`` and
        ``moderator``. Add guilds before the bot connects (they arrive in GUILD_CREATE)."""
        gid = guild_id if guild_id is not None else self._new_guild_id()
        guild = FakeGuild(id=gid, name=name or f"Test Guild {gid % 1000}", owner_id=0)
        guild.roles = [
            _role(gid, "@everyone", EVERYONE_PERMISSIONS, 0),
            _role(self.snowflake(), "Students", 0, 1),
            _role(self.snowflake(), "Moderators", MANAGE_GUILD, 2),
            _role(self.snowflake(), "GlossaryBot", EVERYONE_PERMISSIONS, 3, managed=True,
                  tags={"bot_id": str(self.app_id)}),
        ]
        self.guilds.append(guild)
        self._guild_index[gid] = guild
        self.add_channel("general", guild=guild)
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
        return guild

    def add_channel(
        self,
        name: str,
        *,
        guild: FakeGuild | None = None,
        overwrites: list[dict[str, Any]] | None = None,
        kind: int = 0,
    ) -> dict[str, Any]:
        """Add a text channel; ``overwrites`` as Discord's ``permission_overwrites``
        (``{"id", "type": 0 role / 1 member, "allow", "deny"}``, bits as strings)."""
        guild = guild or self.guild
        channel = {
            "id": str(self.snowflake()),
            "type": kind,
            "guild_id": str(guild.id),
            "name": name,
            "position": len(guild.channels),
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        guild.channels.append(channel)
        self._channel_guild[int(channel["id"])] = guild
        channel["permission_overwrites"] = _overwrites(overwrites or [])
        return channel

    async def set_overwrites(
        self, channel: dict[str, Any], overwrites: list[dict[str, Any]]
    ) -> None:
        """Replace a channel's permission overwrites and tell connected bots
        (CHANNEL_UPDATE), as Discord does when a moderator edits the channel."""
        channel["permission_overwrites"] = _overwrites(overwrites)
        await self._broadcast("CHANNEL_UPDATE", channel, int(channel["guild_id"]), INTENT_GUILDS)

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
        roles: list[str | int] | tuple[str | int, ...] = (),
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
        role = _role(self.snowflake(), name, permissions, len(guild.roles))
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

    # With thousands of guilds (bench.scale: 16,000) a scan per interaction or request
    # would cost milliseconds, so guilds and channels are indexed by id. The indexes are a
    # cache, not the truth: a channel a test appended to ``guild.channels`` by hand, or one
    # it removed, is still found (or not) by the scan behind them.
    def _find_guild(self, guild_id: int) -> FakeGuild | None:
        guild = self._guild_index.get(guild_id)
        if guild is not None and guild.id == guild_id:
            return guild
        guild = next((g for g in self.guilds if g.id == guild_id), None)
        if guild is not None:
            self._guild_index[guild_id] = guild
        return guild

    def _find_channel(self, channel_id: int) -> tuple[FakeGuild | None, dict[str, Any] | None]:
        guild = self._channel_guild.get(channel_id)
        if guild is not None:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                self._channel_guild[channel_id] = guild
                return guild, channel
        return None, None

    def bot_permissions(self, channel_id: int) -> int | None:
        """What the bot may do in a guild channel (None: not a guild channel)."""
        guild, channel = self._find_channel(channel_id)
        if guild is None or channel is None:
            return None
        member = guild.get_member(self.app_id)
        return 0 if member is None else channel_permissions(guild, member, channel)


def _overwrites(overwrites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overwrites as Discord sends them: ids and permission bits as strings."""
    return [
        {**o, "id": str(o["id"]), "allow": str(o.get("allow", 0)), "deny": str(o.get("deny", 0))}
        for o in overwrites
    ]


def _role(rid: int, name: str, permissions: int, position: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(rid),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
        **extra,
    }
