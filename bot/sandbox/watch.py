"""``--watch``: reload the glossary when a content author saves a term file.

Polling file times once a second needs no extra dependency and works the same on every
system and editor (inotify misses atomic-rename saves on some setups). A change is acted
on only once a poll later sees the files unchanged, so an editor that writes a file in
several steps is not caught half-way; the store's reload is all-or-nothing on top of that,
so a file that is still broken when it is read never replaces good content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.directory import scan_directory

log = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]


def snapshot(directory: Path) -> Snapshot:
    """``{name: (mtime_ns, size)}`` of the files a reload would read (same selection)."""
    return {name: (mtime_ns, size) for name, mtime_ns, size in scan_directory(directory).files}


class ContentWatcher:
    """Calls ``on_change`` after the term files changed and then stayed still for a poll."""

    def __init__(
        self,
        directory: Path,
        on_change: Callable[[], Awaitable[None]],
        *,
        interval: float = 1.0,
    ) -> None:
        self.directory = directory
        self.on_change = on_change
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Takes the first snapshot before returning, so a save right after start counts."""
        first = await asyncio.to_thread(snapshot, self.directory)
        self._task = asyncio.create_task(self._run(first), name="sandbox-content-watcher")

    async def stop(self) -> None:
        """Ends the loop at its next wake-up (at most one interval), bounded."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, self.interval + 5.0)

    async def _run(self, last: Snapshot) -> None:
        pending = False
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
            if self._stop.is_set():
                return
            current = await asyncio.to_thread(snapshot, self.directory)
            if current != last:
                last, pending = current, True  # still being written? look again next time
                continue
            if pending:
                pending = False
                try:
                    await self.on_change()
                except Exception:  # a failing reload must not end watching
                    log.exception("Reload after a file change failed")
