"""The history of every term: who changed which sections when, with the text before and
after, so an editor can see recent changes and restore an earlier version.

Every way a term changes records here (a reload, an edit, an import, an applied
suggestion, a restore, which is itself a change). Each entry keeps whole terms as the
JSON the store keeps (``bot.models.term_json``), so restoring is writing one back.

The table is migration 7 (``bot.storage.migrations``), and migration 8 gives every row
its glossary: slugs are only unique within one glossary, so every read names the
glossary it is about. ``store.history`` is this class.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import term_from_json, term_json
from bot.sections import SECTIONS
from bot.storage.glossary import DEFAULT_GLOSSARY_ID
from bot.storage.sql import Shared

SOURCES = ("reload", "edit", "import", "suggestion", "restore")
RECENT = 10
_COLUMNS = ("id, slug, at, source, actor_id, actor_name, credited_id, before, after, "
            "glossary_id")

def changed_sections(before: Any | None, after: Any | None) -> tuple[str, ...]:
    """The keys whose value differs; every section the existing side has when a term is
    added or removed."""
    if before is None or after is None:
        term = after if before is None else before
        return tuple(s.key for s in SECTIONS if getattr(term, s.key))
    return tuple(s.key for s in SECTIONS if getattr(before, s.key) != getattr(after, s.key))


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of one term. ``before`` and ``after`` are Terms (None: added/removed)."""

    slug: str
    source: str
    before: Any | None
    after: Any | None
    actor_id: int | None = None
    actor_name: str = ""
    credited_id: int | None = None
    at: float = 0.0
    id: int = 0
    glossary_id: int = DEFAULT_GLOSSARY_ID

    @property
    def sections(self) -> tuple[str, ...]:
        return changed_sections(self.before, self.after)


class History:
    """Shared state (``bot.storage.sql``): every process's edits in one history."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def record(self, entries: Sequence[HistoryEntry]) -> None:
        """Record many changes at once (a reload or an import is one transaction)."""
        now = time.time()
        rows = [(e.glossary_id, e.slug, e.at or now, e.source, e.actor_id, e.actor_name,
                 e.credited_id, json.dumps(e.sections),
                 term_json(e.before) if e.before else None,
                 term_json(e.after) if e.after else None)
                for e in entries if e.source in SOURCES and (e.sections or e.after is None)]
        if not rows:
            return
        async with self._shared.transaction() as db:
            await db.executemany(
                "INSERT INTO term_history (glossary_id, slug, at, source, actor_id, "
                "actor_name, credited_id, sections, before, after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows)

    async def recent(self, slug: str, limit: int = RECENT, *,
                     glossary_id: int = DEFAULT_GLOSSARY_ID, offset: int = 0
                     ) -> list[HistoryEntry]:
        """The term's latest changes in one glossary, newest first (``offset`` pages)."""
        rows = await self._shared.fetch(
            f"SELECT {_COLUMNS} FROM term_history WHERE glossary_id = ? AND slug = ? "
            "ORDER BY id DESC LIMIT ? OFFSET ?", (glossary_id, slug, limit, offset))
        return [_entry(row) for row in rows]

    async def count(self, slug: str, *, glossary_id: int = DEFAULT_GLOSSARY_ID) -> int:
        """How many changes of the term one glossary has recorded (for paging)."""
        rows = await self._shared.fetch(
            "SELECT count(*) FROM term_history WHERE glossary_id = ? AND slug = ?",
            (glossary_id, slug))
        return int(rows[0][0])

    async def removed(self, prefix: str, *, glossary_id: int = DEFAULT_GLOSSARY_ID,
                      limit: int = 5) -> list[HistoryEntry]:
        """Removals that are still a term's latest change, slugs starting with ``prefix``
        (a slug: letters, digits, hyphens): a removed term can still be restored."""
        rows = await self._shared.fetch(
            f"SELECT {_COLUMNS} FROM term_history AS h WHERE glossary_id = ? AND after IS "
            "NULL AND slug LIKE ? AND id = (SELECT max(id) FROM term_history WHERE "
            "glossary_id = h.glossary_id AND slug = h.slug) ORDER BY slug LIMIT ?",
            (glossary_id, prefix.replace("%", "").replace("_", "") + "%", limit))
        return [_entry(row) for row in rows]

    async def entry(self, entry_id: int, *, glossary_id: int | None = None
                    ) -> HistoryEntry | None:
        """One change by id; with ``glossary_id``, only if it is that glossary's (a button
        from one server must not restore another glossary's text)."""
        rows = await self._shared.fetch(
            f"SELECT {_COLUMNS} FROM term_history WHERE id = ?", (entry_id,))
        if not rows:
            return None
        found = _entry(rows[0])
        if glossary_id is not None and found.glossary_id != glossary_id:
            return None
        return found


def _entry(row: Sequence[Any]) -> HistoryEntry:
    (entry_id, slug, at, source, actor_id, actor_name, credited_id, before, after,
     glossary_id) = row
    return HistoryEntry(
        slug, source, term_from_json(before) if before else None,
        term_from_json(after) if after else None, actor_id, actor_name, credited_id, at,
        entry_id, glossary_id)
