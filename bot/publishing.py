"""Following the published glossaries: LISTEN for publishes, apply them, catch up on a timer.

With PostgreSQL every process answers lookups from its own local SQLite index (issue 20).
A reload anywhere publishes what changed (``GlossaryPublisher.publish``, called by
``bot.reloading.Reloader`` before its local transaction commits); every process hears
the publish on a connection of its own (``LISTEN``, outside the pool, so a busy pool never
delays it) and applies the change to its index (``bot.storage.published.LocalApply``).
Notifications are lost while the listener is down, so every few seconds one query
compares each glossary's published version with the local one and catches up; the
listener is reconnected on the same tick. At start-up a process with an empty or old
index fills it from PostgreSQL, so only the host that reloads needs the term files.
An edit made in Discord on a host without a glossary's files is published the same way
and waits in ``published_writebacks`` until the host with the files writes it to them
(``write_pending``: on the notification, before each reload and at start-up).

Nothing here is on the lookup path: with PostgreSQL down, lookups go on from the local
index, reloads are refused with "try again in a moment", and this loop keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bot.editing import create_term, open_term, save_edit
from bot.errors import EditConflict, InvalidContent, SharedStateUnavailable
from bot.models import ReloadDiff, term_from_json
from bot.sections import SECTIONS
from bot.storage.glossary import Glossary
from bot.storage.postgres import UNAVAILABLE, PgDatabase
from bot.storage.published import (
    FileState,
    LocalApply,
    LocalTerm,
    changes_since,
    listen,
    local_terms,
    local_version,
    outgoing,
    parse_notification,
    pending_writebacks,
    publish,
    published_versions,
    set_local_file,
    set_local_version,
    settle_writebacks,
)
from bot.storage.reload import ReloadBatch
from bot.store import Store

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # how long a process that missed a notification may lag behind


class GlossaryPublisher:
    """One glossary's publisher: the ``Reloader.publisher`` hook (its lock is held)."""

    def __init__(self, publishing: Publishing, glossary: Glossary) -> None:
        self._publishing = publishing
        self._glossary = glossary

    async def catch_up(self) -> None:
        """Apply what other processes published, so this reload builds on it."""
        await self._publishing.apply_locked(self._glossary, check=True)

    async def publish(self, batch: ReloadBatch, diff: ReloadDiff, *,
                      writebacks: Sequence[str] | None = None) -> None:
        """Publish the reload's change inside its still-open local transaction: if this
        raises, the local index is rolled back too. ``writebacks``: an edit made here
        without the glossary's files, which the host with them writes back."""
        db, name, gid = batch.connection, self._glossary.name, self._glossary.id
        base = await local_version(db, name)
        if base is None:  # never published from here: PostgreSQL has nothing (catch_up)
            terms, removed, full, base = await outgoing(db, gid, None), (), True, 0
        elif diff.is_empty:
            return
        else:
            terms = await outgoing(db, gid, [*diff.added, *diff.changed])
            removed, full = diff.removed, False
        content_version = batch.version or await _content_version(db, gid)
        started = time.perf_counter()
        version = await publish(self._publishing.pg, name, base, content_version, terms,
                                removed, full=full, writebacks=writebacks)
        # ``applied`` is not moved here: the local transaction has not committed yet. The
        # publish's own notification (or the next check) finds the local index current.
        await set_local_version(db, name, version)
        log.info("Published glossary %s version %d: %d term(s) written, %d removed (%.0f ms)",
                 name, version, len(terms), len(removed),
                 (time.perf_counter() - started) * 1000)


async def _content_version(db: Any, glossary_id: int) -> str:
    rows = await db.execute_fetchall("SELECT version FROM glossaries WHERE id = ?",
                                     (glossary_id,))
    return (rows[0][0] if rows else None) or str(time.time())


