"""Reloads as moderators see them: the one content watcher and the one reload report.

``reload_and_report`` is what `/glossary reload`, ``auto_reload`` (``cogs/watcher.py``) and
the sandbox's ``--watch`` all run, so a reload reads the same wherever it came from.
Each reload records its changes in the terms' history (``bot.storage.history``), and
``reload_and_report`` names who ran it on those rows: the moderator who ran
/glossary reload, else what did (``AUTO_RELOAD``, ``START_UP``; a reload nobody names
reads as a file change).

``ContentWatcher`` is the one watcher, used by the auto-reload cog and by the sandbox.
watchfiles batches and debounces file events, so an editor's several writes become one
reload; the store's reload is all-or-nothing, so a half-saved file only produces an error
report while the previous glossary keeps serving.

Not a cog module: discord.py runs an extension's module afresh on every load, and what
several places share must be one object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import discord
import watchfiles

from bot.cards import reload_embed, reload_failed_embed
from bot.content import TERM_SUFFIXES
from bot.errors import InvalidContent
from bot.models import ReloadDiff
from bot.storage.history import AUTO_RELOAD, START_UP
from bot.store import Store

__all__ = ["AUTO_RELOAD", "START_UP", "ContentWatcher", "ReloadReport", "name_reloader",
           "reload_and_report"]

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.8
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class ReloadReport:
    """A reload's outcome as moderators see it; ``diff`` is None when it was refused."""

    embed: discord.Embed
    diff: ReloadDiff | None

    @property
    def is_news(self) -> bool:
        """Worth telling unprompted: refused, or something changed."""
        return self.diff is None or not self.diff.is_empty


async def reload_and_report(store: Store, directory: Path, glossary: str | None = None, *,
                            actor_name: str = "", actor_id: int | None = None
                            ) -> ReloadReport:
    """Reload a glossary's term files (the default glossary's unless ``glossary`` names
    another): the diff, or every ``path:line`` problem (nothing changed then, and the
    previous glossary is still served). ``actor_name`` (and ``actor_id`` for a person)
    names who ran it in the history of each term it changed."""
    reloader = store.reloader(glossary) if glossary is not None else store.reloads
    try:
        diff = await reloader.reload(directory)
    except InvalidContent as exc:
        log.warning("Reload refused: %d error(s)", len(exc.errors))
        return ReloadReport(reload_failed_embed(exc.problems), None)
    if actor_name:
        await name_reloader(store, diff, actor_name, actor_id)
    if not diff.is_empty:
        log.info("Reloaded: %d added, %d changed, %d removed",
                 len(diff.added), len(diff.changed), len(diff.removed))
    return ReloadReport(reload_embed(diff), diff)


async def name_reloader(store: Store, diff: ReloadDiff, actor_name: str,
                        actor_id: int | None = None) -> None:
    """Name who ran a reload on its history rows. After the reload's commit: if this
    fails, the rows stay, read as a file change, and the reload still stands."""
    try:
        await store.history.attribute(diff.history_ids, actor_name, actor_id)
    except Exception:
        log.exception("Could not name %s in the history of a reload", actor_name)


def _is_term_file(_change: watchfiles.Change, path: str) -> bool:
    """The files a reload reads (as ``scan_directory`` selects them); an editor's swap
    and backup files are not worth a reload."""
    name = Path(path).name
    return name.endswith(TERM_SUFFIXES) and not name.startswith(".")


class ContentWatcher:
    """Calls ``on_change`` after term files in ``directory`` were saved, until stopped.

    If watching itself fails (the directory was removed, the system ran out of watches)
    it says so in the log and tries again, waiting longer each time.
    """

    def __init__(self, directory: Path, on_change: Callable[[], Awaitable[None]], *,
                 debounce: float = DEBOUNCE_SECONDS) -> None:
        self.directory = directory
        self.on_change = on_change
        self.debounce_ms = max(int(debounce * 1000), 1)
        self._stop = asyncio.Event()
        self._watching = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once watching began, so a save right after start counts."""
        self._task = asyncio.create_task(self.run(), name="glossary-content-watcher")
        await self._watching.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        try:
            await self._watch()
        finally:
            self._watching.set()  # stopped before it began: start() must not wait forever

    async def _watch(self) -> None:
        delay = RETRY_SECONDS
        while not self._stop.is_set():
            try:
                log.info("Watching %s for changes", self.directory)
                changes = watchfiles.awatch(
                    self.directory, watch_filter=_is_term_file, debounce=self.debounce_ms,
                    step=min(50, self.debounce_ms), stop_event=self._stop, recursive=False)
                # The generator starts watching as it is first entered, before it awaits;
                # start()'s waiter runs only once this task has got that far.
                self._watching.set()
                async for _changes in changes:
                    delay = RETRY_SECONDS
                    try:
                        await self.on_change()
                    except Exception:  # a failing reload must not end watching
                        log.exception("Reload after a file change failed")
            except Exception as exc:
                log.error("Cannot watch %s (%s); automatic reload is paused, trying again "
                          "in %.0f s", self.directory, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
