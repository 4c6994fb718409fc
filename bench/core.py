"""Core benchmarks: lookups, autocomplete, search, reload, event-loop lag and memory.

Every size runs in its own subprocess (``python -m bench.core --child ...``) so memory
figures are that size's alone and one size's garbage cannot slow the next. Everything goes
through the real ``Store`` on a real SQLite file in a temporary directory: the figures are
what the bot pays, thread hops to aiosqlite included.

The child prints one JSON object; ``collect`` turns those into table rows.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row, Target

SECTION_CORE = "core (in-process, real Store + SQLite)"
SECTION_LAG = "event-loop blocking"
SECTION_RELOAD = "reload"
SECTION_MEMORY = "memory"


# ----- measuring helpers (used in the child) ---------------------------------------------


def proc_status_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since start) in MB, from /proc/self/status."""
    out: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0]) / 1024
    except OSError:  # not Linux: fall back to the peak, which resource always knows
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = {"VmRSS": peak, "VmHWM": peak}
    return out


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples p99 is honestly the maximum."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass(frozen=True)
class Budget:
    """How long each measurement may run; --quick shrinks everything."""

    rounds: int
    op_seconds: float  # per operation, over all rounds
    lag_seconds: float
    reload_repeats: int
    changed_repeats: int


class Ticker:
    """Sleeps 1 ms over and over and records how late each wake-up is.

    A coroutine that hogs the loop (or a thread that hogs the GIL) shows up here as lag:
    this is what a Discord heartbeat or another user's interaction would wait.
    """

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._stop = False
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while not self._stop:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(time.perf_counter() - started - self.interval)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> dict[str, float]:
        self._stop = True
        if self._task:
            await self._task
        lags = self.lags or [0.0]
        return {"max_ms": max(lags) * 1000, "p99_ms": percentile(lags, 0.99) * 1000,
                "ticks": len(self.lags)}


async def timed_calls(
    call: Callable[[object], Awaitable[object] | object],
    queries: Sequence[object],
    budget: Budget,
    is_async: bool = True,
) -> dict[str, float]:
    """Run ``call`` over the queries in rounds; p50/p99 per round, then the median.

    Each round cycles the queries until it has used its share of the time budget (at
    least 5 calls), so slow operations at 100k stay bounded and fast ones get many
    samples.
    """
    p50s: list[float] = []
    p99s: list[float] = []
    total = 0
    per_round = budget.op_seconds / budget.rounds
    index = 0
    for _ in range(budget.rounds):
        samples: list[float] = []
        round_end = time.perf_counter() + per_round
        # At least 5 calls a round (so p99 of a slow operation is honestly its max over
        # >= 25 calls), at most 5,000, otherwise as many as the round's time allows.
        while len(samples) < 5 or (time.perf_counter() < round_end and len(samples) < 5000):
            query = queries[index % len(queries)]
            index += 1
            started = time.perf_counter_ns()
            result = call(query)
            if is_async:
                await result  # type: ignore[misc]
            samples.append((time.perf_counter_ns() - started) / 1e6)
        p50s.append(percentile(samples, 0.5))
        p99s.append(percentile(samples, 0.99))
        total += len(samples)
    return {"p50": statistics.median(p50s), "p99": statistics.median(p99s), "n": total}


# ----- the child: one size, one process ---------------------------------------------------


class _Edit:
    """Changes one term file's definition in place and always puts it back.

    The glossary directory is a shared cache, so the original bytes are saved to a
    sidecar file first: ``recover_edit`` puts them back even after a child was killed
    (a timeout sends SIGKILL, and ``finally`` blocks do not run then).
    """

    def __init__(self, glossary: Path, path: Path) -> None:
        self.path = path
        self.sidecar = glossary / EDIT_SIDECAR
        self.original = path.read_bytes()
        self.count = 0

    def change(self) -> None:
        if not self.sidecar.exists():
            self.sidecar.write_text(json.dumps(
                {"path": str(self.path), "original": self.original.decode("utf-8")}
            ), encoding="utf-8")
        self.count += 1
        text = self.original.decode("utf-8").replace(
            "definition: >-\n", f"definition: >-\n  Edited {self.count} times. ", 1
        )
        self.path.write_text(text, encoding="utf-8")
        # A distinct mtime even on coarse-timestamp filesystems.
        stamp = time.time_ns() + self.count * 1_000_000_000
        os.utime(self.path, ns=(stamp, stamp))

    def restore(self) -> None:
        if self.count == 0:  # never changed: leave the mtime (and the content stamp) alone
            return
        self.path.write_bytes(self.original)
        stamp = time.time_ns() + (self.count + 1) * 1_000_000_000
        os.utime(self.path, ns=(stamp, stamp))
        self.sidecar.unlink(missing_ok=True)


