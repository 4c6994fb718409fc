"""A reload end to end: scan the directory, parse what changed, check, hand it to the store.

The store (``bot.storage.reload``) plans and writes; parsing (``bot.loading``, in worker
processes for many files) and the cross-file checks (``bot.validation``) happen here, so
``glossary-bot check`` runs the very same steps without any database. A large reload
(``SEPARATE_PROCESS_FILES``) runs these same steps in a worker process of its own
(``bot.reload_worker``) on the same WAL database, so the serving process does none of the
work; it only takes the worker's answer and rebuilds its name index.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import itertools
import json
import logging
import pickle
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Protocol

from bot.directory import (
    ParsedFile,
    Scan,
    ScannedFile,
    display_path,
    scan_directory,
)
from bot.errors import EditConflict, InvalidContent, SharedStateUnavailable, StalePublish
from bot.freeing import let_go
from bot.loading import (
    parse_in_chunks,
    prestart_workers,
    start_module_process,
    stop_prestarted,
)
from bot.models import Problem, ReloadDiff
from bot.parse_worker import HEADER_BYTES, frame
from bot.storage.database import Database
from bot.storage.glossary import Glossary
from bot.storage.reload import ReloadBatch, Reloads
from bot.validation import LinkUse, NameUse, cross_file_problems, uses

log = logging.getLogger(__name__)

STALE_RETRIES = 3


# A reload with at least this many files to parse or remove is written by a worker
# process (``bot.reload_worker``): the serving process then does none of its work (parsing
# results, SQLite writing, full-text indexing), which during a 100,000-term replacement
# under load left the event loop waiting up to 66 ms for a core. Smaller reloads stay here:
# a process start (0.2-0.3 s with its imports) would double a one-file reload.
SEPARATE_PROCESS_FILES = 1000
SLUGS_PER_TEXT = 5000  # see pack_diff()
WORKER_EXIT_SECONDS = 5.0  # a worker that answered and does not exit by then is killed


class ReloadWorkerFailed(RuntimeError):
    """The reload worker process died or could not start; the reload runs here instead."""


class Publisher(Protocol):
    """With PostgreSQL (``bot.publishing``): a reload first catches up with what other
    processes published, and publishes what it changed before its transaction commits."""

    async def catch_up(self) -> None: ...

    async def publish(self, batch: ReloadBatch, diff: ReloadDiff, *,
                      writebacks: Sequence[str] | None = None) -> None: ...


class Reloader:
    """``store.reloads``: replaces the glossary with a directory's content."""

    def __init__(self, reloads: Reloads) -> None:
        self._reloads = reloads
        self.lock = self._lock = asyncio.Lock()  # a publisher applies others' changes under it
        self.publisher: Publisher | None = None
        # With PostgreSQL (set by the store): where a reload's history rows are written
        # once it committed; their (first, last) ids back.
        self.history_sink: Callable[[Sequence[Sequence[object]]],
                                    Awaitable[tuple[int, int] | None]] | None = None

    async def reload(self, directory: Path | str) -> ReloadDiff:
        """Replace the glossary with the directory's content, all or nothing.

        Only files whose size or modification time changed since the last load are parsed.
        If any file has an error nothing is written and ``InvalidContent`` carries every
        problem (file, line, message); concurrent reloads are serialised. A large reload
        is written by a worker process in one transaction: lookups here see the old
        glossary until it commits, then the new one. With a publisher (PostgreSQL), the
        reload runs here, publishing before its local commit, and one that lost a race
        with another process's publish catches up and runs again.
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
            scan = await asyncio.to_thread(scan_directory, directory)
            # A publisher publishes inside the reload's own transaction, and the shared
            # history takes the rows this process computes: with either, it runs here.
            if self.publisher is None and self.history_sink is None and (
                    await self._reloads.files_to_write(scan) >= SEPARATE_PROCESS_FILES):
                # The worker scans for itself: 100,000 entries need not wait here.
                await asyncio.to_thread(let_go, scan.files)
                diff = await self._reload_in_worker(directory)
                if diff is not None:
                    return diff
                scan = await asyncio.to_thread(scan_directory, directory)
            try:
                async with self._reloads.batch(scan) as batch:
                    diff = await write_checked(batch, directory, scan)
                    if self.publisher is not None:  # before the local commit: all or nothing
                        await self.publisher.publish(batch, diff)
            finally:
                await asyncio.to_thread(let_go, scan.files)  # one changed file of 100,000
            return await self._recorded(diff)

    async def fingerprint(self, file: str) -> str | None:
        """The stored fingerprint of one term file of the glossary (None: no such term):
        what an editor of a database-only glossary opened, checked again on save."""
        return await self._reloads.stored_fingerprint(file)

    async def apply(self, edits: Mapping[str, str | None],
                    expected: Mapping[str, str | None], *,
                    files_elsewhere: bool = False) -> ReloadDiff:
        """Change a glossary that has no directory: ``edits`` maps term file names to their
        new text (None: remove the term), checked exactly as a reload checks files, in one
        transaction with the same cross-term checks; nothing changes on a problem
        (InvalidContent). ``expected`` is each file's fingerprint when the editor opened it
        (None: it must not exist yet); another change since raises EditConflict.

        ``files_elsewhere`` (PostgreSQL): the glossary has term files, on another host;
        the publish asks that host to write the edit to them. With a publisher, an edit
        that lost a race with another process's publish catches up and is checked again:
        if that publish changed one of its terms, EditConflict (one of two editors wins,
        the other gets their text back).
        """
        for attempt in range(STALE_RETRIES):
            try:
                return await self._apply(edits, expected, files_elsewhere)
            except StalePublish:
                if attempt == STALE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _apply(self, edits: Mapping[str, str | None],
                     expected: Mapping[str, str | None], files_elsewhere: bool
                     ) -> ReloadDiff:
        async with self._lock:
            if self.publisher is not None:
                await self.publisher.catch_up()
            shown = f"glossary {self._reloads.glossary_name}"
            stored = await self._reloads.stored()
            try:
                scan = await asyncio.to_thread(_edited_scan, stored, edits, expected,
                                               time.time_ns())
            finally:
                await asyncio.to_thread(let_go, stored)
            texts = {name: text for name, text in edits.items() if text is not None}
            try:
                async with self._reloads.batch(scan) as batch:
                    problems: list[Problem] = []
                    async for chunk in _parse_texts(batch.to_parse, texts, shown):
                        problems += [p for parsed in chunk for p in parsed.problems]
                        await batch.write(chunk)
                    diff = await _finish_checked(batch, problems, shown)
                    if self.publisher is not None:  # as a reload: published before it commits
                        writebacks = ([name.rsplit(".", 1)[0] for name in edits]
                                      if files_elsewhere else None)
                        await self.publisher.publish(batch, diff, writebacks=writebacks)
            finally:
                await asyncio.to_thread(let_go, scan.files)  # every stored file, as a reload
            return await self._recorded(diff)

    async def _recorded(self, diff: ReloadDiff) -> ReloadDiff:
        """With PostgreSQL, the committed reload's history goes to the shared history
        (``history_sink``: ``History.insert_reload``), under the lock, so the next
        reload's rows follow it. The reload itself stands if PostgreSQL fails now: its
        change was published; only its history entry is missing (logged)."""
        if not diff.pending_history or self.history_sink is None:
            return diff
        try:
            ids = await self.history_sink(diff.pending_history)
        except SharedStateUnavailable as exc:
            log.warning("Glossary %s reloaded, but its %d history row(s) could not be "
                        "written to PostgreSQL (%s)", self._reloads.glossary_name,
                        len(diff.pending_history), exc)
            ids = None
        return dataclasses.replace(diff, history_ids=ids, pending_history=())


    async def _reload_in_worker(self, directory: Path) -> ReloadDiff | None:
        """The reload written by a worker process; None if the worker failed (logged), so
        the caller writes it here. This process's writes wait meanwhile."""
        async with self._reloads.writes_held():
            try:
                answer = await run_reload_worker(
                    self._reloads.database_path, self._reloads.glossary_id, directory)
            except ReloadWorkerFailed:
                log.warning("The reload worker process failed; reloading in this process",
                            exc_info=True)
                return None
        status, *values = answer
        if status == "invalid":
            problems, valid_terms = values
            raise InvalidContent(problems, valid_terms=valid_terms)
        if status != "ok":
            log.warning("The reload worker process failed (%s); reloading in this process",
                        values[0])
            return None
        packed, names_changed, version = values
        diff = await asyncio.to_thread(unpack_diff, packed)
        await self._reloads.committed(names_changed, version)
        return diff


