"""Many glossaries in one process: ``python -m bench.glossaries [--glossaries N] [--terms M]``.

Issue 15's targets, measured through the real ``Store`` on a real SQLite file, each phase
in a fresh process so every memory and time figure is its own:

- ``single``: one glossary of M terms; ``/define`` (``card()``, first read through SQLite
  and cached) p50 and autocomplete p99, as the baseline.
- ``many``: N glossaries of M terms, all registered and loaded (what the bot's start-up
  does), every glossary's name index built by one autocomplete; then RSS, autocomplete
  p99 and ``card()`` p50 over random glossaries; then one glossary's files are all
  rewritten and it is reloaded while other glossaries' lookups run and a 1 ms ticker
  records the loop's lag.
- ``restart``: a fresh process opens the same database and loads all N glossaries with
  unchanged files: the start-up time.

Term files are generated once under bench/out/ (git-ignored). Prints one line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.core import Ticker, percentile, proc_status_mb
from bot.content import dump_term
from bot.models import Term

OUT = Path(__file__).resolve().parent / "out"
WORDS = ("data", "cache", "route", "query", "table", "model", "stream", "index", "token",
         "graph", "queue", "shard", "view", "state", "event", "socket", "schema", "batch")


def _term(glossary: int, number: int) -> Term:
    """Every glossary has terms term-0 ... term-(M-1): the same slugs, different terms."""
    rng = random.Random(glossary * 100_003 + number)
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {number}"
    text = " ".join(rng.choice(WORDS) for _ in range(40))
    return Term(slug=f"term-{number}", title=title,
                definition=f"In glossary {glossary}: {text}.", why_it_matters=text + ".",
                course_example=text + ".", real_world_example=text + ".",
                common_mistakes=(text + ".",), category=rng.choice(WORDS[:4]),
                related=(f"term-{(number + 1) % 100}",))


def ensure_dirs(glossaries: int, terms: int) -> Path:
    root = OUT / f"glossaries-{glossaries}x{terms}"
    if (root / "done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for g in range(glossaries):
        directory = root / f"g{g:04d}"
        directory.mkdir(parents=True)
        for n in range(terms):
            (directory / f"term-{n}.yaml").write_text(dump_term(_term(g, n)), encoding="utf-8")
    (root / "done").write_text("ok")
    return root


def _prefixes(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS)[: rng.randint(1, 4)] for _ in range(count)]


async def _timed(calls: list) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def _ms(samples: list[float], fraction: float) -> float:
    return round(percentile(samples, fraction) * 1000, 3)


async def _load(store, root: Path, count: int) -> None:
    names = [f"g{g:04d}" for g in range(count)]
    await store.use_glossaries(names, names[0])
    for name in names:
        await store.reloader(name).reload(root / name)


async def phase_single(root: Path, work: Path, terms: int) -> dict:
    from bot.store import Store

    rng = random.Random(1)
    for suffix in ("", "-wal", "-shm"):  # a fresh database: no schema from an older run
        Path(f"{work / 'single.sqlite3'}{suffix}").unlink(missing_ok=True)
    async with await Store.open(work / "single.sqlite3") as store:
        await _load(store, root, 1)
        glossary = store.glossary_named("g0000")
        await glossary.autocomplete("a")
        slugs = [f"term-{n}" for n in range(terms)]
        first = await _timed([lambda s=s: glossary.card(s) for s in slugs])
        picks = [rng.choice(slugs) for _ in range(5000)]
        cached = await _timed([lambda s=s: glossary.card(s) for s in picks])
        auto = await _timed([lambda p=p: glossary.autocomplete(p) for p in _prefixes(rng, 5000)])
    return {"define_first_p50_ms": _ms(first, 0.5), "define_cached_p50_ms": _ms(cached, 0.5),
            "autocomplete_p99_ms": _ms(auto, 0.99),
            "rss_mb": round(proc_status_mb()["VmRSS"], 1)}


async def phase_many(root: Path, work: Path, count: int, terms: int) -> dict:
    from bot.store import Store

    rng = random.Random(2)
    database = work / "many.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    out: dict[str, float] = {}
    async with await Store.open(database) as store:
        started = time.perf_counter()
        await _load(store, root, count)
        out["cold_load_s"] = round(time.perf_counter() - started, 2)
        glossaries = [store.glossary_named(f"g{g:04d}") for g in range(count)]
        for glossary in glossaries:
            await glossary.autocomplete("a")  # every name index in memory
        out["rss_mb"] = round(proc_status_mb()["VmRSS"], 1)
        async with await Store.open(work / "single.sqlite3") as single_store:
            await single_store.use_glossaries(["g0000"], "g0000")
            single = single_store.glossary
            await single.autocomplete("a")
            out.update(await _compare(single, glossaries, rng, terms))
        out.update(await _reload_one(store, root, glossaries, rng, terms))
    return out


async def _compare(single, glossaries: list, rng: random.Random, terms: int) -> dict:
    """The same lookups on a one-glossary store and on the thousand, interleaved call by
    call in one process, so both see the same machine (this one is shared)."""
    count = len(glossaries)
    pairs = list({(rng.randrange(count), rng.randrange(terms)) for _ in range(6000)})[:5000]
    times: dict[str, list[float]] = {k: [] for k in (
        "single_first", "many_first", "single_cached", "many_cached", "single_auto",
        "many_auto")}

    async def timed(key: str, call) -> None:
        started = time.perf_counter()
        await call
        times[key].append(time.perf_counter() - started)

    for g, n in pairs:  # first reads: every (glossary, term) once; single repeats its 100
        await timed("many_first", glossaries[g].card(f"term-{n}"))
    for g, n in pairs:
        await timed("many_cached", glossaries[g].card(f"term-{n}"))
        await timed("single_cached", single.card(f"term-{n}"))
    for prefix in _prefixes(rng, 5000):
        await timed("many_auto", rng.choice(glossaries).autocomplete(prefix))
        await timed("single_auto", single.autocomplete(prefix))
    # The single store's first reads: its cache emptied before each round of 100.
    for _ in range(len(pairs) // terms):
        single._cards.clear()
        for n in range(terms):
            await timed("single_first", single.card(f"term-{n}"))
    return {"define_first_p50_ms": _ms(times["many_first"], 0.5),
            "single_define_first_p50_ms": _ms(times["single_first"], 0.5),
            "define_cached_p50_ms": _ms(times["many_cached"], 0.5),
            "single_define_cached_p50_ms": _ms(times["single_cached"], 0.5),
            "autocomplete_p99_ms": _ms(times["many_auto"], 0.99),
            "single_autocomplete_p99_ms": _ms(times["single_auto"], 0.99),
            "autocomplete_p50_ms": _ms(times["many_auto"], 0.5),
            "single_autocomplete_p50_ms": _ms(times["single_auto"], 0.5)}


async def _reload_one(store, root: Path, glossaries: list, rng: random.Random, terms: int
                      ) -> dict:
    """Every file of one glossary rewritten (new text, same names), then reloaded while
    lookups in the others run and a ticker measures the loop's lag."""
    target = root / "g0001"
    for n in range(terms):
        term = _term(1, n)
        path = target / f"term-{n}.yaml"
        path.write_text(dump_term(term).replace("In glossary 1:", f"Edited {time.time()}:"),
                        encoding="utf-8")
    others = glossaries[2:]
    lookups: list[float] = []
    stop = False

    async def lookup_load() -> None:
        while not stop:
            started = time.perf_counter()
            await rng.choice(others).autocomplete(rng.choice(WORDS)[:2])
            await rng.choice(others).card(f"term-{rng.randrange(terms)}")
            lookups.append(time.perf_counter() - started)
            await asyncio.sleep(0.002)

    ticker = Ticker()
    ticker.start()
    load = asyncio.ensure_future(lookup_load())
    started = time.perf_counter()
    diff = await store.reloader("g0001").reload(target)
    took = time.perf_counter() - started
    stop = True
    await load
    lag = await ticker.stop()
    assert len(diff.changed) == terms, diff
    edited = await glossaries[1].card("term-0")
    assert edited.term.definition.startswith("Edited"), edited.term.definition
    return {"reload_one_s": round(took, 3), "reload_lag_max_ms": round(lag["max_ms"], 1),
            "reload_lag_p99_ms": round(lag["p99_ms"], 2),
            "lookups_during_reload_p99_ms": _ms(lookups or [0.0], 0.99)}


