"""A reload end to end: scan the directory, parse what changed, check, hand it to the store.

The store (``bot.storage.reload``) plans and writes; parsing (``bot.loading``, in worker
processes for many files) and the cross-file checks (``bot.validation``) happen here, so
``glossary-bot check`` runs the very same steps without any database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from bot.directory import ParsedFile, ScannedFile, display_path, scan_directory
from bot.errors import InvalidContent, StalePublish
from bot.loading import parse_in_chunks
from bot.models import Problem, ReloadDiff
from bot.storage.reload import ReloadBatch, Reloads
from bot.validation import LinkUse, NameUse, cross_file_problems, uses

STALE_RETRIES = 3


class Publisher(Protocol):
    """With PostgreSQL (``bot.publishing``): a reload first catches up with what other
    processes published, and publishes what it changed before its transaction commits."""

    async def catch_up(self) -> None: ...

    async def publish(self, batch: ReloadBatch, diff: ReloadDiff) -> None: ...


class Reloader:
    """``store.reloads``: replaces the glossary with a directory's content."""

    def __init__(self, reloads: Reloads) -> None:
        self._reloads = reloads
        self.lock = self._lock = asyncio.Lock()  # a publisher applies others' changes under it
        self.publisher: Publisher | None = None

    async def reload(self, directory: Path | str) -> ReloadDiff:
        """Replace the glossary with the directory's content, all or nothing.

        Only files whose size or modification time changed since the last load are parsed.
        If any file has an error nothing is written and ``InvalidContent`` carries every
        problem (file, line, message); concurrent reloads are serialised. With a publisher,
        a reload that lost a race with another process's publish catches up and runs again.
        """
        for attempt in range(STALE_RETRIES):
            try:
                return await self._reload(directory)
            except StalePublish:
                if attempt == STALE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _reload(self, directory: Path | str) -> ReloadDiff:
        async with self._lock:
            if self.publisher is not None:
                await self.publisher.catch_up()
            directory = Path(directory)
            shown = display_path(directory)
            scan = await asyncio.to_thread(scan_directory, directory)
            async with self._reloads.batch(scan) as batch:
                problems = list(scan.problems)
                if not scan.files and batch.loaded_count:
                    problems.append(Problem(shown, 0, "directory", (
                        f"has no term files; refusing to remove all {batch.loaded_count} terms "
                        "(is content_dir right? to empty the glossary, keep one term file)")))
                async for chunk in _parse(directory, batch.to_parse):
                    problems += [p for parsed in chunk for p in parsed.problems]
                    await batch.write(chunk)
                # Every link the store returns is to no term: no slug is passed as known.
                names, links = await batch.check_candidates()
                clashes, warnings = cross_file_problems(names, links, (), shown)
                problems += clashes
                if any(not p.is_warning for p in problems):
                    raise InvalidContent([*problems, *warnings],
                                         valid_terms=await batch.valid_count())
                diff = await batch.finish([p for p in problems if p.is_warning] + warnings)
                if self.publisher is not None:  # before the local commit: all or nothing
                    await self.publisher.publish(batch, diff)
                return diff


async def check_directory(directory: Path) -> tuple[list[Problem], int]:
    """Every problem a reload of ``directory`` into an empty glossary would report, and
    how many terms are valid: what ``glossary-bot check`` prints, with no database."""
    shown = display_path(directory)
    scan = await asyncio.to_thread(scan_directory, directory)
    problems = list(scan.problems)
    names: list[NameUse] = []
    links: list[LinkUse] = []
    slugs: set[str] = set()
    valid = 0
    async for chunk in _parse(directory, scan.files):
        problems += [p for parsed in chunk for p in parsed.problems]
        valid += sum(parsed.valid for parsed in chunk)
        slugs.update(parsed.record.slug for parsed in chunk)
        chunk_names, chunk_links = uses(chunk)
        names += chunk_names
        links += chunk_links
    clashes, warnings = await asyncio.to_thread(cross_file_problems, names, links, slugs, shown)
    return [*problems, *clashes, *warnings], valid


async def _parse(directory: Path, files: Sequence[ScannedFile]
                 ) -> AsyncIterator[list[ParsedFile]]:
    """The files parsed in order, chunk by chunk; nothing at all on a restart with
    unchanged files."""
    if files:
        async for chunk in parse_in_chunks(directory, files):
            yield chunk