async def _parse_texts(files: Sequence[ScannedFile], texts: Mapping[str, str], shown: str
                       ) -> AsyncIterator[list[ParsedFile]]:
    """Term texts parsed as the files they would be (the same reader, the same rows), chunk
    by chunk: written to a scratch directory, so a database-only glossary is judged like a
    directory, and parsed as a reload parses one (``parse_in_chunks``: worker processes
    for many texts; 2,000 texts took 5.2 s in one thread, a 10,000-row import must apply
    in 5 s)."""
    if not files:
        return
    scratch = await asyncio.to_thread(tempfile.mkdtemp, prefix="glossary-apply-")
    try:
        await asyncio.to_thread(_write_texts, Path(scratch), files, texts)
        async for chunk in parse_in_chunks(Path(scratch), files, shown):
            yield chunk
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


def _write_texts(scratch: Path, files: Sequence[ScannedFile], texts: Mapping[str, str]
                 ) -> None:
    for name, _mtime, _size in files:
        (scratch / name).write_text(texts[name], encoding="utf-8")


def _edited_scan(stored: Sequence[tuple[str, int, int, str]],
                 edits: Mapping[str, str | None], expected: Mapping[str, str | None],
                 stamp: int) -> Scan:
    """The scan an edit of a database-only glossary reloads: the stored files (``stored``,
    in file order) with the edited ones given a time no file had, so the plan parses
    exactly those, and the removed ones left out. Raises EditConflict if a file the
    editor opened changed or went away since, or a new one's term exists already.

    A worker-thread job: at 100,000 terms, keying and sorting the stored files on the
    event loop held it for about 330 ms on every save. One pass over them, keying only
    what the editor opened, so nothing large is left to free."""
    opened = {name: fingerprint for name, fingerprint in expected.items()
              if fingerprint is not None}
    new_stems = {name.rsplit(".", 1)[0] for name, fingerprint in expected.items()
                 if fingerprint is None}
    kept = []
    for file, mtime_ns, size, fingerprint in stored:  # one pass, nothing keyed
        if file in opened and opened.pop(file) != fingerprint:
            raise EditConflict(f"{file} changed after you opened it", {})
        if new_stems and (stem := file.rsplit(".", 1)[0]) in new_stems:
            raise EditConflict(f"a term named {stem} exists already", {})
        if file not in edits:
            kept.append((file, mtime_ns, size))
    if opened:
        raise EditConflict(f"{next(iter(opened))} was removed after you opened it", {})
    fresh = sorted((name, stamp, len(text.encode("utf-8")))
                   for name, text in edits.items() if text is not None)
    return Scan(list(heapq.merge(kept, fresh, key=itemgetter(0))), ())