EDIT_SIDECAR = "edit-in-progress.json"


def recover_edit(glossary: Path) -> bool:
    """Undo an edit a killed child left behind; True if there was one."""
    sidecar = glossary / EDIT_SIDECAR
    if not sidecar.exists():
        return False
    saved = json.loads(sidecar.read_text(encoding="utf-8"))
    Path(saved["path"]).write_text(saved["original"], encoding="utf-8")
    sidecar.unlink()
    return True


async def _reload_with_load(store: object, terms_dir: Path, slugs: Sequence[str]) -> dict:
    """A reload while a ticker and a lookup loop run: lag, answers, errors, latency."""
    from bot.errors import TermNotFound

    ticker = Ticker()
    answers = errors = not_found = 0
    latencies: list[float] = []
    done = False

    async def lookups() -> None:
        nonlocal answers, errors, not_found
        index = 0
        while not done:
            started = time.perf_counter()
            try:
                await store.card(slugs[index % len(slugs)])  # type: ignore[attr-defined]
                answers += 1
            except TermNotFound:
                not_found += 1
            except Exception:  # noqa: BLE001 - counting failures is the point
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)
            index += 1

    ticker.start()
    worker = asyncio.ensure_future(lookups())
    started = time.perf_counter()
    try:
        await store.reload(terms_dir)  # type: ignore[attr-defined]
    finally:
        elapsed = time.perf_counter() - started
        done = True
        await worker
        lag = await ticker.stop()
    return {
        "seconds": elapsed, "lag_max_ms": lag["max_ms"], "lag_p99_ms": lag["p99_ms"],
        "answers": answers, "not_found": not_found, "errors": errors,
        "lookup_max_ms": max(latencies, default=0.0),
        "lookup_p99_ms": percentile(latencies, 0.99) if latencies else 0.0,
    }


class _Phases:
    """Runs measurement phases against a deadline, saving results after each one.

    A phase whose estimated cost does not fit in the time left is recorded as skipped
    instead of run, and the results file is rewritten after every phase, so a child
    killed at its deadline still reports everything it finished.
    """

    def __init__(self, results_path: Path, deadline: float) -> None:
        self.results_path = results_path
        self.deadline = deadline
        self.out: dict[str, object] = {"skipped": []}
        self.started = time.monotonic()

    def left(self) -> float:
        return self.deadline - time.time()

    def fits(self, name: str, estimate: float) -> bool:
        if estimate <= self.left():
            return True
        self.out["skipped"].append(name)  # type: ignore[union-attr]
        self.log(f"skipping {name}: needs ~{estimate:.0f} s, {self.left():.0f} s left")
        self.save()
        return False

    def log(self, message: str) -> None:
        print(f"    [{time.monotonic() - self.started:5.1f} s] {message}", file=sys.stderr,
              flush=True)

    def save(self) -> None:
        self.results_path.write_text(json.dumps(self.out), encoding="utf-8")

    def done(self, name: str, **values: object) -> None:
        self.out.update(values)
        self.save()
        self.log(f"{name} done")


