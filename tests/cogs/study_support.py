"""Driving the bot from every place a student may use it (tests only).

``where`` is one of :data:`PLACES`: ``server`` (the class server, the bot installed there),
``dm`` (the bot's DM), ``group_dm`` (a group DM, the app installed to the student) and
``elsewhere`` (a server the bot is not in, the app installed to the student).
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from bot.sandbox.fake.constants import CONTEXT_BOT_DM, CONTEXT_GUILD, CONTEXT_PRIVATE_CHANNEL
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.world import FakeMember
from tests.support.harness import BotHarness

PLACES = ("server", "dm", "group_dm", "elsewhere")
FOREIGN_GUILD_ID = 1_100_000_000_000_000_001  # a server the bot never joined


def _payload(h: BotHarness, where: str, type_: int, data: dict[str, Any],
             member: FakeMember, message: dict[str, Any] | None) -> dict[str, Any]:
    fake = h.fake
    if where == "server":
        channel = fake._channel_of(message) if message else None
        return fake.interaction_payload(type_, data, member=member, message=message,
                                        channel=channel)
    if where == "dm":
        return fake.interaction_payload(type_, data, member=member, message=message,
                                        context=CONTEXT_BOT_DM)
    if where == "group_dm":
        group = {"id": str(FOREIGN_GUILD_ID + 7), "type": 3, "flags": 0,
                 "last_message_id": None, "recipients": [member.user_payload()]}
        return fake.interaction_payload(type_, data, member=member, message=message,
                                        channel=group, context=CONTEXT_PRIVATE_CHANNEL,
                                        user_install=True)
    assert where == "elsewhere", where
    payload = fake.interaction_payload(type_, data, member=member, message=message,
                                       context=CONTEXT_GUILD, user_install=True)
    channel = {"id": str(FOREIGN_GUILD_ID + 3), "type": 0, "guild_id": str(FOREIGN_GUILD_ID),
               "name": "elsewhere", "position": 0, "permission_overwrites": [], "flags": 0,
               "nsfw": False, "parent_id": None, "last_message_id": None, "topic": None,
               "rate_limit_per_user": 0}
    payload["member"]["roles"] = []
    payload.update({"guild_id": str(FOREIGN_GUILD_ID), "channel_id": channel["id"],
                    "channel": channel,
                    "guild": {"id": str(FOREIGN_GUILD_ID), "locale": "en-US", "features": []}})
    return payload


async def slash_in(h: BotHarness, where: str, name: str, *path: str,
                   member: FakeMember | None = None, **options: Any) -> InteractionReply:
    """``/name path...`` from ``where``; waits for the bot's callback."""
    member = member or h.student
    defs, scope = h._command_defs(name, member.guild_id)
    assert defs is not None, f"the bot has no /{name}"
    data = h.fake.command_data(name, path, options, guild_id=scope, command_defs=defs,
                               member=member)
    payload = _payload(h, where, 2, data, member, None)
    reply = await h.fake.inject(payload, f"/{' '.join((name, *path))} in {where}")
    return await reply.wait_callback()


async def click_in(h: BotHarness, where: str, custom_id: str, message: dict[str, Any],
                   member: FakeMember | None = None) -> InteractionReply:
    """Click ``custom_id`` on ``message`` from ``where``; waits for the bot's callback."""
    member = member or h.student
    data = {"custom_id": custom_id, "component_type": 2}
    payload = _payload(h, where, 3, data, member, message)
    reply = await h.fake.inject(payload, f"click {custom_id!r} in {where}")
    return await reply.wait_callback()


def button(reply: InteractionReply | dict[str, Any], label: str) -> str:
    """The custom_id of the button labelled ``label`` (whole label, or its start)."""
    buttons = reply.buttons if isinstance(reply, InteractionReply) else [
        c for row in reply.get("components") or [] for c in row.get("components", [])]
    for b in buttons:
        if b.get("label") == label or (b.get("label") or "").startswith(label):
            return b["custom_id"]
    raise AssertionError(f"no button {label!r}; has {[b.get('label') for b in buttons]}")


async def settled(reply: InteractionReply) -> dict[str, Any]:
    """The message a deferred answer ends up as (the first follow-up after a thinking
    defer, the edit after a deferred update), as the student sees it."""
    if reply.callback_type == 5:
        await reply.wait_followup()
    elif reply.callback_type == 6:
        await reply.wait_edit()
    message = reply.message
    assert message is not None, f"{reply.description} left no message"
    return message


class MovableClock:
    """The bot's clock in study tests: starts at ``start`` and moves when told."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


async def lookups_counted(h: BotHarness, member: FakeMember, slug: str, count: int) -> None:
    """Wait for a lookup to be counted: that happens after the answer, in discord.py's
    completion event, a task of its own."""
    for _ in range(80):
        rows = await h.bot.store.db.reader.execute_fetchall(
            "SELECT count FROM study_lookups WHERE user_id = ? AND slug = ?", (member.id, slug))
        if rows and rows[0][0] >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the lookup of {slug} by {member.username} was not counted")
