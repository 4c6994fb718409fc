"""Glossary ids: one per name, the same in every process (PostgreSQL mode, issue 20).

Shared rows (usage, misses, history, suggestions, quizzes, daily posts, study) name their
glossary by id. In SQLite mode the one database hands ids out and every process reads
the same table. With PostgreSQL each process has its own local index, so an id handed
out locally would depend on the order a process's config lists its glossaries (or on
which process ran ``/glossary create``): the ids come from PostgreSQL's ``glossaries``
table instead (PG migration 3), and the local index is made to use them. The local
index is only a cache: a local glossary whose id disagrees loses its local terms and its
published version, and is filled again from what is published (``bot.publishing``) or
by the next reload from its files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.storage.database import Database
from bot.storage.history import forget_replaced
from bot.storage.reload import _delete_terms
from bot.storage.sql import Shared

log = logging.getLogger(__name__)


async def shared_ids(shared: Shared, names: Sequence[str]) -> dict[str, int]:
    """Each name's id in PostgreSQL, given out now to a name that has none."""
    async with shared.transaction() as db:
        await db.executemany(
            "INSERT INTO glossaries(name) VALUES (?) ON CONFLICT (name) DO NOTHING",
            [(name,) for name in names])
        rows = await db.fetch(
            f"SELECT id, name FROM glossaries WHERE name IN ({', '.join('?' * len(names))})",
            list(names))
    return {name: int(glossary_id) for glossary_id, name in rows}


async def align_local(db: Database, ids: Mapping[str, int]) -> list[str]:
    """Make the local ``glossaries`` table hold exactly these (name, id) pairs, one
    transaction; a local glossary under another id (or another glossary under one of
    these ids) is forgotten locally first. The names forgotten (their terms were only
    cached), usually none."""
    wanted_ids = {glossary_id: name for name, glossary_id in ids.items()}
    forgotten: list[str] = []
    rows = await db.reader.execute_fetchall("SELECT id, name FROM glossaries")
    stale = [(glossary_id, name) for glossary_id, name in rows
             if (name in ids and ids[name] != glossary_id)
             or (glossary_id in wanted_ids and wanted_ids[glossary_id] != name)]
    present = {(glossary_id, name) for glossary_id, name in rows}
    missing = [(glossary_id, name) for name, glossary_id in ids.items()
               if (glossary_id, name) not in present]
    if not stale and not missing:
        return forgotten
    async with db.transaction() as connection:
        for glossary_id, name in stale:
            terms = await connection.execute_fetchall(
                "SELECT id FROM terms WHERE glossary_id = ?", (glossary_id,))
            await _delete_terms(connection, [term_id for (term_id,) in terms])
            await connection.execute("DELETE FROM server_glossaries WHERE glossary_id = ?",
                                     (glossary_id,))
            await connection.execute("DELETE FROM glossaries WHERE id = ?", (glossary_id,))
            await connection.execute("DELETE FROM meta WHERE key = ?", (f"published:{name}",))
            forgotten.append(name)
        await forget_replaced(connection)
        await connection.executemany(
            "INSERT OR IGNORE INTO glossaries(id, name) VALUES (?, ?)", missing)
    if forgotten:
        log.warning("The local index held glossar%s %s under other ids than PostgreSQL's; "
                    "refilling %s from what is published", "y" if len(forgotten) == 1
                    else "ies", ", ".join(sorted(forgotten)),
                    "it" if len(forgotten) == 1 else "them")
    return forgotten