async def write_checked(batch: ReloadBatch, directory: Path, scan: Scan) -> ReloadDiff:
    """Parse what the batch needs, write it, run the cross-file checks, finish; raise
    ``InvalidContent`` (the caller's transaction then rolls back) if any file has an
    error. The same steps in this process and in a reload worker process."""
    shown = display_path(directory)
    problems = list(scan.problems)
    if not scan.files and batch.loaded_count:
        problems.append(Problem(shown, 0, "directory", (
            f"has no term files; refusing to remove all {batch.loaded_count} terms "
            "(is content_dir right? to empty the glossary, keep one term file)")))
    async for chunk in _parse(directory, batch.to_parse):
        problems += [p for parsed in chunk for p in parsed.problems]
        await batch.write(chunk)
    return await _finish_checked(batch, problems, shown)


async def _finish_checked(batch: ReloadBatch, problems: Sequence[Problem], shown: str
                          ) -> ReloadDiff:
    """The cross-file checks over what the batch wrote, then the batch finished; or
    ``InvalidContent`` with every problem (the caller's transaction rolls back). Every
    link the store returns is to no term: no slug is passed as known."""
    names, links = await batch.check_candidates()
    clashes, warnings = cross_file_problems(names, links, (), shown)
    found = [*problems, *clashes]
    if any(not p.is_warning for p in found):
        raise InvalidContent([*found, *warnings], valid_terms=await batch.valid_count())
    return await batch.finish([p for p in found if p.is_warning] + warnings)


