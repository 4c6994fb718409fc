"""Parsing many term files without stalling the bot: worker processes, a few at a time.

Composing YAML is pure Python work that holds the GIL, so in a thread it would still
compete with the event loop; in worker processes it runs on the other cores and the
serving process only receives finished rows. Results arrive chunk by chunk, in file
order, with at most a few chunks in flight, so a 100,000-term reload never holds more
than a few thousand parsed terms in memory. A handful of changed files is parsed in a
thread: starting processes would cost more than it saves.

The workers are plain ``python -m bot.parse_worker`` processes fed pickled chunks over
their stdin, not a ``multiprocessing`` pool: "spawn" would import the parent's main module again
in every worker (a script without a main guard would run twice), and a pool's workers
outlive a parent killed by SIGKILL. Here a worker exits as soon as its stdin closes, which
the kernel does when the parent dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
from collections import deque
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import bot
from bot.directory import ParsedFile, ScannedFile, display_path, parse_files
from bot.parse_worker import HEADER_BYTES, frame

log = logging.getLogger(__name__)

# A chunk's answer is unpickled on the event loop in one C call: 250 files took 17-20 ms
# there during a 100,000-file reload, 100 take under 10.
CHUNK_FILES = 100
PROCESS_THRESHOLD = 1000  # fewer files than this are parsed in a thread
CHUNKS_IN_FLIGHT_PER_WORKER = 2


class WorkerFailed(RuntimeError):
    """A worker process died or answered with an error; parsing goes on in a thread."""


def worker_count() -> int:
    """One per core, up to four. Measured on two cores: with one worker parsing is the
    bottleneck (10,000 files: 4.3 s against 3.3 s with two); the serving thread still gets
    its turns, as the workers lower their own priority (see bot.parse_worker)."""
    return max(1, min(4, os.cpu_count() or 2))


async def start_module_process(module: str) -> asyncio.subprocess.Process:
    """``python -m module`` with pipes for stdin and stdout, finding this package even
    when the bot was started from elsewhere."""
    package_root = str(Path(bot.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": path},
    )


class _Worker:
    """One worker process; requests are answered one at a time, in order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lock = asyncio.Lock()

    @classmethod
    async def start(cls) -> _Worker:
        return cls(await start_module_process("bot.parse_worker"))

    async def parse(self, directory: str, shown: str, chunk: Sequence[ScannedFile]
                    ) -> list[ParsedFile]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        async with self.lock:
            try:
                stdin.write(frame((directory, shown, list(chunk))))
                await stdin.drain()
                size = int.from_bytes(await stdout.readexactly(HEADER_BYTES), "big")
                status, value = pickle.loads(await stdout.readexactly(size))
            except (OSError, asyncio.IncompleteReadError) as exc:
                raise WorkerFailed(f"worker exited ({self.process.returncode})") from exc
        if status != "ok":
            raise WorkerFailed(value)
        return value

    async def stop(self) -> None:
        """Close its stdin so it exits; kill it if it does not within a moment."""
        with contextlib.suppress(Exception):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 2.0)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            raise


async def parse_in_chunks(
    directory: Path, files: Sequence[ScannedFile], shown: str | None = None
) -> AsyncIterator[list[ParsedFile]]:
    """Yield the parsed files in order, one chunk at a time. ``shown`` names the files'
    place in problems (default: the directory; a database-only glossary's texts are
    parsed in a scratch directory but named after the glossary)."""
    shown = shown or display_path(directory)
    chunks = [files[i : i + CHUNK_FILES] for i in range(0, len(files), CHUNK_FILES)]
    done = 0
    if len(files) >= PROCESS_THRESHOLD:
        try:
            async for parsed in _in_processes(directory, shown, chunks):
                done += 1
                yield parsed
            return
        except (WorkerFailed, OSError):
            log.warning("Parsing in worker processes failed; parsing in a thread instead",
                        exc_info=True)
    for chunk in chunks[done:]:
        yield await asyncio.to_thread(parse_files, directory, shown, chunk)


# Workers started ahead of their first chunk (``prestart_workers``), taken by the next
# parse in processes; those no parse took are stopped by ``stop_prestarted``.
_prestarted: list[asyncio.Task[_Worker]] = []


def prestart_workers() -> None:
    """Start the parse workers now, for a parse in processes that is sure to follow: the
    reload worker process does this first thing, so the workers' start and imports (about
    0.1 s each) run while it opens the database, scans and plans, not after."""
    if not _prestarted:
        _prestarted.extend(asyncio.ensure_future(_Worker.start())
                           for _ in range(worker_count()))


async def stop_prestarted() -> None:
    """Stop the prestarted workers that no parse took (nothing to parse, or few files)."""
    tasks = list(_prestarted)
    _prestarted.clear()
    started = await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(worker.stop() for worker in started if isinstance(worker, _Worker)),
                         return_exceptions=True)


async def _in_processes(
    directory: Path, shown: str, chunks: Sequence[Sequence[ScannedFile]]
) -> AsyncIterator[list[ParsedFile]]:
    ready = list(_prestarted)
    _prestarted.clear()
    try:
        workers = list(await asyncio.gather(
            *(ready or [_Worker.start() for _ in range(worker_count())])))
    except BaseException:
        for task in ready:
            task.cancel()
        await asyncio.gather(*ready, return_exceptions=True)
        for task in ready:
            if not task.cancelled() and task.exception() is None:
                await task.result().stop()
        raise
    pending: deque[asyncio.Task[list[ParsedFile]]] = deque()
    remaining = enumerate(chunks)

    def submit_next() -> None:
        for number, chunk in remaining:
            worker = workers[number % len(workers)]
            pending.append(asyncio.create_task(worker.parse(str(directory), shown, chunk)))
            return

    try:
        for _ in range(len(workers) * CHUNKS_IN_FLIGHT_PER_WORKER):
            submit_next()
        while pending:
            parsed = await pending.popleft()
            submit_next()
            yield parsed
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.gather(*(worker.stop() for worker in workers), return_exceptions=True)
