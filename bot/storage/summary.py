"""Every glossary in one query: its terms, last reload and content version, for the
metrics endpoint and ``glossary-bot doctor`` (one line per glossary, not only the
default one's)."""

from __future__ import annotations

from typing import NamedTuple

from bot.storage.database import Database


class GlossarySummary(NamedTuple):
    """One glossary as the database has it."""

    name: str
    terms: int
    last_reload_at: float | None  # when a reload last succeeded (time.time())
    version: str | None  # the content version: when its content last changed

    @property
    def changed_at(self) -> float | None:
        """The content version as a time, if it is one (versions are ``str(time.time())``
        since migration 6; an older database may hold another token)."""
        try:
            return float(self.version) if self.version else None
        except ValueError:
            return None


async def glossary_summaries(db: Database) -> list[GlossarySummary]:
    """Every glossary the database knows, by name."""
    rows = await db.reader.execute_fetchall(
        "SELECT g.name, (SELECT count(*) FROM terms t WHERE t.glossary_id = g.id), "
        "g.last_reload_at, g.version FROM glossaries g ORDER BY g.name")
    return [GlossarySummary(name, terms, last, version) for name, terms, last, version in rows]
