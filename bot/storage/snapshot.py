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

import logging
import sqlite3
from pathlib import Path
from typing import NamedTuple

from bot.storage.database import Database

log = logging.getLogger(__name__)


class StoredFile(NamedTuple):
    """One term file as the last good load read it."""

    mtime_ns: int
    size: int
    slug: str
    data: str  # the term's JSON (``bot.models.term_json``)
    keys: tuple[str, ...]  # the name keys of its slug, title and aliases


async def stored_terms(db: Database, glossary_id: int) -> dict[str, StoredFile]:
    """File name -> what its last load gave, for one glossary (read on the reader)."""
    rows = await db.reader.execute_fetchall(_STORED_SQL + "t.glossary_id = ?", (glossary_id,))
    return _by_file(rows)


_STORED_SQL = (
    "SELECT t.file, t.mtime_ns, t.size, t.slug, d.data, "
    "(SELECT group_concat(n.key, ' ') FROM names n WHERE n.term_id = t.id) "
    "FROM terms t JOIN term_data d ON d.term_id = t.id WHERE ")


def _by_file(rows: list) -> dict[str, StoredFile]:
    # A name key is letters and digits only (``bot.models.name_key``): spaces part them.
    return {file: StoredFile(mtime_ns, size, slug, data, tuple(keys.split(" ")) if keys else ())
            for file, mtime_ns, size, slug, data, keys in rows}


def read_stored_terms(path: Path, glossary: str) -> dict[str, StoredFile]:
    """The same for the glossary named ``glossary``, read-only straight from the bot's
    database file, for ``glossary-bot import``: the terminal must not migrate or write a
    database a running bot may be using. Empty (everything is parsed, as before) when the
    file is not there or cannot be read as one this version wrote."""
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        rows = db.execute(_STORED_SQL + "t.glossary_id = (SELECT id FROM glossaries "
                          "WHERE name = ?)", (glossary,)).fetchall()
    except sqlite3.DatabaseError as exc:  # older schema or damaged: parse every file
        log.info("Not using %s for the import preview (%s); parsing every file", path, exc)
        return {}
    finally:
        db.close()
    return _by_file(rows)
