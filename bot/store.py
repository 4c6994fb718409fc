"""The store: one object that opens and closes the database and exposes its pieces.

Callers use the piece they need: ``store.glossary.card(...)`` (the default glossary;
``store.glossary_named(name)`` or ``store.glossary_by_id(id)`` for another, once
``await store.use_glossaries(names)`` registered them),
``store.records.record_lookup(...)``, ``store.reloads.reload(directory)``,
``store.meta.get(...)``. The SQL lives in ``bot.storage``; a reload's parsing and
checks in ``bot.reloading``.

With ``database_url`` (``Store.open(path, database_url=...)``), the state every process
must agree on (records, suggestions, study, history, meta) lives in PostgreSQL, through
``store.pg``; ``path`` is then this process's own SQLite database, its read index.
Without it everything is in the one SQLite file, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.reloading import Reloader
from bot.storage.database import Database
from bot.storage.glossary import DEFAULT_GLOSSARY_ID, Glossary
from bot.storage.glossary_ids import align_local, shared_ids
from bot.storage.history import History
from bot.storage.identify import IdentifySlots
from bot.storage.meta import Meta
from bot.storage.records import Records
from bot.storage.reload import Reloads
from bot.storage.server_glossaries import ServerGlossaries
from bot.storage.snapshot import StoredFile, stored_terms
from bot.storage.sql import PgShared, Shared, SqliteShared
from bot.storage.study import Study
from bot.storage.suggestions import Suggestions

if TYPE_CHECKING:  # asyncpg is imported only when PostgreSQL is used
    from bot.config import Config
    from bot.storage.postgres import PgDatabase


class Store:
    """The one gateway to the database; open with ``await Store.open(path)``."""

    def __init__(self, db: Database, pg: PgDatabase | None = None) -> None:
        self.db = db
        self.pg = pg  # PostgreSQL, when the shared state lives there
        self.shared: Shared = PgShared(pg) if pg is not None else SqliteShared(db)
        self.records = Records(self.shared, db)
        self.suggestions = Suggestions(self.shared)
        self.study = Study(self.shared, db)  # each student's saved terms, reviews, reminders
        self.history = History(self.shared)  # who changed which term when (issue 19)
        self.meta = Meta(self.shared)  # e.g. the command-sync hash
        self.server_glossaries = ServerGlossaries(db, pg)  # /glossary create (issue 19)
        self.identify = IdentifySlots(self.shared)  # gateway starts, paced across processes
        self._by_id: dict[int, tuple[Glossary, Reloader]] = {}
        self._by_name: dict[str, int] = {}
        self.glossary, self.reloads = self._add(DEFAULT_GLOSSARY_ID, "default")

    def _add(self, glossary_id: int, name: str) -> tuple[Glossary, Reloader]:
        """One Glossary (its own name index and card cache) and one Reloader (its own
        lock: reloads of different glossaries do not wait for each other) per glossary."""
        found = self._by_id.get(glossary_id)
        if found is None or found[0].name != name:
            # (With PostgreSQL an id is PostgreSQL's: the placeholder "default" at id 1 or
            # a glossary known here under another id gives way.)
            if found is not None and self._by_name.get(found[0].name) == glossary_id:
                del self._by_name[found[0].name]
            glossary = Glossary(self.db, glossary_id, name)
            reloads = Reloads(self.db, glossary)
            reloader = Reloader(reloads)
            if self.pg is not None:  # a reload's history goes to the shared history
                reloads.defer_history = True
                reloader.history_sink = self.history.insert_reload
            self._by_id[glossary_id] = (glossary, reloader)
        self._by_name[name] = glossary_id
        return self._by_id[glossary_id]

    async def use_glossaries(self, names: Iterable[str], default: str = "default") -> None:
        """Register glossaries by name (a new name gets a new id; a known one keeps its
        terms) and make ``default`` the one ``store.glossary`` and ``store.reloads``
        serve. One transaction, however many names. With PostgreSQL the ids are
        PostgreSQL's (``bot.storage.glossary_ids``), so every process agrees on them."""
        names = list(dict.fromkeys([default, *names]))
        if self.pg is not None:
            ids = await shared_ids(self.shared, names)
            await align_local(self.db, ids)
            for name in names:
                self._add(ids[name], name)
            self.glossary, self.reloads = self._by_id[ids[default]]
            return
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

    def forget(self, name: str) -> None:
        """Stop serving a glossary removed elsewhere (``glossary-bot glossaries remove``):
        a card button naming its id then says the glossary has gone."""
        glossary_id = self._by_name.pop(name, None)
        if glossary_id is not None and glossary_id not in self._by_name.values():
            self._by_id.pop(glossary_id, None)

    @property
    def glossaries(self) -> list[Glossary]:
        return [glossary for glossary, _ in self._by_id.values()]

    @classmethod
    async def open(cls, path: Path | str, *, database_url: str | None = None,
                   pool_size: int = 10) -> Store:
        """Open (and migrate) the SQLite database at ``path`` and, with ``database_url``,
        a pool of up to ``pool_size`` connections to PostgreSQL (SharedStateUnavailable
        when it cannot be reached)."""
        pg = None
        if database_url is not None:
            from bot.storage.postgres import PgDatabase

            pg = await PgDatabase.open(database_url, max_size=pool_size)
        try:
            db = await Database.open(path)
        except BaseException:
            if pg is not None:
                await pg.close()
            raise
        return cls(db, pg)

    @classmethod
    async def open_for(cls, config: Config) -> Store:
        """The store ``glossary-bot run`` serves from: the SQLite database alone, or with
        ``database_url`` PostgreSQL plus ``local_index`` as this process's own file."""
        if config.database_url is None:
            return await cls.open(config.database)
        return await cls.open(config.local_index, database_url=config.database_url,
                              pool_size=config.database_pool_size)

    async def close(self) -> None:
        """Buffered usage counts are written, background tasks end, then the connections
        close (aiosqlite threads are not daemons and would keep the process alive)."""
        try:
            for glossary in self.glossaries:
                await glossary.close()
            await self.records.close()
            await self.study.close()
        finally:
            await self.db.close()
            if self.pg is not None:
                await self.pg.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
