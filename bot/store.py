"""The store: one object that opens and closes the database and exposes its pieces.

Callers use the piece they need: ``store.glossary.card(...)``,
``store.records.record_lookup(...)``, ``store.reloads.reload(directory)``,
``store.db.get_meta(...)``. The SQL lives in ``bot.storage``; a reload's parsing and
checks in ``bot.reloading``.
"""

from __future__ import annotations

from pathlib import Path

from bot.reloading import Reloader
from bot.storage.database import Database
from bot.storage.glossary import Glossary
from bot.storage.records import Records
from bot.storage.reload import Reloads
from bot.storage.study import Study
from bot.storage.suggestions import Suggestions


class Store:
    """The one gateway to the database; open with ``await Store.open(path)``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.glossary = Glossary(db)
        self.records = Records(db)
        self.suggestions = Suggestions(db)
        self.study = Study(db)  # each student's saved terms, reviews and reminders
        self.reloads = Reloader(Reloads(db, self.glossary))

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Buffered usage counts are written, background tasks end, then the connections
        close (aiosqlite threads are not daemons and would keep the process alive)."""
        await self.glossary.close()
        await self.records.close()
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