class Publishing:
    """The process's follower of every configured glossary; ``start()``, ``stop()``."""

    def __init__(self, store: Store, *, check_seconds: float = CHECK_SECONDS,
                 directories: Mapping[str, Path] | None = None) -> None:
        """``directories``: the term files this host has, by glossary; a change published
        elsewhere is written back to them (see ``write_back``)."""
        assert store.pg is not None
        self.store = store
        self.directories = dict(directories or {})
        self.pg: PgDatabase = store.pg
        self.check_seconds = check_seconds
        self.applied: dict[str, int | None] = {}  # published version each local index holds
        self._listener: asyncpg.Connection | None = None
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        # Set when a server glossary was made or removed elsewhere (SERVERS_CHANNEL), and
        # when the listener comes back (what it missed): cogs.server_glossary waits on it.
        self.servers_changed = asyncio.Event()

    def _glossaries(self) -> dict[str, Glossary]:
        return {glossary.name: glossary for glossary in self.store.glossaries}

    async def start(self) -> None:
        """Hook into every glossary's reloader, fill the local indexes from what is
        published, start listening. PostgreSQL down now is not fatal: the local index
        serves and the loop catches up once it is back."""
        for glossary in self.store.glossaries:
            self.store.reloader(glossary.name).publisher = GlossaryPublisher(self, glossary)
            self.applied[glossary.name] = await local_version(self.store.db.reader,
                                                              glossary.name)
        await self._connect()
        for name in self._glossaries():
            try:
                await self.apply(name)
            except SharedStateUnavailable as exc:
                self._went_down(exc)
        self._task = asyncio.create_task(self._run(), name="glossary-publishing")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None:
            with contextlib.suppress(*UNAVAILABLE):
                await asyncio.wait_for(self._listener.close(), timeout=5)
            self._listener = None

    # ----- applying ----------------------------------------------------------------

    async def apply(self, name: str) -> bool:
        """Bring one glossary's local index to its published version (taking turns with
        local reloads); True if anything was applied."""
        glossary = self._glossaries().get(name)
        if glossary is None:
            return False
        async with self.store.reloader(name).lock:
            return await self.apply_locked(glossary, check=True)

    async def apply_locked(self, glossary: Glossary, *, check: bool) -> bool:
        """``apply`` with the reloader's lock held. ``check``: ask PostgreSQL for the
        version first (one cheap query), and open no local transaction if current. A
        host with the glossary's files then writes to them every edit made elsewhere
        without them that is still waiting (``write_pending``): before each reload here,
        and at start-up, so a reload from files never undoes such an edit."""
        applied = await self._apply_locked(glossary, check=check)
        if glossary.name in self.directories:
            await self._write_pending(glossary)
        return applied

    async def _write_pending(self, glossary: Glossary) -> None:
        name = glossary.name
        # Only edits the local index holds already (one published since is next time's).
        held = self.applied.get(name) or 0
        pending = [job for job in await pending_writebacks(self.pg, name) if job[1] <= held]
        if not pending:
            return
        local = await local_terms(self.store.db.reader, glossary.id,
                                  [slug for slug, _, _ in pending])
        jobs = [(slug, version, base, local.get(slug)) for slug, version, base in pending]
        written, settled = await asyncio.to_thread(write_pending, self.directories[name],
                                                   jobs)
        if written:  # (a file write_back wrote during this apply is only confirmed)
            async with self.store.db.transaction() as db:
                for slug, file in written:
                    await set_local_file(db, glossary.id, slug, file)
            log.info("Wrote %d edit(s) made elsewhere back to %s", len(written),
                     self.directories[name])
        await settle_writebacks(self.pg, name, settled, dict(written))

    async def _apply_locked(self, glossary: Glossary, *, check: bool) -> bool:
        name = glossary.name
        if check:
            published = (await published_versions(self.pg, [name])).get(name)
            if published is None and self.applied.get(name) is not None:
                # PostgreSQL lost (or never had) what this index says it published: the
                # next reload publishes everything afresh.
                async with self.store.db.transaction() as db:
                    await db.execute("DELETE FROM meta WHERE key = ?", (f"published:{name}",))
                self.applied[name] = None
                return False
            if published is None or published == self.applied.get(name):
                return False
        started = time.perf_counter()
        async with self.store.db.transaction() as db:
            since = await local_version(db, name)
            async with changes_since(self.pg, name, since) as changes:
                if changes is None:
                    self.applied[name] = since
                    return False
                local = LocalApply(db, glossary.id, track=(
                    not changes.full and name in self.directories))
                if changes.full:
                    await local.clear()
                async for chunk in changes.chunks:
                    await local.write(chunk)
                await local.finish(name, changes.version, changes.content_version)
        self.applied[name] = changes.version
        self.store.db.checkpoint_soon()
        await glossary.reloaded(local.names_changed, changes.content_version)
        if local.replaced:
            written = await asyncio.to_thread(write_back, self.directories[name], local.replaced)
            if written:
                async with self.store.db.transaction() as db:
                    for slug, file in written:
                        await set_local_file(db, glossary.id, slug, file)
                log.info("Wrote %d term(s) published elsewhere back to %s", len(written),
                         self.directories[name])
        log.info("Applied glossary %s version %d (%s, %.0f ms)", name, changes.version,
                 "full copy" if changes.full else f"since {since}",
                 (time.perf_counter() - started) * 1000)
        return True

    # ----- listening and catching up -----------------------------------------------

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is None:
            return
        name, version = parsed
        if name in self.applied and version != self.applied.get(name):
            self._pending.add(name)
            self._wake.set()

    def _servers_notified(self, _connection: object, _pid: int, _channel: str,
                          _payload: str) -> None:
        self.servers_changed.set()  # the follower reads the list again: one query

    def forget(self, name: str) -> None:
        """A glossary removed elsewhere: its publishes are no longer followed."""
        self.applied.pop(name, None)
        self._pending.discard(name)

    def _terminated(self, _connection: object) -> None:
        self._wake.set()  # reconnect now rather than at the next tick

    async def _connect(self) -> bool:
        try:
            self._listener = await listen(self.pg.url, self._notified,
                                          self._servers_notified)
        except SharedStateUnavailable as exc:
            self._went_down(exc)
            return False
        self._listener.add_termination_listener(self._terminated)
        return True

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("PostgreSQL unreachable (%s): serving the local index, catching up "
                        "when it is back", exc)

    async def _run(self) -> None:
        while True:
            periodic = False
            try:
                await asyncio.wait_for(self._wake.wait(), self.check_seconds)
            except TimeoutError:
                periodic = True
            self._wake.clear()
            try:
                await self._tick(periodic)
            except SharedStateUnavailable as exc:
                self._went_down(exc)
            except Exception:
                log.exception("Following the published glossaries failed; trying again")

    async def _tick(self, periodic: bool) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = None
            if not await self._connect():
                return
            periodic = True  # notifications were missed while it was down
            self.servers_changed.set()
        names, self._pending = self._pending, set()
        if periodic:
            published = await published_versions(self.pg, list(self.applied))
            names |= {name for name, version in published.items()
                      if version != self.applied.get(name)}
        for name in sorted(names):
            try:
                await self.apply(name)
            except BaseException:
                self._pending.add(name)  # tried again on the next tick
                raise
        if self._down_since is not None:
            log.info("PostgreSQL reachable again after %.0f s; local indexes are current",
                     time.monotonic() - self._down_since)
            self._down_since = None


