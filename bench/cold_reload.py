"""The cold reload taken apart: ``python -m bench.cold_reload [--size 10000] [--runs 3]``.

Target 3 of issue 14 (a cold reload of 10,000 terms in 2.5 s on two cores) is missed on
these hosts, and ``bench.core`` measures only the whole. This splits it into the parts
that decide whether the target can be met, each run in a fresh process so its CPU
(``getrusage`` of the process and of its reaped children, the reload worker and the parse
workers) is its own:

- ``reload``: a new Store on an empty database, ``reloads.reload`` of the directory, as
  ``bench.core`` measures it (through the reload worker).
- ``parse``: the same files through ``bot.loading.parse_in_chunks`` (the parse workers),
  nothing written: the parse's share of the wall time.
- ``inline``: every file parsed in this one process (``bot.directory.parse_files``): the
  parse's CPU without workers, pickling or process starts, and its cost per file.
- ``here``: the reload as the reload worker runs it (``bot.reloading.reload_here``), in
  this process: the yardstick for the two floors, which run it the same way.
- ``yaml-floor``: as ``here``, but the parse workers (``bench.floor_worker``) only read
  and compose each file's YAML and answer with rows built beforehand: what the reload
  costs when our validation and row building cost nothing.
- ``write-floor``: as ``here``, with workers that only read the files: what the writer,
  the cross-file checks, the commit and the plumbing cost with no parsing at all.
- ``sqlite-floor``: the rows built beforehand, written by the reload's own inserts
  (``bot.storage.reload._insert_terms``) straight through ``sqlite3`` in this one thread,
  in the reload's chunks, then committed: what SQLite itself costs, with no processes,
  pickling or thread hops. Prints each table's share of the CPU too.

Runs alternate the parts (reload, parse, inline, reload, ...) so a host whose speed moves
moves all of them. Prints each run, then the median of each part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import pickle
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import floor_worker
from bench.generate import ensure_glossary

PARTS = ("reload", "parse", "inline", "here", "yaml-floor", "write-floor", "sqlite-floor")
FLOORS = {"yaml-floor": "compose", "write-floor": "read"}


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children, user and system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


async def _reload(terms: Path, work: Path) -> int:
    from bot.store import Store

    store = await Store.open(work / "cold.sqlite3")
    try:
        return (await store.reloads.reload(terms)).term_count
    finally:
        await store.close()


async def _parse(terms: Path) -> int:
    from bot.directory import scan_directory
    from bot.loading import parse_in_chunks

    count = 0
    async for chunk in parse_in_chunks(terms, scan_directory(terms).files):
        count += len(chunk)
    return count


def _inline(terms: Path) -> int:
    from bot.directory import display_path, parse_files, scan_directory

    files = scan_directory(terms).files
    return len(parse_files(terms, display_path(terms), files))


async def _here(database: Path, terms: Path) -> int:
    from bot.reloading import reload_here

    answer = await reload_here(database, 1, terms)
    if answer[0] != "ok":
        raise RuntimeError(f"the reload did not commit: {answer!r:.300}")
    return answer[1][3]  # pack_diff's term count


def _new_database(database: Path) -> None:
    from bot.store import Store

    async def create() -> None:
        await (await Store.open(database)).close()
    asyncio.run(create())


def _parsed(terms: Path) -> list:
    from bot.directory import display_path, parse_files, scan_directory

    return parse_files(terms, display_path(terms), scan_directory(terms).files)


class _Straight:
    """The two calls ``_insert_terms`` makes on its connection, run at once on a plain
    ``sqlite3`` connection, with each table's CPU noted."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.cpu: dict[str, float] = {}

    def _timed(self, sql: str, call: Callable[[], object]) -> None:
        table = sql.split("INTO", 1)[1].split("(", 1)[0].strip()
        started = time.thread_time()
        call()
        self.cpu[table] = self.cpu.get(table, 0.0) + time.thread_time() - started

    async def executemany(self, sql: str, rows: list) -> None:
        self._timed(sql, lambda: self.connection.executemany(sql, rows))

    async def execute(self, sql: str, params: tuple = ()) -> None:
        self._timed(sql, lambda: self.connection.execute(sql, params))


def _write_straight(database: Path, parsed: list) -> tuple[int, dict[str, float]]:
    from bot.loading import CHUNK_FILES
    from bot.storage.database import _PRAGMAS, _WRITER_PRAGMAS
    from bot.storage.reload import _insert_terms

    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.executescript(_PRAGMAS + _WRITER_PRAGMAS)
        straight = _Straight(connection)
        connection.execute("BEGIN IMMEDIATE")

        async def write_all() -> None:  # one event loop: nothing awaited ever waits
            for start in range(0, len(parsed), CHUNK_FILES):
                chunk = [(start + number + 1, p)
                         for number, p in enumerate(parsed[start:start + CHUNK_FILES])]
                await _insert_terms(straight, 1, chunk)  # type: ignore[arg-type]
        asyncio.run(write_all())
        started = time.thread_time()
        connection.execute("COMMIT")
        straight.cpu["commit"] = time.thread_time() - started
        return len(parsed), straight.cpu
    finally:
        connection.close()


