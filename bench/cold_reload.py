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

Runs alternate the parts (reload, parse, inline, reload, ...) so a host whose speed moves
moves all of them. Prints each run, then the median of each part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import ensure_glossary

PARTS = ("reload", "parse", "inline")


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


def child(part: str, terms: Path) -> dict[str, float]:
    """One part, measured in this (fresh) process."""
    with tempfile.TemporaryDirectory(prefix="cold-reload-") as work:
        cpu, started = _cpu(), time.perf_counter()
        if part == "reload":
            count = asyncio.run(_reload(terms, Path(work)))
        elif part == "parse":
            count = asyncio.run(_parse(terms))
        else:
            count = _inline(terms)
        return {"wall_s": time.perf_counter() - started, "cpu_s": _cpu() - cpu,
                "files": count}


def run_part(part: str, terms: Path) -> dict[str, float]:
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
    results: dict[str, list[dict[str, float]]] = {part: [] for part in parts}
    for number in range(1, args.runs + 1):
        for part in parts:
            result = run_part(part, terms)
            results[part].append(result)
            per_file = result["cpu_s"] / max(result["files"], 1) * 1e6
            print(f"run {number} {part:7} {result['wall_s']:6.2f} s wall "
                  f"{result['cpu_s']:6.2f} CPU-s  {per_file:5.0f} us CPU a file "
                  f"({result['files']:,.0f} files)", flush=True)
    for part, runs in results.items():
        print(f"median  {part:7} {statistics.median(r['wall_s'] for r in runs):6.2f} s wall "
              f"{statistics.median(r['cpu_s'] for r in runs):6.2f} CPU-s")


if __name__ == "__main__":
    main()
