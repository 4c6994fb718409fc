"""The history of every term: who changed which sections when, with the text before and
after, so an editor can see recent changes and restore an earlier version.

Every way a term changes records here (a reload, an edit, an import, an applied
suggestion, a restore, which is itself a change). Each entry keeps whole terms as the
JSON the store keeps (``bot.models.term_json``), so restoring is writing one back.

The table is migration 7 (``bot.storage.migrations``), and migration 8 gives every row
its glossary: slugs are only unique within one glossary, so every read names the
glossary it is about. ``store.history`` is this class.

A reload records itself, inside its own write transaction, whatever started it (a file
edited on disk then /glossary reload, the watcher, a restart that found saved files):
``keep_replaced`` copies the JSON of each term the reload deletes into a temporary table
as it deletes it, and ``record_reload`` then writes one row per added, changed and
removed term in one INSERT ... SELECT, comparing sections in SQL, so no term's text ever
reaches Python (a reload written by a worker process records the same way). Who ran it
is added afterwards (``attribute``: the moderator, "auto-reload", "start-up"); an edit,
import, restore or suggestion that ran the reload claims its rows (``record``), so one
change is one entry. With PostgreSQL the history is shared: the reload computes the same
rows in its local transaction (``reload_rows``) and its reloader writes them there once it
committed (``History.insert_reload``), so every process sees them. The very first load
of a glossary (nothing was loaded before) records nothing: every term would be "added" by
nobody, with no earlier version to restore, and a 10,000-term load would write its whole
text twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.models import term_from_json, term_json
from bot.sections import SECTIONS
from bot.storage.glossary import DEFAULT_GLOSSARY_ID
from bot.storage.sql import Shared

SOURCES = ("reload", "edit", "import", "suggestion", "restore")
RECENT = 10
# Who ran a reload no person ran, as the term history names it.
AUTO_RELOAD = "auto-reload (a term file was saved)"
START_UP = "start-up (term files saved while the bot was stopped)"
# An edit, import or restore claims the rows its own reload recorded moments before (the
# watcher may have run that reload first); older reload rows are left as they are.
CLAIM_SECONDS = 120.0
_CLAIM_CHUNK = 500  # slugs per query (SQLite allows 32,766 parameters, PostgreSQL 65,535)
_KEYS = json.dumps([s.key for s in SECTIONS])

# The reload's deleted terms, as they were, until its history is written (temporary:
# this connection's own, gone with it; rolled back with a refused reload).
_REPLACED_TABLE = ("CREATE TEMP TABLE IF NOT EXISTS reload_replaced "
                   "(slug TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, data TEXT NOT NULL)")
_KEEP_REPLACED_SQL = """
INSERT OR IGNORE INTO temp.reload_replaced(slug, fingerprint, data)
SELECT t.slug, t.fingerprint, d.data FROM terms t JOIN term_data d ON d.term_id = t.id
WHERE t.id IN (SELECT value FROM json_each(?))
"""
# One row per added (no old version), changed (fingerprints differ) and removed (no new
# row) term; a section changed when its JSON value differs, and an added or removed
# term's sections are those with a value, as ``changed_sections`` decides in Python.
_RELOAD_ROWS_SQL = """
SELECT ?1, slug, ?3, 'reload', NULL, '', NULL, sections, before, after FROM (
  SELECT slug, before, after, CASE WHEN before IS NULL OR after IS NULL THEN
      (SELECT json_group_array(k.value) FROM json_each(?4) k WHERE coalesce(json_extract(
          coalesce(after, before), '$.' || k.value), '') NOT IN ('', '[]'))
    ELSE (SELECT json_group_array(k.value) FROM json_each(?4) k
          WHERE json_extract(before, '$.' || k.value) IS NOT json_extract(after, '$.' || k.value))
    END AS sections
  FROM (
    SELECT t.slug, o.data AS before, d.data AS after
    FROM terms t JOIN term_data d ON d.term_id = t.id
    LEFT JOIN temp.reload_replaced o ON o.slug = t.slug
    WHERE t.glossary_id = ?1 AND t.id >= ?2 AND (o.slug IS NULL OR o.fingerprint <> t.fingerprint)
    UNION ALL
    SELECT o.slug, o.data, NULL FROM temp.reload_replaced o
    WHERE NOT EXISTS (SELECT 1 FROM terms t WHERE t.glossary_id = ?1 AND t.slug = o.slug
                      AND t.id >= ?2)
  )
) WHERE after IS NULL OR sections <> '[]'
"""
_RECORD_RELOAD_SQL = """
INSERT INTO term_history (glossary_id, slug, at, source, actor_id, actor_name, credited_id,
                          sections, before, after)""" + _RELOAD_ROWS_SQL
# With PostgreSQL, a reload's rows (computed in its local transaction) go in after it
# committed, one statement, under a lock so that one reload's rows are the only reload
# rows between its first and last id (``attribute`` names who ran it by that range).
_HISTORY_LOCK = 0x686973746F7279  # "history"
_INSERT_RELOAD_PG = """
INSERT INTO term_history (glossary_id, slug, at, source, actor_id, actor_name, credited_id,
                          sections, before, after)