async def reload_here(database: Path, glossary_id: int, directory: Path) -> tuple:
    """What a reload worker process runs: the reload on connections of its own, as an
    answer for the serving process: ("ok", diff, names_changed, version), ("invalid",
    problems, valid_terms) or ("error", text)."""
    # This process exists for a reload of 1,000 files or more: its parse workers start
    # while it opens the database, scans and plans.
    prestart_workers()
    try:
        return await _reload_here(database, glossary_id, directory)
    finally:
        await stop_prestarted()


async def _reload_here(database: Path, glossary_id: int, directory: Path) -> tuple:
    db = await Database.open(database)
    try:
        reloads = Reloads(db, Glossary(db, glossary_id))
        scan = await asyncio.to_thread(scan_directory, directory)
        try:
            async with reloads.write_batch(scan) as batch:
                diff = await write_checked(batch, directory, scan)
        except InvalidContent as exc:
            return ("invalid", exc.problems, exc.valid_terms)
        return ("ok", pack_diff(diff), batch.names_changed, batch.version)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which reloads itself
        log.exception("Reload in a worker process failed")
        return ("error", f"{type(exc).__name__}: {exc}")
    finally:
        await db.close()


def pack_diff(diff: ReloadDiff) -> tuple:
    """A diff as the worker sends it: each list of slugs as JSON texts of
    SLUGS_PER_TEXT slugs. Unpickling a tuple of 100,000 slugs held the serving process's
    GIL for 25 ms in one C call; a text of JSON is one string to unpickle, and each text
    is parsed in a worker thread in about a millisecond."""
    def texts(slugs: tuple[str, ...]) -> list[str]:
        return [json.dumps(slugs[i:i + SLUGS_PER_TEXT])
                for i in range(0, len(slugs), SLUGS_PER_TEXT)]
    return (texts(diff.added), texts(diff.changed), texts(diff.removed), diff.term_count,
            diff.warnings, diff.history_ids)


def unpack_diff(packed: tuple) -> ReloadDiff:
    """The diff ``pack_diff`` made; a worker-thread job."""
    added, changed, removed, term_count, warnings, history_ids = packed

    def slugs(texts: list[str]) -> tuple[str, ...]:
        return tuple(itertools.chain.from_iterable(json.loads(text) for text in texts))
    return ReloadDiff(slugs(added), slugs(changed), slugs(removed), term_count, warnings,
                      history_ids)


async def run_reload_worker(database: Path, glossary_id: int, directory: Path) -> tuple:
    """Start ``python -m bot.reload_worker``, send it the reload, wait for its answer.

    The worker exits once it has answered; if this coroutine is cancelled, or the bot
    dies, the worker is killed or sees its stdin close and exits, and its uncommitted
    transaction is rolled back by SQLite. Never leaves a process behind.
    """
    try:
        process = await start_module_process("bot.reload_worker")
    except OSError as exc:
        raise ReloadWorkerFailed(f"could not start: {exc}") from exc
    try:
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(frame((str(Path(database).resolve()), glossary_id,
                               str(Path(directory).resolve()))))
            await stdin.drain()
            size = int.from_bytes(await stdout.readexactly(HEADER_BYTES), "big")
            answer = pickle.loads(await stdout.readexactly(size))
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise ReloadWorkerFailed(f"worker exited ({process.returncode})") from exc
        try:
            await asyncio.wait_for(process.wait(), WORKER_EXIT_SECONDS)
        except TimeoutError:
            log.warning("The reload worker did not exit after answering; killing it")
        return answer
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())


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
