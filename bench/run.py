"""Run every benchmark and print one table: ``python -m bench.run [--sizes ...] [--quick]``.

Benchmark modules are listed in MODULES; each exposes ``collect(ctx) -> list[Row]``. A
module that does not exist yet (bench.e2e) is shown as a labelled placeholder, so adding
it later needs no change here beyond nothing at all: dropping bench/e2e.py in is enough.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench import core
from bench.generate import GENERATOR_VERSION, ensure_glossary
from bench.report import Row, misses, render, short_size

DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
TOTAL_BUDGET_S = 570.0  # the whole run must finish in under 10 minutes
# (module, placeholder shown while it does not exist)
MODULES: tuple[tuple[str, str], ...] = (
    ("bench.core", ""),
    ("bench.e2e", "end-to-end: see bench/e2e.py, added later "
                  "(interactions/s vs a bare discord.py bot through a fake Discord)"),
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
    from bot import content

    loader = getattr(content, "_Loader", None)
    return [
        f"cpu: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"sqlite {sqlite3.sqlite_version}, PyYAML {yaml.__version__} libyaml "
        f"{'available' if libyaml else 'MISSING'}, loader used: "
        f"{getattr(loader, '__name__', '?')}",
    ]


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

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    glossaries: dict[int, Path] = {}
    for size in sizes:
        before = time.monotonic()
        glossaries[size] = ensure_glossary(size)
        log(f"glossary {short_size(size)} ready in {time.monotonic() - before:.1f} s "
            f"({glossaries[size]})")
    ctx = core.Context(sizes=sizes, quick=args.quick, glossaries=glossaries, deadline=deadline)

    rows: list[Row] = []
    placeholders: list[str] = []
    for name, placeholder in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name or not placeholder:
                raise
            placeholders.append(placeholder)
            continue
        rows.extend(module.collect(ctx, log))

    print("\n".join(machine()))
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
