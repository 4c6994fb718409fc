"""A reload end to end: scan the directory, parse what changed, check, hand it to the store.

The store (``bot.storage.reload``) plans and writes; parsing (``bot.loading``, in worker
processes for many files) and the cross-file checks (``bot.validation``) happen here, so
``glossary-bot check`` runs the very same steps without any database.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from bot.directory import (
    ParsedFile,
    Scan,
    ScannedFile,
    display_path,
    parse_files,
    scan_directory,
)
from bot.errors import EditConflict, InvalidContent, StalePublish
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

    async def fingerprint(self, file: str) -> str | None:
        """The stored fingerprint of one term file of the glossary (None: no such term):
        what an editor of a database-only glossary opened, checked again on save."""
        found = (await self._reloads.stored()).get(file)
        return found[2] if found else None

    async def apply(self, edits: Mapping[str, str | None],
                    expected: Mapping[str, str | None]) -> ReloadDiff:
        """Change a glossary that has no directory: ``edits`` maps term file names to their
        new text (None: remove the term), checked exactly as a reload checks files, in one
        transaction with the same cross-term checks; nothing changes on a problem
        (InvalidContent). ``expected`` is each file's fingerprint when the editor opened it
        (None: it must not exist yet); another change since raises EditConflict.
        """
        async with self._lock:
            if self.publisher is not None:
                await self.publisher.catch_up()
            shown = f"glossary {self._reloads.glossary_name}"
            stored = await self._reloads.stored()
            stems = {name.rsplit(".", 1)[0]: name for name in stored}
            for name, fingerprint in expected.items():
                current = stored.get(name)
                if fingerprint is None and name.rsplit(".", 1)[0] in stems:
                    raise EditConflict(f"a term named {name.rsplit('.', 1)[0]} exists already",
                                       {})
                if fingerprint is not None and current is None:
                    raise EditConflict(f"{name} was removed after you opened it", {})
                if fingerprint is not None and current is not None and (
                        current[2] != fingerprint):
                    raise EditConflict(f"{name} changed after you opened it", {})
            files = {name: (name, mtime_ns, size) for name, (mtime_ns, size, _) in
                     stored.items()}
            stamp = time.time_ns()
            texts: dict[str, str] = {}
            for name, text in edits.items():
                if text is None:
                    files.pop(name, None)
                else:
                    # A time no file had: the plan parses exactly the edited terms.
                    files[name] = (name, stamp, len(text.encode("utf-8")))
                    texts[name] = text
            scan = Scan(tuple(sorted(files.values())), ())
            async with self._reloads.batch(scan) as batch:
                chunk = await asyncio.to_thread(_parse_texts, batch.to_parse, texts, shown)
                problems = [p for parsed in chunk for p in parsed.problems]
                await batch.write(chunk)
                names, links = await batch.check_candidates()
                clashes, warnings = cross_file_problems(names, links, (), shown)
                problems += clashes
                if any(not p.is_warning for p in problems):
                    raise InvalidContent([*problems, *warnings],
                                         valid_terms=await batch.valid_count())
                diff = await batch.finish([p for p in problems if p.is_warning] + warnings)
                if self.publisher is not None:  # as a reload: published before it commits
                    await self.publisher.publish(batch, diff)
                return diff


def _parse_texts(files: Sequence[ScannedFile], texts: Mapping[str, str], shown: str
                 ) -> list[ParsedFile]:
    """Term texts parsed as the files they would be (the same reader, the same rows): in
    a scratch directory, so a database-only glossary is judged like a directory."""
    with tempfile.TemporaryDirectory(prefix="glossary-apply-") as scratch:
        for name, _mtime, _size in files:
            Path(scratch, name).write_text(texts[name], encoding="utf-8")
        parsed = parse_files(scratch, shown, files)
    return parsed


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
