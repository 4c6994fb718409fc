"""The terms a glossary's files gave at its last load, by file: what an import preview
compares against without parsing every file again.

A reload stores each term with its file's size and modification time (migration 3), the
same test a reload uses to skip unchanged files. ``/glossary import`` previews a
10,000-row spreadsheet against the directory twice (the preview, then again on Import);
reading 10,000 stored terms is one query, where parsing 10,000 YAML files again took
seconds of worker-process time. ``bot.bulk_import`` parses only the files this does not
vouch for (saved since, or new).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.storage.database import Database


class StoredFile(NamedTuple):
    """One term file as the last good load read it."""

    mtime_ns: int
    size: int
    slug: str
    data: str  # the term's JSON (``bot.models.term_json``)
    keys: tuple[str, ...]  # the name keys of its slug, title and aliases


async def stored_terms(db: Database, glossary_id: int) -> dict[str, StoredFile]:
    """File name -> what its last load gave, for one glossary (read on the reader)."""
    rows = await db.reader.execute_fetchall(
        "SELECT t.file, t.mtime_ns, t.size, t.slug, d.data, "
        "(SELECT group_concat(n.key, ' ') FROM names n WHERE n.term_id = t.id) "
        "FROM terms t JOIN term_data d ON d.term_id = t.id WHERE t.glossary_id = ?",
        (glossary_id,))
    # A name key is letters and digits only (``bot.models.name_key``): spaces part them.
    return {file: StoredFile(mtime_ns, size, slug, data, tuple(keys.split(" ")) if keys else ())
            for file, mtime_ns, size, slug, data, keys in rows}
