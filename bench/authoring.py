"""Export and bulk-import figures: ``python -m bench.authoring [--size 10000]``.

Targets (issue 19): export of 10,000 terms to any format <= 5 s; importing a 10,000-row
CSV: preview <= 5 s and apply <= 5 s. The glossary is bench.generate's synthetic one; the
CSV is its own export, imported into an empty directory (every row added, every file
written) and then previewed again over the directory it filled (every row compared with
the file parsed the way a reload parses it).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.generate import ensure_glossary
from bot.bulk_import import apply_plan, plan_import
from bot.export import FORMATS, export
from bot.store import Store

TARGET_S = 5.0


async def _terms(directory: Path, scratch: Path) -> list:
    async with await Store.open(scratch / "bench.sqlite3") as store:
        await store.reloads.reload(directory)
        return await store.glossary.all_terms()


class _Timer:
    """Wall time (what the target is about) and this process's CPU time, which tells a
    slow step from a busy machine (the CPU time of parse workers is not counted)."""

    def __enter__(self) -> _Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _line(name: str, timer: _Timer, note: str = "") -> str:
    verdict = "ok" if timer.wall <= TARGET_S else "MISSED"
    return (f"{name:<34} {timer.wall:6.2f} s wall {timer.cpu:6.2f} s cpu  "
            f"(target <= {TARGET_S:.0f} s: {verdict}){note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args(argv)
    glossary = ensure_glossary(args.size) / "terms"
    with tempfile.TemporaryDirectory(prefix="bench-authoring-") as scratch_name:
        scratch = Path(scratch_name)
        terms = asyncio.run(_terms(glossary, scratch))
        print(f"{len(terms):,} terms from {glossary}")
        missed = 0
        for fmt in FORMATS:
            with _Timer() as timer:
                data = export(terms, fmt, "VCA")
            missed += timer.wall > TARGET_S
            print(_line(f"export --format {fmt}", timer, f"  {len(data) / 1e6:.1f} MB"))
            if fmt == "csv":
                sheet = scratch / "glossary.csv"
                sheet.write_bytes(data)
        out = scratch / "terms"
        with _Timer() as timer:
            plan = asyncio.run(plan_import([sheet], out))
        missed += timer.wall > TARGET_S
        print(_line("import preview (empty directory)", timer, f"  {plan.summary()}"))
        for problem in plan.problems[:5]:
            print(f"  {problem}")
        if not plan.ok:
            return 1
        with _Timer() as timer:
            written = apply_plan(plan)
        missed += timer.wall > TARGET_S
        print(_line("import apply", timer, f"  {written:,} files"))
        with _Timer() as timer:
            again = asyncio.run(plan_import([sheet], out))
        missed += timer.wall > TARGET_S or bool(again.writes)
        print(_line("import preview (over those files)", timer, f"  {again.summary()}"))
        shutil.rmtree(out)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
