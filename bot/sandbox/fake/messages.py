"""Messages as the stand-in stores them: created, edited and announced the way Discord does."""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.constants import (
    EPHEMERAL,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    LOADING,
    LOOPBACK_HOST,
)
from bot.sandbox.fake.limits import is_empty, message_problems
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.rest import discord_error, form_error
from bot.sandbox.fake.world import FakeGuild, FakeMember

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Pings:
    """Who a message notified when it was created (edits never notify anyone)."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


def pings_of(body: dict[str, Any]) -> Pings:
    """The mentions in ``content`` that ``allowed_mentions`` lets notify, as Discord decides:
    no ``allowed_mentions`` parses everything; ``parse`` lists the kinds that notify;
    ``users``/``roles`` list the only ids that do. Ephemeral messages notify no one."""
    if int(body.get("flags") or 0) & EPHEMERAL:
        return Pings()
    content = body.get("content") or ""
    allowed = body.get("allowed_mentions")
    if allowed is None:
        allowed = {"parse": ["users", "roles", "everyone"]}
    parse = set(allowed.get("parse") or ())
    users = {int(u) for u in USER_MENTION.findall(content)}
    roles = {int(r) for r in ROLE_MENTION.findall(content)}
    if "users" not in parse:
        users &= {int(u) for u in allowed.get("users") or ()}
    if "roles" not in parse:
        roles &= {int(r) for r in allowed.get("roles") or ()}
    everyone = "everyone" in parse and bool(EVERYONE_MENTION.search(content))
    return Pings(frozenset(users), frozenset(roles), everyone)


def interaction_user(payload: dict[str, Any]) -> dict[str, Any]:
    """Who used an interaction: ``member.user`` in a guild, ``user`` in DMs."""
    member = payload.get("member")
    return member["user"] if member else payload["user"]


class MessageMixin:
    """``messages`` by id and ``channel_messages`` by channel; MESSAGE_* events."""

    messages: dict[int, dict[str, Any]]
    pings: dict[int, Pings]
    channel_messages: defaultdict[int, list[int]]
    dispatch_message_events: bool
    app_id: int
    bot_user: FakeMember

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def snowflake(self) -> int: ...
        def now_iso(self) -> str: ...
        def _find_channel(
            self, channel_id: int
        ) -> tuple[FakeGuild | None, dict[str, Any] | None]: ...
        async def _broadcast(
            self, event: str, data: dict[str, Any], guild_id: int | None, intent: int
        ) -> None: ...

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
            "timestamp": self.now_iso(),
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
            user = interaction_user(reply.payload)
            message["interaction_metadata"] = {
                "id": str(reply.id),
                "type": reply.interaction_type,
                "user": user,
                "authorizing_integration_owners": reply.payload["authorizing_integration_owners"],
            }
            if reply.interaction_type == 2:
                message["interaction_metadata"]["name"] = reply.payload["data"]["name"]
        self._apply(message, body, files or [], creating=True)
        self.messages[int(message["id"])] = message
        self.channel_messages[channel_id].append(int(message["id"]))
        self.pings[int(message["id"])] = pings_of(body)
        return message

    def pinged(self, message: dict[str, Any] | int) -> Pings:
        """Who ``message`` (or its id) notified (nobody for the first follow-up after a
        deferral, and no edit ever notifies)."""
        message_id = message if isinstance(message, int) else int(message["id"])
        return self.pings.get(message_id, Pings())

    def _refuse(
        self,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        creating: bool,
        prefix: tuple[str, ...] = (),
    ) -> web.Response | None:
        """Discord's answer to a message body it refuses (None: accepted)."""
        problems = [([*prefix, *path], code, text) for path, code, text in message_problems(body)]
        if problems:
            self._on_refused(problems)
            return form_error(problems)
        if creating and is_empty(body, has_files=bool(files)):
            self._on_refused([([], "EMPTY", "Cannot send an empty message")])
            return discord_error(400, "Cannot send an empty message", 50006)
        return None

    def _on_refused(self, problems: list[tuple[list[str | int], str, str]]) -> None:
        """Hook: a body Discord would refuse (recorders keep them)."""

    def _apply(
        self,
        message: dict[str, Any],
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        creating: bool = False,
    ) -> None:
        apply_body(message, body, files, creating=creating, now=self.now_iso())

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
        intent = INTENT_GUILD_MESSAGES if guild_id else INTENT_DIRECT_MESSAGES
        await self._broadcast(event, data, guild_id, intent)


def apply_body(
    message: dict[str, Any],
    body: dict[str, Any],
    files: list[dict[str, Any]],
    *,
    creating: bool,
    now: str,
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
        message["edited_timestamp"] = now


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
