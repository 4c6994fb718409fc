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

Nothing here is on the lookup path: with PostgreSQL down, lookups go on from the local
index, reloads are refused with "try again in a moment", and this loop keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from bot.errors import SharedStateUnavailable
from bot.models import ReloadDiff
from bot.storage.glossary import Glossary
from bot.storage.postgres import UNAVAILABLE, PgDatabase
from bot.storage.published import (
    LocalApply,
    changes_since,
    listen,
    local_version,
    outgoing,
    parse_notification,
    publish,
    published_versions,
    set_local_version,
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

    async def publish(self, batch: ReloadBatch, diff: ReloadDiff) -> None:
        """Publish the reload's change inside its still-open local transaction: if this
        raises, the local index is rolled back too."""
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
                                removed, full=full)
        await set_local_version(db, name, version)
        self._publishing.applied[name] = version
        log.info("Published glossary %s version %d: %d term(s) written, %d removed (%.0f ms)",
                 name, version, len(terms), len(removed),
                 (time.perf_counter() - started) * 1000)


async def _content_version(db: Any, glossary_id: int) -> str:
    rows = await db.execute_fetchall("SELECT version FROM glossaries WHERE id = ?",
                                     (glossary_id,))
    return (rows[0][0] if rows else None) or str(time.time())


class Publishing:
    """The process's follower of every configured glossary; ``start()``, ``stop()``."""

    def __init__(self, store: Store, *, check_seconds: float = CHECK_SECONDS) -> None:
        assert store.pg is not None
        self.store = store
        self.pg: PgDatabase = store.pg
        self.check_seconds = check_seconds
        self.applied: dict[str, int | None] = {}  # published version each local index holds
        self._listener: asyncpg.Connection | None = None
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None

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
        version first (one cheap query), and open no local transaction if current."""
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
                local = LocalApply(db, glossary.id)
                if changes.full:
                    await local.clear()
                async for chunk in changes.chunks:
                    await local.write(chunk)
                await local.finish(name, changes.version, changes.content_version)
        self.applied[name] = changes.version
        self.store.db.checkpoint_soon()
        await glossary.reloaded(local.names_changed, changes.content_version)
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

    def _terminated(self, _connection: object) -> None:
        self._wake.set()  # reconnect now rather than at the next tick

    async def _connect(self) -> bool:
        try:
            self._listener = await listen(self.pg.url, self._notified)
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
