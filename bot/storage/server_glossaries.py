"""The servers' own glossaries (``/glossary create``): made, listed and removed.

Making one is one transaction: the glossary's row, the server's claim on it (one per
server: ``guild_id`` is unique), and for a copy every term of the glossary the server used,
copied row for row (names, links, full-text) without parsing anything again. Removing one
deletes its terms and frees its name; its id is never given to another glossary, so a
card button from it says the glossary has gone rather than opening someone else's term.

With PostgreSQL (issue 20) every process must know a server's own glossary (which server
uses it, whose moderators edit it), after restarts too: the glossary's row and the
server's claim live in PostgreSQL (PG migration 3, with the id every process uses), and
its terms are published like any database-only glossary's (``bot.storage.published``):
a copy is made in this process's local index, then published as the glossary's first
version, so other processes fill their index from it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from bot.errors import (
    GlossaryNameTaken,
    GlossaryNotFound,
    ServerHasGlossary,
    SharedStateUnavailable,
)
from bot.models import Term, term_from_json
from bot.server_glossaries import ServerGlossary
from bot.storage.database import Database
from bot.storage.reload import _delete_terms

log = logging.getLogger(__name__)

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


# PostgreSQL: the same rows; a glossary's terms are those published under its name.
_PG_SELECT = ("SELECT s.glossary_id, g.name, s.guild_id, s.course_name, s.created_by, "
              "s.created_by_name, s.copied_from, s.created_at, "
              "(SELECT count(*) FROM published_terms p WHERE p.glossary = g.name "
              "AND p.record IS NOT NULL) "
              "FROM server_glossaries s JOIN glossaries g ON g.id = s.glossary_id")


async def _notify(pg: Any, event: str, name: str) -> None:
    from bot.storage.published import SERVERS_CHANNEL

    await pg.execute("SELECT pg_notify($1, $2)", SERVERS_CHANNEL,
                     json.dumps({"event": event, "glossary": name}))


class ServerGlossaries:
    def __init__(self, db: Database, pg: Any = None) -> None:
        """``pg``: the PgDatabase when the shared state is in PostgreSQL."""
        self._db = db
        self._pg = pg

    async def all(self) -> list[ServerGlossary]:
        if self._pg is not None:
            return [ServerGlossary(*row) for row in
                    await self._pg.fetch(_PG_SELECT + " ORDER BY g.name")]
        rows = await self._db.reader.execute_fetchall(_SELECT + " ORDER BY g.name")
        return [ServerGlossary(*row) for row in rows]

    async def named(self, name: str) -> ServerGlossary | None:
        if self._pg is not None:
            rows = await self._pg.fetch(_PG_SELECT + " WHERE g.name = $1", name)
            return ServerGlossary(*rows[0]) if rows else None
        rows = await self._db.reader.execute_fetchall(_SELECT + " WHERE g.name = ?", (name,))
        return ServerGlossary(*rows[0]) if rows else None

    async def of_server(self, guild_id: int) -> ServerGlossary | None:
        if self._pg is not None:
            rows = await self._pg.fetch(_PG_SELECT + " WHERE s.guild_id = $1", guild_id)
            return ServerGlossary(*rows[0]) if rows else None
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
        if self._pg is not None:
            return await self._create_shared(name, guild_id, course_name, by_id, by_name,
                                             copy_of, now)
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
        if self._pg is not None:
            async with self._pg.transaction() as pg:
                await pg.execute("DELETE FROM server_glossaries WHERE glossary_id = $1",
                                 found.glossary_id)
                await pg.execute("UPDATE glossaries SET name = '~removed-' || id "
                                 "WHERE id = $1", found.glossary_id)
                await pg.execute("DELETE FROM published_glossaries WHERE name = $1", name)
                await _notify(pg, "removed", name)  # delivered when this commits
        await self.forget_local(found.glossary_id, name)
        return found

    async def forget_local(self, glossary_id: int, name: str) -> None:
        """Drop a removed glossary from the local index: its terms, its server's claim,
        its name (freed for another glossary) and the published version it held. Other
        processes do this when they hear of the removal (``cogs.server_glossary``)."""
        async with self._db.transaction() as db:
            ids = await db.execute_fetchall("SELECT id FROM terms WHERE glossary_id = ?",
                                            (glossary_id,))
            await _delete_terms(db, [row[0] for row in ids])
            await db.execute("DELETE FROM server_glossaries WHERE glossary_id = ?",
                             (glossary_id,))
            await db.execute("UPDATE glossaries SET name = '~removed-' || id, version = NULL "
                             "WHERE id = ? AND name = ?", (glossary_id, name))
            await db.execute("DELETE FROM meta WHERE key = ?", (f"published:{name}",))

    async def published_terms(self, name: str) -> list[Term]:
        """Every term PostgreSQL holds for a glossary (``glossary-bot glossaries export``
        in PostgreSQL mode: the terminal has no local index that follows it)."""
        rows = await self._pg.fetch(
            "SELECT record FROM published_terms WHERE glossary = $1 AND record IS NOT NULL "
            "ORDER BY slug", name)
        # A record is bot.directory.TermRecord as JSON: its fourth field is the term.
        return [term_from_json(json.loads(record)[3]) for (record,) in rows]

    async def _create_shared(self, name: str, guild_id: int, course_name: str, by_id: int,
                             by_name: str, copy_of: tuple[int, str] | None, now: float
                             ) -> ServerGlossary:
        """``create`` with PostgreSQL: claim the name and the server there, copy the terms
        in the local index, publish them; a failed publish gives the claim back."""
        from bot.storage.glossary_ids import align_local
        from bot.storage.published import outgoing, publish, set_local_version

        async with self._pg.transaction() as pg:
            taken = await pg.fetch("SELECT 1 FROM glossaries WHERE lower(name) = lower($1)",
                                   name)
            if taken:
                raise GlossaryNameTaken(f"The name **{name}** is taken: choose another.")
            own = await pg.fetch(
                "SELECT g.name FROM server_glossaries s JOIN glossaries g "
                "ON g.id = s.glossary_id WHERE s.guild_id = $1", guild_id)
            if own:
                raise ServerHasGlossary(f"This server has its own glossary already: "
                                         f"**{own[0][0]}**.")
            glossary_id = await pg.fetchval(
                "INSERT INTO glossaries(name) VALUES ($1) RETURNING id", name)
            await pg.execute(
                "INSERT INTO server_glossaries(glossary_id, guild_id, course_name, created_by,"
                " created_by_name, copied_from, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                glossary_id, guild_id, course_name, by_id, by_name,
                copy_of[1] if copy_of else None, now)
        try:
            await align_local(self._db, {name: glossary_id})
            async with self._db.transaction() as db:
                await db.execute("UPDATE glossaries SET version = ?, last_reload_at = ? "
                                 "WHERE id = ?", (str(now), now, glossary_id))
                if copy_of is not None:
                    for statement in _COPY:
                        await db.execute(statement, (copy_of[0], glossary_id))
                terms = await outgoing(db, glossary_id, None)
                version = await publish(self._pg, name, 0, str(now), terms, (), full=True)
                await set_local_version(db, name, version)
        except BaseException:
            async with self._pg.transaction() as pg:
                await pg.execute("DELETE FROM server_glossaries WHERE glossary_id = $1",
                                 glossary_id)
                await pg.execute("UPDATE glossaries SET name = '~removed-' || id "
                                 "WHERE id = $1", glossary_id)
            raise
        # Only now (its terms are published) do the other processes hear of it; one that
        # misses this finds it with its next catch-up query.
        try:
            async with self._pg.transaction() as pg:
                await _notify(pg, "created", name)
        except SharedStateUnavailable as exc:
            log.warning("Could not tell the other processes about glossary %s (%s); they "
                        "find it at their next check", name, exc)
        made = await self.named(name)
        assert made is not None
        return made
