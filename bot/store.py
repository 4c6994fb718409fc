"""The store: one object that opens and closes the database and exposes its pieces.

Callers use the piece they need: ``store.glossary.card(...)`` (the default glossary;
``store.glossary_named(name)`` or ``store.glossary_by_id(id)`` for another, once
``await store.use_glossaries(names)`` registered them),
``store.records.record_lookup(...)``, ``store.reloads.reload(directory)``,
``store.db.get_meta(...)``. The SQL lives in ``bot.storage``; a reload's parsing and
checks in ``bot.reloading``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.reloading import Reloader
from bot.storage.database import Database
from bot.storage.glossary import DEFAULT_GLOSSARY_ID, Glossary
from bot.storage.history import History
from bot.storage.records import Records
from bot.storage.reload import Reloads
from bot.storage.snapshot import StoredFile, stored_terms
from bot.storage.study import Study
from bot.storage.suggestions import Suggestions


class Store:
    """The one gateway to the database; open with ``await Store.open(path)``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.records = Records(db)
        self.suggestions = Suggestions(db)
        self.study = Study(db)  # each student's saved terms, reviews and reminders
        self.history = History(db)  # who changed which term when (issue 19)
        self._by_id: dict[int, tuple[Glossary, Reloader]] = {}
        self._by_name: dict[str, int] = {}
        self.glossary, self.reloads = self._add(DEFAULT_GLOSSARY_ID, "default")

    def _add(self, glossary_id: int, name: str) -> tuple[Glossary, Reloader]:
        """One Glossary (its own name index and card cache) and one Reloader (its own
        lock: reloads of different glossaries do not wait for each other) per glossary."""
        if glossary_id not in self._by_id:
            glossary = Glossary(self.db, glossary_id, name)
            self._by_id[glossary_id] = (glossary, Reloader(Reloads(self.db, glossary)))
        self._by_name[name] = glossary_id
        return self._by_id[glossary_id]

    async def use_glossaries(self, names: Iterable[str], default: str = "default") -> None:
        """Register glossaries by name (a new name gets a new id; a known one keeps its
        terms) and make ``default`` the one ``store.glossary`` and ``store.reloads``
        serve. One transaction, however many names."""
        names = list(dict.fromkeys([default, *names]))
        async with self.db.transaction() as db:
            await db.executemany("INSERT OR IGNORE INTO glossaries(name) VALUES (?)",
                                 [(name,) for name in names])
            rows = await db.execute_fetchall("SELECT id, name FROM glossaries")
        ids = {name: glossary_id for glossary_id, name in rows}
        for name in names:
            self._add(ids[name], name)
        self.glossary, self.reloads = self._by_id[ids[default]]

    async def stored_terms(self, glossary_id: int) -> dict[str, StoredFile]:
        """Each term file of a glossary as its last good load read it (an import preview
        then parses only the files saved since: ``bot.storage.snapshot``)."""
        return await stored_terms(self.db, glossary_id)

    def glossary_named(self, name: str) -> Glossary:
        """A registered glossary; KeyError for a name never registered."""
        return self._by_id[self._by_name[name]][0]

    def glossary_by_id(self, glossary_id: int) -> Glossary | None:
        found = self._by_id.get(glossary_id)
        return found[0] if found else None

    def reloader(self, name: str) -> Reloader:
        return self._by_id[self._by_name[name]][1]

    @property
    def glossaries(self) -> list[Glossary]:
        return [glossary for glossary, _ in self._by_id.values()]

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Buffered usage counts are written, background tasks end, then the connections
        close (aiosqlite threads are not daemons and would keep the process alive)."""
        for glossary in self.glossaries:
            await glossary.close()
        await self.records.close()
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