@contextlib.contextmanager
def _floor_workers(mode: str, terms: Path, work: Path) -> Iterator[None]:
    """The parse workers replaced by ``bench.floor_worker`` in ``mode``, with every
    file's rows built here first (not timed), for a glossary of any size."""
    import bot.loading

    records = work / "records.pickle"
    parsed = _parsed(terms)
    records.write_bytes(pickle.dumps(
        {p.file[0]: pickle.dumps(p, pickle.HIGHEST_PROTOCOL) for p in parsed},
        pickle.HIGHEST_PROTOCOL))
    del parsed
    gc.collect()
    real = bot.loading.start_module_process, bot.loading.PROCESS_THRESHOLD, bot.loading.parse_files

    async def start(module: str) -> asyncio.subprocess.Process:
        if module != "bot.parse_worker":
            return await real[0](module)
        os.environ[floor_worker.RECORDS_ENV], os.environ[floor_worker.MODE_ENV] = (
            str(records), mode)
        return await real[0]("bench.floor_worker")

    def no_fallback(*_: object) -> None:
        # A floor whose workers failed would otherwise parse for real in a thread, and
        # print the real reload's time as the floor.
        raise RuntimeError("the floor's parse workers failed")

    (bot.loading.start_module_process, bot.loading.PROCESS_THRESHOLD,
     bot.loading.parse_files) = start, 0, no_fallback
    try:
        yield
    finally:
        (bot.loading.start_module_process, bot.loading.PROCESS_THRESHOLD,
         bot.loading.parse_files) = real


def child(part: str, terms: Path) -> dict[str, Any]:
    """One part, measured in this (fresh) process; set-up (a floor's rows, the empty
    database ``here`` and the floors reload into) is not timed."""
    with tempfile.TemporaryDirectory(prefix="cold-reload-") as work_dir:
        work = Path(work_dir)
        run: Callable[[], int]
        detail: dict[str, object] = {}
        database = work / "cold.sqlite3"
        if part not in ("reload", "parse", "inline"):
            _new_database(database)
        with contextlib.ExitStack() as stack:
            if part == "reload":
                run = lambda: asyncio.run(_reload(terms, work))  # noqa: E731
            elif part == "parse":
                run = lambda: asyncio.run(_parse(terms))  # noqa: E731
            elif part == "inline":
                run = lambda: _inline(terms)  # noqa: E731
            elif part == "sqlite-floor":
                parsed = _parsed(terms)
                gc.collect()

                def run() -> int:
                    count, detail["cpu_by_table"] = _write_straight(database, parsed)
                    return count
            else:
                if part in FLOORS:
                    stack.enter_context(_floor_workers(FLOORS[part], terms, work))
                run = lambda: asyncio.run(_here(database, terms))  # noqa: E731
            cpu, started = _cpu(), time.perf_counter()
            count = run()
            return {"wall_s": time.perf_counter() - started, "cpu_s": _cpu() - cpu,
                    "files": count, **detail}


def run_part(part: str, terms: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.cold_reload", "--child", part, "--terms", str(terms)],
        check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--terms", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.terms)))
        return
    parts = [part for part in args.parts.split(",") if part]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    terms = ensure_glossary(args.size) / "terms"
    results: dict[str, list[dict[str, Any]]] = {part: [] for part in parts}
    for number in range(1, args.runs + 1):
        for part in parts:
            result = run_part(part, terms)
            results[part].append(result)
            per_file = result["cpu_s"] / max(result["files"], 1) * 1e6
            print(f"run {number} {part:11} {result['wall_s']:6.2f} s wall "
                  f"{result['cpu_s']:6.2f} CPU-s  {per_file:5.0f} us CPU a file "
                  f"({result['files']:,.0f} files)", flush=True)
            if tables := result.get("cpu_by_table"):
                print("      CPU-s by table: " + ", ".join(
                    f"{table} {cpu:.2f}" for table, cpu in tables.items()), flush=True)
    for part, runs in results.items():
        print(f"median  {part:11} {statistics.median(r['wall_s'] for r in runs):6.2f} s wall "
              f"{statistics.median(r['cpu_s'] for r in runs):6.2f} CPU-s")


if __name__ == "__main__":
    main()
