"""Suggested fixes students send with "Suggest a fix": kept before they are posted.

A post to the moderators' channel can fail (the channel was deleted, or the bot lost a
permission there). What the student typed is saved first, so it is never lost: a failed
post stays readable with ``/glossary suggestions``.
"""

from __future__ import annotations

import time

from bot.models import SuggestedFix
from bot.storage.sql import Shared

LIST_LIMIT = 10


class Suggestions:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def add(self, guild_id: int, slug: str, title: str, author_id: int,
                  author_name: str, section: str, problem: str, proposal: str) -> int:
        async with self._shared.transaction() as db:
            rows = await db.fetch(
                "INSERT INTO suggestions(guild_id, slug, title, author_id, author_name, "
                "section, problem, proposal, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (guild_id, slug, title, author_id, author_name, section, problem, proposal,
                 time.time()),
            )
        return int(rows[0][0])

    async def mark_delivered(self, suggestion_id: int) -> None:
        async with self._shared.transaction() as db:
            await db.execute("UPDATE suggestions SET delivered = 1 WHERE id = ?",
                             (suggestion_id,))

    async def latest(self, guild_id: int, limit: int = LIST_LIMIT) -> list[SuggestedFix]:
        """This server's newest suggestions, the ones that never reached the channel first."""
        rows = await self._shared.fetch(
            "SELECT id, guild_id, slug, title, author_id, author_name, section, problem, "
            "proposal, created_at, delivered FROM suggestions WHERE guild_id = ? "
            "ORDER BY delivered, created_at DESC LIMIT ?",
            (guild_id, limit),
        )
        return [SuggestedFix(*row[:10], delivered=bool(row[10])) for row in rows]
