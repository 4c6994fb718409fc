"""Published glossaries: the terms in PostgreSQL, and each process's local index following them.

With PostgreSQL (issue 20) a reload validates and writes the local SQLite index as always
(``bot.storage.reload``), then, before that local transaction commits, publishes what
changed here: one PostgreSQL transaction takes the glossary's row ``FOR UPDATE`` (two
publishers of one glossary take turns), refuses a publisher whose local index is behind
(``StalePublish``: it catches up and tries again), writes the changed terms and the new
version, and ``NOTIFY``s. If PostgreSQL fails, the local transaction rolls back too: no
process serves what was not published. Other processes apply a publish to their index
with ``apply``: the terms changed since the version they hold, written through the same
delete/insert seam a reload uses, all in one local transaction.

A term crosses as its ``TermRecord`` (bot.directory) in JSON, built by SQLite from the
local rows (no Python work per term in the serving process), plus its file's name, size
and modification time. Nothing here is on the lookup path: lookups read the local index.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import aiosqlite
import asyncpg

from bot.directory import NameRow, ParsedFile, TermRecord
from bot.errors import SharedStateUnavailable, StalePublish
from bot.storage.postgres import UNAVAILABLE, PgDatabase
from bot.storage.reload import _delete_terms, _insert_terms

log = logging.getLogger(__name__)

CHANNEL = "glossary_published"
# A server glossary made or removed (``bot.storage.server_glossaries``): every process
# adopts or drops it at once instead of at its next catch-up query.
SERVERS_CHANNEL = "glossary_servers"
CHUNK = 500  # terms per round trip, each way: bounded memory and bounded loop stalls
_META = "published:{}"

# A published term: (slug, file, mtime_ns, size, record JSON or None once removed).
Published = tuple[str, str, int, int, str | None]
FileState = tuple[str, int, int]  # a term file as loaded: (name, mtime_ns, size)
LocalTerm = tuple[str, int, int, str]  # a local term: its file's FileState, then its data

# The record of a local term, as JSON built by SQLite (on the writer's thread): the
# fields of TermRecord in order, names and links as arrays. ``data`` stays a string, so
# its fingerprint still matches it byte for byte.
_OUTGOING_SQL = """
SELECT t.slug, t.file, t.mtime_ns, t.size,
       json_array(t.slug, t.title, t.category, coalesce(d.data, ''), t.fingerprint,
                  t.names_fingerprint,
                  (SELECT json_group_array(json_array(n.key, n.name, n.kind, n.line, n.words))
                   FROM names n WHERE n.glossary_id = t.glossary_id AND n.term_id = t.id),
                  (SELECT json_group_array(json_array(l.target, l.line))
                   FROM (SELECT target, line FROM links WHERE term_id = t.id
                         ORDER BY position) l))