def write_pending(directory: Path, jobs: Sequence[tuple[str, int, FileState | None,
                                                        LocalTerm | None]]
                  ) -> tuple[list[tuple[str, FileState]], list[tuple[str, int]]]:
    """Write edits made without the files into them (a worker-thread job). Each job: the
    slug, the version of its edit, its file as the files were last loaded (None: a new
    term), and the term as the local index has it now (None: removed). Only a file still
    as it was last loaded is rewritten (through ``bot.editing``: comments kept); one
    saved here since wins, with a warning (its reload publishes it). Returns the files
    written (slug, file as now) and the write-backs settled (slug, version)."""
    written: list[tuple[str, FileState]] = []
    settled: list[tuple[str, int]] = []
    for slug, version, base, local in jobs:
        name = base[0] if base else (local[0] if local else f"{slug}.yaml")
        path = directory / name
        try:
            now = _state(path)
            if local is not None and now == local[:3]:  # the file already holds it
                written.append((slug, now))
                settled.append((slug, version))
                continue
            if local is None and now is None:
                settled.append((slug, version))
                continue
            if base is None and now is None and local is not None:
                path = create_term(directory, term_from_json(local[3]))
            elif base is not None and now == base:
                if local is None:
                    path.unlink()
                    settled.append((slug, version))
                    continue
                _rewrite(path, local[3])
            else:
                log.warning("%s was saved here after the edit made elsewhere was based on "
                            "it; keeping the file (its next reload publishes it)", path)
                settled.append((slug, version))
                continue
            state = _state(path)
            assert state is not None
            written.append((slug, state))
            settled.append((slug, version))
        except (EditConflict, InvalidContent, OSError) as exc:  # tried again next time
            log.warning("Could not write %s back to %s: %s", slug, directory, exc)
    return written, settled


def _state(path: Path) -> FileState | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (path.name, info.st_mtime_ns, info.st_size)


def _rewrite(path: Path, data: str) -> None:
    """The term file rewritten to hold the term ``data`` describes, comments kept."""
    term = term_from_json(data)
    changes = {s.key: (list(value) if s.is_list else value) or ""
               for s in SECTIONS for value in [getattr(term, s.key)]}
    save_edit(open_term(path), changes)


def write_back(directory: Path, replaced: Sequence[tuple[str, tuple[str, int, int] | None, str]]
               ) -> list[tuple[str, tuple[str, int, int]]]:
    """Write terms published by another process into this host's term files, so that a
    later reload from them does not silently undo the change (an edit made in Discord
    where the files are not). Only a file still as this host last loaded it is
    rewritten, through ``bot.editing`` (comments and untouched values kept); one saved
    here meanwhile is left alone, with a warning: its next reload publishes it, the later
    change winning. The (slug, file as now) of each file written; a worker-thread job."""
    written: list[tuple[str, tuple[str, int, int]]] = []
    for slug, was, data in replaced:
        try:
            if was is None:
                if not data or any((directory / f"{slug}{suffix}").exists()
                                   for suffix in (".yaml", ".yml")):
                    continue
                path = create_term(directory, term_from_json(data))
            else:
                path = directory / was[0]
                info = path.stat()
                if (info.st_mtime_ns, info.st_size) != (was[1], was[2]):
                    log.warning("%s was saved here after its last load; keeping it (its next "
                                "reload publishes it) over the version published elsewhere",
                                path)
                    continue
                if not data:
                    path.unlink()
                    continue
                _rewrite(path, data)
            info = os.stat(path)
            written.append((slug, (path.name, info.st_mtime_ns, info.st_size)))
        except FileNotFoundError:
            log.warning("%s/%s is gone here; not writing %s back", directory, slug, slug)
        except (EditConflict, InvalidContent, OSError) as exc:
            log.warning("Could not write %s back to %s: %s", slug, directory, exc)
    return written
