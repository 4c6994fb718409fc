"""The servers' own glossaries (``/glossary create``): made, listed and removed.

Making one is one transaction: the glossary's row, the server's claim on it (one per
server: ``guild_id`` is unique), and for a copy every term of the glossary the server used,
copied row for row (names, links, full-text) without parsing anything again. Removing one
deletes its terms and frees its name; its id is never given to another glossary, so a
card button from it says the glossary has gone rather than opening someone else's term.
"""

from __future__ import annotations

import time

from bot.errors import GlossaryNameTaken, GlossaryNotFound, ServerHasGlossary
from bot.server_glossaries import ServerGlossary
from bot.storage.database import Database
from bot.storage.reload import _delete_terms

_SELECT = ("SELECT s.glossary_id, g.name, s.guild_id, s.course_name, s.created_by, "
           "s.created_by_name, s.copied_from, s.created_at, "
           "(SELECT count(*) FROM terms t WHERE t.glossary_id = s.glossary_id) "
           "FROM server_glossaries s JOIN glossaries g ON g.id = s.glossary_id")
# Every term of glossary ?1 into glossary ?2, matched by slug (unique per glossary).
_COPY = (
    "INSERT INTO terms(glossary_id, slug, file, mtime_ns, size, fingerprint, "
    "names_fingerprint, title, category) SELECT ?2, slug, file, mtime_ns, size, fingerprint, "
    "names_fingerprint, title, category FROM terms WHERE glossary_id = ?1 ORDER BY id",
    "INSERT INTO term_data(term_id, data) SELECT n.id, d.data FROM terms o "
    "JOIN term_data d ON d.term_id = o.id JOIN terms n ON n.glossary_id = ?2 "
    "AND n.slug = o.slug WHERE o.glossary_id = ?1",
    "INSERT INTO names(glossary_id, key, term_id, name, kind, line, words) "
    "SELECT ?2, m.key, n.id, m.name, m.kind, m.line, m.words FROM names m "
    "JOIN terms o ON o.id = m.term_id JOIN terms n ON n.glossary_id = ?2 "
    "AND n.slug = o.slug WHERE o.glossary_id = ?1",
    "INSERT INTO links(term_id, position, target, line) "
    "SELECT n.id, l.position, l.target, l.line FROM links l "
    "JOIN terms o ON o.id = l.term_id JOIN terms n ON n.glossary_id = ?2 "
    "AND n.slug = o.slug WHERE o.glossary_id = ?1",
    "INSERT INTO terms_fts(rowid, title, aliases, body) SELECT id, title, aliases, body "
    "FROM term_text WHERE id IN (SELECT id FROM terms WHERE glossary_id = ?2)",
)


class ServerGlossaries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[ServerGlossary]:
        rows = await self._db.reader.execute_fetchall(_SELECT + " ORDER BY g.name")
        return [ServerGlossary(*row) for row in rows]

    async def named(self, name: str) -> ServerGlossary | None:
        rows = await self._db.reader.execute_fetchall(_SELECT + " WHERE g.name = ?", (name,))
        return ServerGlossary(*rows[0]) if rows else None

    async def of_server(self, guild_id: int) -> ServerGlossary | None:
        rows = await self._db.reader.execute_fetchall(_SELECT + " WHERE s.guild_id = ?",
                                                      (guild_id,))
        return ServerGlossary(*rows[0]) if rows else None

    async def create(self, name: str, guild_id: int, course_name: str, by_id: int,
                     by_name: str, copy_of: tuple[int, str] | None = None
                     ) -> ServerGlossary:
        """Make the glossary (a copy of glossary ``copy_of`` = (id, name), or empty).
        Raises GlossaryNameTaken or ServerHasGlossary (when the server has one); checked
        inside the transaction, so two moderators at once cannot both make one."""
        now = time.time()
        async with self._db.transaction() as db:
            taken = await db.execute_fetchall(
                "SELECT 1 FROM glossaries WHERE name = ? COLLATE NOCASE", (name,))
            if taken:
                raise GlossaryNameTaken(f"The name **{name}** is taken: choose another.")
            own = await db.execute_fetchall(
                "SELECT g.name FROM server_glossaries s JOIN glossaries g "
                "ON g.id = s.glossary_id WHERE s.guild_id = ?", (guild_id,))
            if own:
                raise ServerHasGlossary(f"This server has its own glossary already: "
                                         f"**{own[0][0]}**.")
            rows = await db.execute_fetchall(
                "INSERT INTO glossaries(name, version, last_reload_at) VALUES (?, ?, ?) "
                "RETURNING id", (name, str(now), now))
            glossary_id = int(rows[0][0])
            await db.execute(
                "INSERT INTO server_glossaries(glossary_id, guild_id, course_name, created_by,"
                " created_by_name, copied_from, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (glossary_id, guild_id, course_name, by_id, by_name,
                 copy_of[1] if copy_of else None, now))
            if copy_of is not None:
                for statement in _COPY:
                    await db.execute(statement, (copy_of[0], glossary_id))
        made = await self.named(name)
        assert made is not None
        return made

    async def remove(self, name: str) -> ServerGlossary:
        """Delete the glossary's terms and free its name; GlossaryNotFound if there is
        no server glossary of that name (a configured one is the config's to remove)."""
        found = await self.named(name)
        if found is None:
            raise GlossaryNotFound(f"no server glossary named {name!r} (glossary-bot "
                                   "glossaries list shows them)")
        async with self._db.transaction() as db:
            ids = await db.execute_fetchall("SELECT id FROM terms WHERE glossary_id = ?",
                                            (found.glossary_id,))
            await _delete_terms(db, [row[0] for row in ids])
            await db.execute("DELETE FROM server_glossaries WHERE glossary_id = ?",
                             (found.glossary_id,))
            await db.execute("UPDATE glossaries SET name = '~removed-' || id, version = NULL "
                             "WHERE id = ?", (found.glossary_id,))
        return found