async def child(size: int, glossary: Path, budget: Budget, phases: _Phases) -> None:
    """Every core measurement for one size, in the order that keeps each one clean.

    Cold reload first (so VmHWM is its peak), then lookups and one-changed-file reloads
    on that Store (warm cache), then start-up reloads on a new Store, and last the reload
    under load: a new Store after one edit (every file parsed), the slowest phase.
    """
    from bot.models import name_key
    from bot.store import Store

    if recover_edit(glossary):
        phases.log("restored a term file a killed run had left edited")
    terms_dir = glossary / "terms"
    queries = json.loads((glossary / "queries.json").read_text(encoding="utf-8"))
    phases.out["rss_start_mb"] = proc_status_mb()["VmRSS"]
    work = Path(tempfile.mkdtemp(prefix="glossary-bench-"))
    db_path = work / "glossary.sqlite3"
    edit = _Edit(glossary, sorted(terms_dir.glob("*.yaml"))[size // 2])
    store = None
    try:
        # Cold reload: new Store, empty database, fresh ContentCache.
        cold: list[float] = []
        for attempt in range(budget.reload_repeats):
            if attempt and not phases.fits("cold reload repeat", cold[0] * 1.3 + 5):
                break
            if store is not None:
                await store.close()
                for leftover in work.iterdir():
                    leftover.unlink()
            store = await Store.open(db_path)
            started = time.perf_counter()
            diff = await store.reload(terms_dir)
            cold.append(time.perf_counter() - started)
            assert diff.term_count == size, diff.term_count
            if attempt == 0:
                gc.collect()
                status = proc_status_mb()
                phases.done("cold reload", rss_peak_reload_mb=status["VmHWM"],
                            rss_loaded_mb=status["VmRSS"])
        assert store is not None
        phases.done("cold reload repeats", cold_reload_s=statistics.median(cold),
                    cold_reload_n=len(cold),
                    db_mb=sum(p.stat().st_size for p in work.iterdir()) / 2**20)

        # Lookups and autocomplete, then the dict floor in the same process.
        terms = await store.all_terms()
        floor = {name_key(name): term for term in terms for name in term.names()}
        del terms
        for key, call, sample, is_async in (
            ("card_slug", store.card, queries["slug"], True),
            ("card_odd", store.card, queries["odd_spelling"], True),
            ("dict_floor", lambda q: floor[name_key(q)], queries["odd_spelling"], False),
            ("ac_prefix_1_3", store.autocomplete, queries["prefix_1_3"], True),
            ("ac_prefix_4_10", store.autocomplete, queries["prefix_4_10"], True),
            ("ac_typo", store.autocomplete, [t for t, _ in queries["typo"]], True),
            ("search", store.search, queries["search"], True),
        ):
            if phases.fits(key, budget.op_seconds * 1.5):
                phases.done(key, **{key: await timed_calls(call, sample, budget, is_async)})
        floor.clear()  # the floor's memory is not the bot's
        found = 0
        sample = queries["typo"][:100]
        for typo, slug in sample:
            found += any(s.slug == slug for s in await store.autocomplete(typo))
        phases.done("typo recall", typo_recall=found / len(sample))

        # Event-loop lag while autocomplete (prefix and typo mix) runs, 4 users at once.
        typos = [t for t, _ in queries["typo"]]
        mix = [q for pair in zip(queries["prefix_1_3"], queries["prefix_4_10"], typos,
                                 strict=True) for q in pair]
        idle = Ticker()
        idle.start()
        await asyncio.sleep(min(0.5, budget.lag_seconds / 4))
        phases.done("idle lag", lag_idle=await idle.stop())
        ticker = Ticker()
        ticker.start()
        deadline = time.perf_counter() + budget.lag_seconds
        calls = 0

        async def user(offset: int) -> None:
            nonlocal calls
            index = offset
            while time.perf_counter() < deadline:
                await store.autocomplete(mix[index % len(mix)])
                index += 4
                calls += 1

        await asyncio.gather(*(user(i) for i in range(4)))
        phases.done("autocomplete lag", lag_autocomplete={**await ticker.stop(), "calls": calls})
        # One changed file on the same Store: its ContentCache is warm from the cold load.
        changed: list[float] = []
        try:
            for _ in range(budget.changed_repeats):
                estimate = (changed[0] if changed else cold[0]) * 1.3 + 5
                if not phases.fits("one-changed reload", estimate):
                    break
                edit.change()
                started = time.perf_counter()
                diff = await store.reload(terms_dir)
                changed.append(time.perf_counter() - started)
                assert diff.changed == (edit.path.stem,), diff
                phases.done("one-changed reload", changed_reload_s=statistics.median(changed),
                            changed_reload_n=len(changed))
        finally:
            edit.restore()
        if changed:
            await store.reload(terms_dir)  # back in step with the files (not timed)
        await store.close()
        store = None

        # Start-up with unchanged content: a new Store on the existing database. (The
        # ContentCache lives only as long as the process; the store's content stamp is
        # what lets a restart skip parsing, so this is fast only while the stamp holds.)
        startup: list[float] = []
        for attempt in range(budget.reload_repeats):
            if not phases.fits("start-up reload", (startup[0] if startup else cold[0]) + 5):
                break
            if store is not None:
                await store.close()
            store = await Store.open(db_path)
            started = time.perf_counter()
            diff = await store.reload(terms_dir)
            startup.append(time.perf_counter() - started)
            assert diff.is_empty, diff
            if attempt == 0:
                phases.done("start-up reload", startup_reload_s=startup[0], startup_reload_n=1)
        if startup:
            phases.done("start-up repeats", startup_reload_s=statistics.median(startup),
                        startup_reload_n=len(startup))

        if store is not None:
            await store.close()
            store = None

        # Lag and lookups during the heaviest reload that runs while the bot serves:
        # a fresh cache (every file parsed) plus one changed file to write.
        estimate = cold[0] * 1.5
        if phases.fits("reload under load", estimate + 5):
            store = await Store.open(db_path)
            try:
                edit.change()
                phases.done("reload under load", reload_under_load=await _reload_with_load(
                    store, terms_dir, queries["slug"]))
            finally:
                edit.restore()
    finally:
        if store is not None:
            await store.close()
        shutil.rmtree(work, ignore_errors=True)


# ----- the parent: run children, build rows ----------------------------------------------


def budget_for(size: int, quick: bool) -> Budget:
    """Sized so the default three sizes fit the 10-minute bound on two cores."""
    if quick:
        return Budget(rounds=3, op_seconds=0.6, lag_seconds=0.8, reload_repeats=1,
                      changed_repeats=2)
    if size >= 100_000:
        return Budget(rounds=5, op_seconds=3.0, lag_seconds=3.0, reload_repeats=1,
                      changed_repeats=2)
    return Budget(rounds=5, op_seconds=1.5, lag_seconds=2.0, reload_repeats=3, changed_repeats=3)


def run_child(size: int, glossary: Path, quick: bool, timeout: float) -> dict:
    """One size in a fresh interpreter; results come back through a JSON file.

    The child gets a deadline a little inside ``timeout`` and skips what will not fit;
    if it still overruns it is killed and whatever it had saved is used.
    """
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="glossary-bench-result-") as scratch:
        results = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "bench.core", "--child", "--size", str(size),
                   "--glossary", str(glossary), "--results", str(results),
                   "--deadline", str(time.time() + timeout - 10)]
        if quick:
            command.append("--quick")
        env = {**os.environ,
               "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        try:
            code = subprocess.run(command, cwd=root, env=env, timeout=timeout,
                                  check=False).returncode
        except subprocess.TimeoutExpired:
            code = -1
        out = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    if code != 0:
        out.setdefault("skipped", []).append(f"child exited {code} (timeout or crash)")
        if code != -1:
            raise RuntimeError(f"size {size}: benchmark child failed with exit code {code}")
    return out


def rows(results: dict[int, dict]) -> list[Row]:
    """The table rows for every size's results (targets as in docs/performance.md)."""

    def dig(result: dict, path: str) -> object:
        value: object = result
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def get(path: str) -> dict[int, object]:
        """One figure per size; "skipped" where a phase did not run (time or timeout)."""
        out: dict[int, object] = {}
        for size, result in results.items():
            value = dig(result, path)
            out[size] = value if value is not None else ("skipped" if result else None)
        return out

    def pair(first: str, second: str) -> dict[int, object]:
        firsts, seconds = get(first), get(second)
        return {s: (firsts[s], seconds[s]) if isinstance(firsts[s], float | int)
                and isinstance(seconds[s], float | int) else firsts[s] for s in results}

    def p50_p99(name: str) -> dict[int, object]:
        return pair(f"{name}.p50", f"{name}.p99")

    def ratio(name: str) -> dict[int, object]:
        tops, floors = get(f"{name}.p50"), get("dict_floor.p50")
        return {s: tops[s] / max(floors[s], 1e-9) if isinstance(tops[s], float)
                and isinstance(floors[s], float) else tops[s] for s in results}

    largest = (100_000,)
    lag_ac = Target(20.0, label="max <= 20 ms")
    out = [
        Row(SECTION_CORE, "card(slug) p50/p99", "ms", p50_p99("card_slug")),
        Row(SECTION_CORE, "card(alias, odd spelling) p50/p99", "ms", p50_p99("card_odd")),
        Row(SECTION_CORE, "dict floor: name_key + dict p50/p99", "ms", p50_p99("dict_floor")),
        Row(SECTION_CORE, "card(odd) p50 / dict floor p50", "x", ratio("card_odd"),
            note="cost of SQLite + thread hop"),
        Row(SECTION_CORE, "autocomplete prefix 1-3 chars p50/p99", "ms", p50_p99("ac_prefix_1_3"),
            Target(5.0, largest)),
        Row(SECTION_CORE, "autocomplete prefix 4-10 chars p50/p99", "ms",
            p50_p99("ac_prefix_4_10"), Target(5.0, largest)),
        Row(SECTION_CORE, "autocomplete one-edit typo p50/p99", "ms", p50_p99("ac_typo"),
            Target(5.0, largest)),
        Row(SECTION_CORE, "typo recall (intended term in top 25)", "%",
            {s: v * 100 if isinstance(v, float) else v for s, v in get("typo_recall").items()},
            note="quality, no target"),
        Row(SECTION_CORE, "search() p50/p99", "ms", p50_p99("search")),
        Row(SECTION_LAG, "idle loop: 1 ms sleep lag max", "ms", get("lag_idle.max_ms"),
            note="baseline"),
        Row(SECTION_LAG, "during autocomplete x4 users: lag p99/max", "ms",
            pair("lag_autocomplete.p99_ms", "lag_autocomplete.max_ms"), lag_ac),
        Row(SECTION_LAG, "during reload (fresh cache + 1 edit): lag p99/max", "ms",
            pair("reload_under_load.lag_p99_ms", "reload_under_load.lag_max_ms"),
            Target(50.0, largest, "100k max <= 50 ms")),
        Row(SECTION_LAG, "  lookups answered / errors during it", "n",
            {s: f"{a}/{e}" if isinstance(a, int) else a for (s, a), e in zip(
                get("reload_under_load.answers").items(),
                get("reload_under_load.errors").values(), strict=True)},
            note="errors must be 0"),
        Row(SECTION_LAG, "  lookup latency p99/max during it", "ms",
            pair("reload_under_load.lookup_p99_ms", "reload_under_load.lookup_max_ms")),
        Row(SECTION_RELOAD, "cold (new Store, empty DB, fresh cache)", "s",
            get("cold_reload_s"), Target(2.5, (10_000,))),
        Row(SECTION_RELOAD, "one changed file (same Store, warm cache)", "s",
            get("changed_reload_s"), Target(0.3, (10_000,))),
        Row(SECTION_RELOAD, "start-up, unchanged content (new Store, same DB)", "s",
            get("startup_reload_s"), Target(1.0, (10_000,))),
        Row(SECTION_RELOAD, "start-up after one edit (all parsed; under load)", "s",
            get("reload_under_load.seconds"), note="the reload under load above"),
        Row(SECTION_RELOAD, "peak RSS of the process (cold reload)", "MB",
            get("rss_peak_reload_mb"), Target(250.0, largest)),
        Row(SECTION_MEMORY, "RSS with the glossary loaded", "MB", get("rss_loaded_mb"),
            Target(150.0, largest)),
        Row(SECTION_MEMORY, "RSS of the interpreter before loading", "MB", get("rss_start_mb")),
        Row(SECTION_MEMORY, "database file (+ WAL)", "MB", get("db_mb")),
    ]
    skipped = {s: ", ".join(r.get("skipped", [])) for s, r in results.items()}
    if any(skipped.values()):
        out.append(Row(SECTION_MEMORY, "phases skipped to stay in the time bound", "",
                       {s: v or "none" for s, v in skipped.items()}))
    return out


@dataclass(frozen=True)
class Context:
    """What run.py hands every benchmark module."""

    sizes: tuple[int, ...]
    quick: bool
    glossaries: dict[int, Path]
    deadline: float  # time.monotonic() by which everything must be done


def collect(ctx: Context, log: Callable[[str], None] = print) -> list[Row]:
    """Run each size's child with a share of the time left, keeping a reserve for later
    sizes so a slow 100k run cannot eat the 10-minute bound of the whole benchmark."""
    results: dict[int, dict] = {}
    for index, size in enumerate(ctx.sizes):
        reserve = sum(min(30 + later * 0.006, 300) for later in ctx.sizes[index + 1:])
        remaining = ctx.deadline - time.monotonic()
        timeout = max(remaining - reserve, 30.0)
        log(f"core: {size} terms (child budget {timeout:.0f} s, {remaining:.0f} s left)")
        started = time.monotonic()
        results[size] = run_child(size, ctx.glossaries[size], ctx.quick, timeout)
        log(f"core: {size} terms done in {time.monotonic() - started:.0f} s")
    return rows(results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--glossary", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--deadline", type=float, required=True, help="time.time() to stop by")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    budget = budget_for(args.size, args.quick)
    phases = _Phases(args.results, args.deadline)
    # SIGTERM (a parent interrupted with Ctrl-C, say) unwinds through the finally blocks
    # that put the edited term file back and remove the temporary database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(child(args.size, args.glossary, budget, phases))
    phases.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