async def phase_restart(root: Path, work: Path, count: int) -> dict:
    """What GlossaryBot.setup_hook does with the store: register, skip unchanged
    glossaries, reload the others (none here), then warm the indexes in the background."""
    from bot.startup import unchanged_glossaries, warm_indexes
    from bot.store import Store

    started = time.perf_counter()
    async with await Store.open(work / "many.sqlite3") as store:
        names = [f"g{g:04d}" for g in range(count)]
        await store.use_glossaries(names, names[0])
        unchanged = await unchanged_glossaries(store, {n: root / n for n in names})
        for name in names:
            if name not in unchanged:
                await store.reloader(name).reload(root / name)
        loaded = time.perf_counter() - started
        await warm_indexes(store)
        warm = time.perf_counter() - started
    return {"startup_unchanged_s": round(loaded, 2), "startup_warm_s": round(warm, 2),
            "startup_reloaded": count - len(unchanged),
            "startup_rss_mb": round(proc_status_mb()["VmRSS"], 1)}


def _child(phase: str, args: argparse.Namespace, root: Path, work: Path) -> dict:
    command = [sys.executable, "-m", "bench.glossaries", "--phase", phase,
               "--glossaries", str(args.glossaries), "--terms", str(args.terms)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glossaries", type=int, default=1000)
    parser.add_argument("--terms", type=int, default=100)
    parser.add_argument("--phase", choices=("single", "many", "restart"))
    args = parser.parse_args(argv)
    root = ensure_dirs(args.glossaries, args.terms)
    work = OUT / "glossaries-work"
    work.mkdir(parents=True, exist_ok=True)
    if args.phase:
        runner = {"single": lambda: phase_single(root, work, args.terms),
                  "many": lambda: phase_many(root, work, args.glossaries, args.terms),
                  "restart": lambda: phase_restart(root, work, args.glossaries)}[args.phase]
        print(json.dumps(asyncio.run(runner())))
        return 0
    print(f"{args.glossaries} glossaries x {args.terms} terms; cpu count {os.cpu_count()}")
    single = _child("single", args, root, work)
    many = _child("many", args, root, work)
    restart = _child("restart", args, root, work)
    n = f"{args.glossaries:,}"
    rows = [
        ("RSS, all indexes built (MB)", many["rss_mb"], "<= 300"),
        ("RSS, one glossary (MB)", single["rss_mb"], ""),
        ("autocomplete p99 (ms), single, own process", single["autocomplete_p99_ms"], ""),
        ("autocomplete p50 / p99 (ms), single, interleaved",
         f"{many['single_autocomplete_p50_ms']} / {many['single_autocomplete_p99_ms']}", ""),
        (f"autocomplete p50 / p99 (ms), {n} glossaries",
         f"{many['autocomplete_p50_ms']} / {many['autocomplete_p99_ms']}", "p99 <= 5"),
        ("/define first read p50 (ms), single, interleaved",
         many["single_define_first_p50_ms"], ""),
        (f"/define first read p50 (ms), {n} glossaries", many["define_first_p50_ms"],
         "within 10%"),
        ("/define cached p50 (ms), single, interleaved", many["single_define_cached_p50_ms"],
         ""),
        (f"/define cached p50 (ms), {n} glossaries", many["define_cached_p50_ms"],
         "within 10%"),
        ("cold load of all (s)", many["cold_load_s"], ""),
        ("reload one glossary, all files changed (s)", many["reload_one_s"], ""),
        ("loop lag max during it (ms)", many["reload_lag_max_ms"], "<= 20"),
        ("loop lag p99 during it (ms)", many["reload_lag_p99_ms"], ""),
        ("other glossaries' lookup p99 during it (ms)", many["lookups_during_reload_p99_ms"],
         ""),
        ("start-up, unchanged files (s)", restart["startup_unchanged_s"], "<= 2"),
        ("  glossaries it reloaded", restart["startup_reloaded"], "0"),
        ("  then every name index built (s)", restart["startup_warm_s"], ""),
        ("RSS after start-up (MB)", restart["startup_rss_mb"], ""),
    ]
    for label, value, target in rows:
        print(f"{label:<52} {value:>14}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
