"""The process the crash-safety test kills: reloads two glossary versions in turn, forever.

Usage: ``python -m tests.hardening.crash_child DB DIR_A DIR_B``. Prints, flushing each line:

* ``flushed N`` only after ``store.records.flush_usage()`` returned (N lookups of ``term-00000``
  this run, all committed);
* ``reloading X`` / ``reloaded X SECONDS`` around each reload of directory X (A or B).

It never stops by itself; the parent kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from bot.store import Store

LOOKUPS_PER_ROUND = 7


async def main(database: str, *directories: str) -> None:
    store = await Store.open(database)
    flushed = 0
    print("open", flush=True)
    while True:
        for directory in directories:
            for _ in range(LOOKUPS_PER_ROUND):
                store.records.record_lookup("term-00000")
            await store.records.flush_usage()
            flushed += LOOKUPS_PER_ROUND
            print(f"flushed {flushed}", flush=True)
            name = Path(directory).name
            print(f"reloading {name}", flush=True)
            started = time.perf_counter()
            await store.reloads.reload(directory)
            print(f"reloaded {name} {time.perf_counter() - started:.3f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
