"""Run every benchmark and print one table: ``python -m bench.run [--sizes ...] [--quick]``.

Benchmark modules are listed in MODULES, in the order they run; each exposes
``collect(ctx, log) -> list[Row]``. A module that does not exist yet is shown as a labelled
placeholder, so adding one needs no change here: dropping the file in is enough.

Each module gets ``ctx.reserve``, the seconds the modules after it say they need (see
``time_needed``), so an earlier module that could use all the time left (the core
benchmark at 100k) leaves the end-to-end benchmark its share instead of getting it skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import yaml

from bench import core
from bench.generate import GENERATOR_VERSION, ensure_glossary
from bench.report import Row, misses, render, short_size

DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
TOTAL_BUDGET_S = 590.0  # the whole run must finish in under 10 minutes
REPORT_S = 5.0  # printing the table and the summary, kept back from the last module
# (module, placeholder shown while it does not exist)
MODULES: tuple[tuple[str, str], ...] = (
    ("bench.core", ""),
    ("bench.authoring", ""),  # export, import, an edit visible in /define (10k terms)
    ("bench.e2e", "end-to-end: see bench/e2e.py, added later "
                  "(interactions/s vs a bare discord.py bot through a fake Discord)"),
    # Full runs only (its time_needed is 0 with --quick, where it prints a skipped row).
    ("bench.scale", "scale: see bench/scale.py (N processes x M shards, 16,000 servers)"),
    ("bench.publish", ""),  # needs PostgreSQL; says "skipped" without one
)


def machine() -> list[str]:
    """What the figures were measured on: they mean little without it."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libyaml = getattr(yaml, "__with_libyaml__", False) and hasattr(yaml, "CSafeLoader")
    from bot import content, loading, reloading

    loader = getattr(content, "_Loader", None)
    return [
        f"cpu: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"sqlite {sqlite3.sqlite_version}, PyYAML {yaml.__version__} libyaml "
        f"{'available' if libyaml else 'MISSING'}, loader used: "
        f"{getattr(loader, '__name__', '?')}; parse workers: {loading.worker_count()} "
        f"processes from {loading.PROCESS_THRESHOLD} files; reloads of "
        f"{reloading.SEPARATE_PROCESS_FILES}+ files written by a reload worker process",
    ]


def time_needed(module: ModuleType, quick: bool) -> float:
    """Seconds a module asks to be left for it: its own ``time_needed(quick)``, what a run
    of it takes here (its caps bound it on a slow machine), else nothing."""
    needed = getattr(module, "time_needed", None)
    return float(needed(quick)) if callable(needed) else 0.0


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not sizes or min(sizes) < 20:
        raise argparse.ArgumentTypeError("sizes must be at least 20 terms each")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Glossary-bot performance benchmarks."
    )
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="comma-separated glossary sizes (default 1000,10000,100000; "
                             "--quick: 1000,10000)")
    parser.add_argument("--quick", action="store_true",
                        help="short measurements and single reloads (~1 minute): a smoke test")
    args = parser.parse_args(argv)
    sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    started = time.monotonic()
    deadline = started + TOTAL_BUDGET_S
    load_at_start = os.getloadavg()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    glossaries: dict[int, Path] = {}
    for size in sizes:
        before = time.monotonic()
        glossaries[size] = ensure_glossary(size)
        log(f"glossary {short_size(size)} ready in {time.monotonic() - before:.1f} s "
            f"({glossaries[size]})")
    ctx = core.Context(sizes=sizes, quick=args.quick, glossaries=glossaries,
                       deadline=deadline - REPORT_S)

    modules: list[ModuleType] = []
    placeholders: list[str] = []
    for name, placeholder in MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name or not placeholder:
                raise
            placeholders.append(placeholder)
    rows: list[Row] = []
    for index, module in enumerate(modules):
        reserve = sum(time_needed(later, args.quick) for later in modules[index + 1:])
        rows.extend(module.collect(dataclasses.replace(ctx, reserve=reserve), log))

    print("\n".join(machine()))
    # Two cores shared with other work: a figure means little without the load beside it.
    print("load average (1/5/15 min) at start {:.2f}/{:.2f}/{:.2f}, at end {:.2f}/{:.2f}/{:.2f}"
          .format(*load_at_start, *os.getloadavg()))
    print(f"sizes: {', '.join(short_size(s) for s in sizes)}; generator v{GENERATOR_VERSION}; "
          f"{'quick' if args.quick else 'full'} run; p50/p99 are medians over rounds")
    print()
    print(render(rows, sizes))
    for placeholder in placeholders:
        print(f"[{placeholder}]")
    missed = misses(rows, sizes)
    print()
    print("targets missed:" if missed else "all targets met")
    for line in missed:
        print(f"  - {line}")
    print(f"\ntotal time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
