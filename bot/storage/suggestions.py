"""Suggested fixes students send with "Suggest a fix": kept before they are posted.

A post to the moderators' channel can fail (the channel was deleted, or the bot lost a
permission there). What the student typed is saved first, so it is never lost: a failed
post stays readable with ``/glossary suggestions``.

Editors decide a suggestion from its post (Apply, Edit first, Dismiss). A decision is a
compare-and-set on ``status``, so two moderators clicking at once cannot both apply it:
``claim`` moves an open suggestion to ``applying`` (or straight to ``dismissed``) for
exactly one of them; ``settle`` ends an Apply, ``release`` gives it back when the save
failed.
"""

from __future__ import annotations

import time

from bot.models import SuggestedFix
from bot.storage.sql import Shared

LIST_LIMIT = 10
STATUSES = ("open", "applying", "applied", "dismissed")
_COLUMNS = ("id, guild_id, slug, title, author_id, author_name, section, problem, proposal, "
            "created_at, delivered, glossary_id, status, decided_by, decided_by_name, "
            "channel_id, post_channel_id, post_message_id")


def _fix(row: tuple) -> SuggestedFix:
    return SuggestedFix(*row[:10], bool(row[10]), *row[11:])


class Suggestions:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def add(self, guild_id: int, slug: str, title: str, author_id: int,
                  author_name: str, section: str, problem: str, proposal: str, *,
                  glossary_id: int | None = None, channel_id: int | None = None) -> int:
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "INSERT INTO suggestions(guild_id, slug, title, author_id, author_name, "
                "section, problem, proposal, created_at, glossary_id, channel_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, slug, title, author_id, author_name, section, problem, proposal,
                 time.time(), glossary_id, channel_id),
            )
        return int(rows[0][0])

    async def mark_delivered(self, suggestion_id: int, channel_id: int | None = None,
                             message_id: int | None = None) -> None:
        async with self._shared.transaction() as db:
            await db.execute(
                "UPDATE suggestions SET delivered = 1, post_channel_id = ?, "
                "post_message_id = ? WHERE id = ?", (channel_id, message_id, suggestion_id))

    async def get(self, suggestion_id: int) -> SuggestedFix | None:
        rows = await self._shared.fetch(
            f"SELECT {_COLUMNS} FROM suggestions WHERE id = ?", (suggestion_id,))
        return _fix(rows[0]) if rows else None

    async def claim(self, suggestion_id: int, status: str, by_id: int, by_name: str
                    ) -> bool:
        """Move an open suggestion to ``status`` ("applying" or "dismissed") for one
        editor; False when someone else decided it first (or is applying it)."""
        if status not in ("applying", "dismissed"):
            raise ValueError(status)
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "UPDATE suggestions SET status = ?, decided_by = ?, decided_by_name = ?, "
                "decided_at = ? WHERE id = ? AND status = 'open' RETURNING id",
                (status, by_id, by_name, time.time(), suggestion_id))
        return bool(rows)

    async def settle(self, suggestion_id: int) -> None:
        """An Apply was saved: the suggestion is applied, for good."""
        async with self._shared.transaction() as db:
            await db.execute("UPDATE suggestions SET status = 'applied', decided_at = ? "
                             "WHERE id = ? AND status = 'applying'",
                             (time.time(), suggestion_id))

    async def release(self, suggestion_id: int) -> None:
        """An Apply could not be saved: open again, for another try."""
        async with self._shared.transaction() as db:
            await db.execute("UPDATE suggestions SET status = 'open', decided_by = NULL, "
                             "decided_by_name = '', decided_at = NULL "
                             "WHERE id = ? AND status = 'applying'", (suggestion_id,))

    async def latest(self, guild_id: int, limit: int = LIST_LIMIT) -> list[SuggestedFix]:
        """This server's newest suggestions, the ones that never reached the channel first."""
        rows = await self._shared.fetch(
            f"SELECT {_COLUMNS} FROM suggestions WHERE guild_id = ? "
            "ORDER BY delivered, created_at DESC LIMIT ?",
            (guild_id, limit),
        )
        return [_fix(row) for row in rows]