SELECT g, s, a, 'reload', NULL, '', NULL, sec, b, af
FROM unnest(?::integer[], ?::text[], ?::double precision[], ?::text[], ?::text[],
            ?::text[]) AS u(g, s, a, sec, b, af)
RETURNING id
"""
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


async def keep_replaced(db: aiosqlite.Connection, term_ids: Sequence[int]) -> None:
    """Keep the JSON of terms a reload is about to delete, for ``record_reload``; in the
    reload's transaction, before the DELETE (the hook in ``bot.storage.reload``)."""
    if not term_ids:
        return
    await db.execute(_REPLACED_TABLE)
    await db.execute(_KEEP_REPLACED_SQL, (json.dumps(list(term_ids)),))


async def forget_replaced(db: aiosqlite.Connection) -> None:
    """Drop what ``keep_replaced`` kept for anything but the reload about to run: terms
    deleted outside a reload (a published copy applied, a glossary forgotten) are no
    reload's "before", and must not appear as removed by the next one."""
    await db.execute(_REPLACED_TABLE)
    await db.execute("DELETE FROM temp.reload_replaced")


async def record_reload(db: aiosqlite.Connection, glossary_id: int, first_new_id: int,
                        at: float) -> tuple[int, int] | None:
    """Write the history of a reload in its transaction, once every chunk is written:
    the new rows are ``terms`` from ``first_new_id`` on, the old ones those
    ``keep_replaced`` kept. The (first, last) ids of the rows written, or None."""
    await db.execute(_REPLACED_TABLE)
    cursor = await db.execute(_RECORD_RELOAD_SQL, (glossary_id, first_new_id, at, _KEYS))
    count = cursor.rowcount
    last = cursor.lastrowid
    await db.execute("DELETE FROM temp.reload_replaced")
    if count <= 0 or not last:
        return None
    return (last - count + 1, last)


async def reload_rows(db: aiosqlite.Connection, glossary_id: int, first_new_id: int,
                      at: float) -> list[tuple[Any, ...]]:
    """``record_reload``'s rows, read instead of written (PostgreSQL mode: the history is
    shared, so ``History.insert_reload`` writes them there once the reload committed):
    (glossary_id, slug, at, source, actor_id, actor_name, credited_id, sections, before,
    after) each."""
    await db.execute(_REPLACED_TABLE)
    rows = await db.execute_fetchall(_RELOAD_ROWS_SQL, (glossary_id, first_new_id, at, _KEYS))
    await db.execute("DELETE FROM temp.reload_replaced")
    return [tuple(row) for row in rows]