FROM terms t LEFT JOIN term_data d ON d.term_id = t.id
WHERE t.glossary_id = ?1 AND (?2 IS NULL OR t.slug IN (SELECT value FROM json_each(?2)))
ORDER BY t.slug
"""


def _unavailable(exc: BaseException) -> SharedStateUnavailable:
    return SharedStateUnavailable(str(exc) or exc.__class__.__name__)


# ----- PostgreSQL ------------------------------------------------------------------


async def published_versions(pg: PgDatabase, names: Sequence[str]) -> dict[str, int]:
    """The published version of each named glossary PostgreSQL has (absent: never)."""
    rows = await pg.fetch(
        "SELECT name, version FROM published_glossaries WHERE name = ANY($1::text[])",
        list(names))
    return {name: version for name, version in rows}


async def publish(pg: PgDatabase, name: str, base: int, content_version: str,
                  terms: Sequence[Published], removed: Sequence[str], *,
                  full: bool = False, writebacks: Sequence[str] | None = None) -> int:
    """Publish a change made on top of version ``base``; the new version.

    ``full``: ``terms`` is the whole glossary, and every other published term goes.
    ``writebacks``: the change is an edit of these slugs made without the glossary's term
    files; each is kept in ``published_writebacks`` (with its file as published before,
    the base) until the host with the files writes the edit to them. A
    publish without it comes from the files themselves (or from a database-only
    glossary), so it settles any write-back of the terms it publishes.
    Raises StalePublish when another process published since ``base`` (nothing is
    written then), SharedStateUnavailable when PostgreSQL cannot be reached.
    """
    async with pg.transaction() as db:
        try:
            await db.execute(
                "INSERT INTO published_glossaries(name, version, content_version, published_at)"
                " VALUES ($1, 0, '', 0) ON CONFLICT (name) DO NOTHING", name)
            current = await db.fetchval(
                "SELECT version FROM published_glossaries WHERE name = $1 FOR UPDATE", name)
            if current != base:
                raise StalePublish(f"glossary {name} is at version {current}, not {base}")
            version = current + 1
            # The changed terms go in with COPY (a 10,000-term publish in a fraction of
            # the time row-by-row statements take), then one upsert.
            if writebacks:
                # Each edited term's file as the files were last loaded: what published_terms
                # says now (a new or removed term: none). A term edited again before it
                # was written back keeps its first base: the files have not moved since.
                await db.execute(
                    "INSERT INTO published_writebacks(glossary, slug, version, base_file,"
                    " base_mtime_ns, base_size) SELECT $1, s.slug, $2, p.file, p.mtime_ns,"
                    " p.size FROM unnest($3::text[]) AS s(slug) LEFT JOIN published_terms p"
                    " ON p.glossary = $1 AND p.slug = s.slug AND p.record IS NOT NULL"
                    " ON CONFLICT (glossary, slug) DO UPDATE SET version = excluded.version",
                    name, version, list(writebacks))
            await db.execute(
                "CREATE TEMP TABLE incoming (slug text PRIMARY KEY, file text, mtime_ns bigint,"
                " size bigint, record text) ON COMMIT DROP")
            if terms:
                await db.copy_records_to_table("incoming", records=terms)
            if full:
                await db.execute(
                    "UPDATE published_terms p SET record = NULL, version = $2"
                    " WHERE p.glossary = $1 AND p.record IS NOT NULL"
                    " AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.slug = p.slug)",
                    name, version)
            await db.execute(
                "INSERT INTO published_terms(glossary, slug, version, file, mtime_ns, size,"
                " record) SELECT $1, slug, $2, file, mtime_ns, size, record FROM incoming"
                " ON CONFLICT (glossary, slug) DO UPDATE SET version = excluded.version,"
                " file = excluded.file, mtime_ns = excluded.mtime_ns, size = excluded.size,"
                " record = excluded.record", name, version)
            if removed:
                await db.execute(
                    "UPDATE published_terms SET record = NULL, version = $2"
                    " WHERE glossary = $1 AND slug = ANY($3::text[])",
                    name, version, list(removed))
            slugs = [term[0] for term in terms] + list(removed)
            if writebacks is None and full:  # from the files: nothing waits for them
                await db.execute("DELETE FROM published_writebacks WHERE glossary = $1",
                                 name)
            elif writebacks is None and slugs:
                await db.execute("DELETE FROM published_writebacks WHERE glossary = $1"
                                 " AND slug = ANY($2::text[])", name, slugs)
            await db.execute(
                "UPDATE published_glossaries SET version = $2, content_version = $3,"
                " published_at = $4 WHERE name = $1",
                name, version, content_version, time.time())
            # Delivered when (and only if) the transaction commits.
            await db.execute("SELECT pg_notify($1, $2)", CHANNEL,
                             json.dumps({"glossary": name, "version": version}))
        except UNAVAILABLE as exc:
            raise _unavailable(exc) from None
    return version


async def pending_writebacks(pg: PgDatabase, name: str
                             ) -> list[tuple[str, int, FileState | None]]:
    """Edits made without the files that no host has written to them yet: (slug, the
    version that last changed it, its file as last loaded from the files or None)."""
    rows = await pg.fetch(
        "SELECT slug, version, base_file, base_mtime_ns, base_size"
        " FROM published_writebacks WHERE glossary = $1 ORDER BY slug", name)
    return [(slug, version, None if file is None else (file, mtime_ns, size))
            for slug, version, file, mtime_ns, size in rows]


async def settle_writebacks(pg: PgDatabase, name: str, settled: Sequence[tuple[str, int]],
                            files: Mapping[str, FileState]) -> None:
    """These write-backs are done (slug, version written): forget them, unless the term
    was edited again since. ``files``: the files as written, now what published_terms
    names (without a new version: the terms did not change), so the base of a later
    edit is the file as it really is."""
    if not settled:
        return
    versions = dict(settled)
    rows = [(name, slug, *files[slug], versions[slug]) for slug in files if slug in versions]
    async with pg.transaction() as db:
        await db.executemany(
            "UPDATE published_terms SET file = $3, mtime_ns = $4, size = $5"
            " WHERE glossary = $1 AND slug = $2 AND version = $6", rows)
        await db.execute(
            "DELETE FROM published_writebacks w USING unnest($2::text[], $3::bigint[])"
            " AS s(slug, version) WHERE w.glossary = $1 AND w.slug = s.slug"
            " AND w.version <= s.version",
            name, [slug for slug, _ in settled], [version for _, version in settled])


@dataclass(frozen=True, slots=True)
class Changes:
    """What a process behind must apply: one snapshot of PostgreSQL."""

    version: int
    content_version: str
    full: bool  # every term of the glossary follows: the local one is replaced
    chunks: AsyncIterator[list[Published]]


@contextlib.asynccontextmanager
async def changes_since(pg: PgDatabase, name: str, since: int | None
                        ) -> AsyncIterator[Changes | None]:
    """The terms published after version ``since`` (all of them when None, or when
    PostgreSQL was reset below it), read in chunks from one repeatable-read snapshot;
    None when there is nothing newer."""
    async with pg.connection() as db:
        try:
            async with db.transaction(isolation="repeatable_read", readonly=True):
                row = await db.fetchrow(
                    "SELECT version, content_version FROM published_glossaries WHERE name = $1",
                    name)
                if row is None or row["version"] == 0 or row["version"] == since:
                    yield None
                    return
                full = since is None or since > row["version"]
                after = -1 if full else since

                async def chunks() -> AsyncIterator[list[Published]]:
                    last = ""
                    while True:
                        rows = await db.fetch(
                            "SELECT slug, file, mtime_ns, size, record FROM published_terms"
                            " WHERE glossary = $1 AND version > $2 AND slug > $3"
                            + (" AND record IS NOT NULL" if full else "")
                            + " ORDER BY slug LIMIT $4", name, after, last, CHUNK)
                        if not rows:
                            return
                        last = rows[-1][0]
                        yield [tuple(r) for r in rows]  # type: ignore[misc]

                yield Changes(row["version"], row["content_version"], full, chunks())
        except UNAVAILABLE as exc:
            raise _unavailable(exc) from None


async def listen(url: str, callback: object, servers: object = None) -> asyncpg.Connection:
    """A connection of its own (not the pool's) that hears every publish and, with
    ``servers``, every server glossary made or removed (``SERVERS_CHANNEL``)."""
    try:
        connection = await asyncpg.connect(url, timeout=5.0)
        await connection.add_listener(CHANNEL, callback)
        if servers is not None:
            await connection.add_listener(SERVERS_CHANNEL, servers)
    except UNAVAILABLE as exc:
        raise _unavailable(exc) from None
    return connection


def parse_notification(payload: str) -> tuple[str, int] | None:
    try:
        message = json.loads(payload)
        return str(message["glossary"]), int(message["version"])
    except (ValueError, KeyError, TypeError):
        log.warning("Ignoring a malformed publish notification: %r", payload[:200])
        return None


# ----- the local index ---------------------------------------------------------------


async def local_version(db: aiosqlite.Connection, name: str) -> int | None:
    """The published version the local index holds for a glossary (None: none yet)."""
    rows = await db.execute_fetchall("SELECT value FROM meta WHERE key = ?",
                                     (_META.format(name),))
    return int(rows[0][0]) if rows else None


async def set_local_version(db: aiosqlite.Connection, name: str, version: int) -> None:
    await db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     (_META.format(name), str(version)))


async def outgoing(db: aiosqlite.Connection, glossary_id: int, slugs: Sequence[str] | None
                   ) -> list[Published]:
    """The local terms to publish (these slugs, or all), as they were just written."""
    rows = await db.execute_fetchall(
        _OUTGOING_SQL, (glossary_id, None if slugs is None else json.dumps(list(slugs))))
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _parsed(rows: Sequence[Published]) -> tuple[list[str], list[ParsedFile]]:
    """Published rows as the reload's own records (a worker-thread job per chunk)."""
    slugs, parsed = [], []
    for slug, file, mtime_ns, size, record in rows:
        slugs.append(slug)
        if record is None:
            continue
        fields = json.loads(record)
        fields[6] = tuple(NameRow(*name) for name in fields[6])
        fields[7] = tuple((target, line) for target, line in fields[7])
        parsed.append(ParsedFile((file, mtime_ns, size), (), TermRecord(*fields)))
    return slugs, parsed


class LocalApply:
    """One local transaction bringing a glossary's index to a published version."""

    def __init__(self, db: aiosqlite.Connection, glossary_id: int, *,
                 track: bool = False) -> None:
        self._db = db
        self._glossary_id = glossary_id
        self.names_changed = False
        # With ``track``, what each term replaced: (slug, the local file, mtime_ns and size
        # it had, or None for a new term; the published data, "" once removed), so a host
        # with the files can write an edit made elsewhere back to them (bot.publishing).
        self.track = track
        self.replaced: list[tuple[str, tuple[str, int, int] | None, str]] = []

    async def clear(self) -> None:
        """Forget every local term of the glossary (a full copy follows)."""
        rows = await self._db.execute_fetchall(
            "SELECT id FROM terms WHERE glossary_id = ?", (self._glossary_id,))
        await _delete_terms(self._db, [term_id for (term_id,) in rows])
        self.names_changed = True

    async def write(self, rows: Sequence[Published]) -> None:
        """Replace (or remove) each published term in the local index."""
        slugs, parsed = await asyncio.to_thread(_parsed, rows)
        old = await self._db.execute_fetchall(
            "SELECT id, slug, names_fingerprint, file, mtime_ns, size FROM terms "
            "WHERE glossary_id = ? AND slug IN (SELECT value FROM json_each(?))",
            (self._glossary_id, json.dumps(slugs)))
        before = {slug: names for _, slug, names, *_ in old}
        if self.track:
            was = {slug: (file, mtime_ns, size) for _, slug, _, file, mtime_ns, size in old}
            data = {p.record.slug: p.record.data for p in parsed}
            self.replaced += [(slug, was.get(slug), data.get(slug, "")) for slug in slugs]
        # Two files of one term cannot both be local: a renamed file frees its name first.
        files = [p.file[0] for p in parsed]
        clash = await self._db.execute_fetchall(
            "SELECT id FROM terms WHERE glossary_id = ? AND file IN "
            "(SELECT value FROM json_each(?))", (self._glossary_id, json.dumps(files)))
        await _delete_terms(self._db, sorted({row[0] for row in old} | {i for (i,) in clash}))
        self.names_changed = self.names_changed or len(before) != len(parsed) or any(
            before.get(p.record.slug) != p.record.names_fingerprint for p in parsed)
        if parsed:
            last = await self._db.execute_fetchall("SELECT coalesce(max(id), 0) FROM terms")
            first = last[0][0] + 1
            await _insert_terms(self._db, self._glossary_id,
                                list(enumerate(parsed, start=first)))

    async def finish(self, name: str, version: int, content_version: str) -> None:
        await self._db.execute(
            "UPDATE glossaries SET version = ?, last_reload_at = ? WHERE id = ?",
            (content_version, time.time(), self._glossary_id))
        await set_local_version(self._db, name, version)


async def set_local_file(db: aiosqlite.Connection, glossary_id: int, slug: str,
                         file: tuple[str, int, int]) -> None:
    """The local term now comes from this file as it is on this host (after a write-back),
    so the next reload here finds it unchanged."""
    await db.execute("UPDATE terms SET file = ?, mtime_ns = ?, size = ? "
                     "WHERE glossary_id = ? AND slug = ?", (*file, glossary_id, slug))


async def local_terms(db: aiosqlite.Connection, glossary_id: int, slugs: Sequence[str]
                      ) -> dict[str, LocalTerm]:
    """These local terms as (file, mtime_ns, size, data): what a write-back writes."""
    rows = await db.execute_fetchall(
        "SELECT t.slug, t.file, t.mtime_ns, t.size, coalesce(d.data, '') FROM terms t"
        " LEFT JOIN term_data d ON d.term_id = t.id WHERE t.glossary_id = ?"
        " AND t.slug IN (SELECT value FROM json_each(?))", (glossary_id, json.dumps(list(slugs))))
    return {slug: (file, mtime_ns, size, data) for slug, file, mtime_ns, size, data in rows}
