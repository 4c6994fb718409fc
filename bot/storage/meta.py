"""Meta every process must agree on, such as the hash of the slash commands last synced.

On SQLite it is the database's ``meta`` table (``Database.get_meta`` reads the same rows);
with PostgreSQL, the shared one, so a second process does not sync commands again.
"""

from __future__ import annotations

from bot.storage.sql import Shared


class Meta:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def get(self, key: str) -> str | None:
        rows = await self._shared.fetch("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set(self, key: str, value: str) -> None:
        async with self._shared.transaction() as db:
            await db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                             (key, value))