class History:
    """Shared state (``bot.storage.sql``): every process's edits in one history."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def attribute(self, ids: tuple[int, int] | None, actor_name: str,
                        actor_id: int | None = None) -> None:
        """Name who ran a reload on the rows it recorded (``ReloadDiff.history_ids``): the
        moderator who ran /glossary reload, or what ran it ("auto-reload", "start-up")."""
        if ids is None:
            return
        async with self._shared.transaction() as db:
            await db.execute(
                "UPDATE term_history SET actor_id = ?, actor_name = ? WHERE id BETWEEN ? "
                "AND ? AND source = 'reload'", (actor_id, actor_name, *ids))

    async def insert_reload(self, rows: Sequence[Sequence[Any]]) -> tuple[int, int] | None:
        """Write a reload's rows (``reload_rows``) to PostgreSQL; their (first, last) ids,
        as ``record_reload`` gives them in SQLite mode."""
        if not rows:
            return None
        async with self._shared.transaction() as db:
            await db.execute("SELECT pg_advisory_xact_lock(?)", (_HISTORY_LOCK,))
            ids = await db.fetch(_INSERT_RELOAD_PG, (
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                [r[7] for r in rows], [r[8] for r in rows], [r[9] for r in rows]))
        found = [row[0] for row in ids]
        return (min(found), max(found))

    async def record(self, entries: Sequence[HistoryEntry]) -> None:
        """Record many changes at once (an import is one transaction).

        A change that an edit, import or restore made through a reload was recorded by
        that reload already: the entry then claims the reload's row (its source, actor
        and credit replace the reload's; the before and after the reload read from the
        database stay). Only a reload row no person ran (actor_id NULL), at most
        ``CLAIM_SECONDS`` old, that is the term's latest change and agrees on whether the
        term still exists, is claimed."""
        now = time.time()
        wanted = [e for e in entries
                  if e.source in SOURCES and (e.sections or e.after is None)]
        if not wanted:
            return
        async with self._shared.transaction() as db:
            claimable = await _claimable(db, wanted, now - CLAIM_SECONDS)
            claims, rows = [], []
            for e in wanted:
                claimed = claimable.get((e.glossary_id, e.slug))
                if claimed is not None and claimed[1] == (e.after is None):
                    claims.append((e.source, e.actor_id, e.actor_name, e.credited_id,
                                   claimed[0]))
                    continue
                rows.append((e.glossary_id, e.slug, e.at or now, e.source, e.actor_id,
                             e.actor_name, e.credited_id, json.dumps(e.sections),
                             term_json(e.before) if e.before else None,
                             term_json(e.after) if e.after else None))
            if claims:
                await db.executemany(
                    "UPDATE term_history SET source = ?, actor_id = ?, actor_name = ?, "
                    "credited_id = ? WHERE id = ?", claims)
            if rows:
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


async def _claimable(db: Any, entries: Sequence[HistoryEntry], since: float
                     ) -> dict[tuple[int, str], tuple[int, bool]]:
    """(glossary id, slug) -> (id, removed) of each entry's latest change, where that is a
    recent reload row no person ran."""
    found: dict[tuple[int, str], tuple[int, bool]] = {}
    by_glossary: dict[int, list[str]] = {}
    for e in entries:
        by_glossary.setdefault(e.glossary_id, []).append(e.slug)
    # Plain placeholders, no json_each: the same statement on PostgreSQL, where the
    # history may live once shared state can (issue 20).
    for glossary_id, slugs in by_glossary.items():
        for start in range(0, len(slugs), _CLAIM_CHUNK):
            part = slugs[start:start + _CLAIM_CHUNK]
            rows = await db.fetch(
                "SELECT h.slug, h.id, h.after IS NULL FROM term_history h "
                f"WHERE h.glossary_id = ? AND h.slug IN ({', '.join('?' * len(part))}) "
                "AND h.id = (SELECT max(id) FROM term_history WHERE glossary_id = "
                "h.glossary_id AND slug = h.slug) AND h.source = 'reload' AND "
                "h.actor_id IS NULL AND h.at >= ?", (glossary_id, *part, since))
            found.update({(glossary_id, slug): (entry_id, bool(removed))
                          for slug, entry_id, removed in rows})
    return found


def _entry(row: Sequence[Any]) -> HistoryEntry:
    (entry_id, slug, at, source, actor_id, actor_name, credited_id, before, after,
     glossary_id) = row
    return HistoryEntry(
        slug, source, term_from_json(before) if before else None,
        term_from_json(after) if after else None, actor_id, actor_name, credited_id, at,
        entry_id, glossary_id)
