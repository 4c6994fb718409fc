"""Every glossary in one query: its terms, last reload and content version, for the
metrics endpoint and ``glossary-bot doctor`` (one line per glossary, not only the
default one's)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

from bot.storage.database import Database

_SUMMARY_SQL = ("SELECT g.name, (SELECT count(*) FROM terms t WHERE t.glossary_id = g.id), "
                "g.last_reload_at, g.version FROM glossaries g ORDER BY g.name")


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
    rows = await db.reader.execute_fetchall(_SUMMARY_SQL)
    return [GlossarySummary(name, terms, last, version) for name, terms, last, version in rows]


def read_summaries(path: Path) -> dict[str, GlossarySummary] | None:
    """The same, read-only straight from the file, for ``glossary-bot doctor`` (which
    must not migrate or write a database the bot may be using); None when the file is
    not there, cannot be read (the database line says why) or predates per-server
    glossaries (migration 6)."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        rows = db.execute(_SUMMARY_SQL).fetchall()
    except sqlite3.DatabaseError:  # no glossaries table yet, or damaged (its own line)
        return None
    finally:
        db.close()
    return {name: GlossarySummary(name, terms, last, version)
            for name, terms, last, version in rows}
