"""Study companion benchmarks: ``python -m bench.study [--students N] [--cards M]``.

Fills a real SQLite file (through ``Store.open``, so migration 5 made the tables) with
``students x cards`` review cards, each with a real FSRS state, a tenth of them due, and
every student asking for a reminder at the same hour (the worst hour). Then, through the
real ``Store`` (thread hops to aiosqlite included):

* **due cards**: ``Study.first_card`` (what ``/review`` and every review button read) for
  random students, p50/p99/max;
* **reminder pass**: the real ``Review.send_reminders`` over every student at once, DMs
  going to a stand-in that only yields to the loop, while a ticker sleeping 1 ms records
  how late it wakes (the event-loop lag a heartbeat or another interaction would see).

Targets (issue 18): due cards <= 5 ms; the reminder pass lags the loop <= 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.core import Ticker
from bot.store import Store
from bot.study import Rating, schedule

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
DUE_TARGET_MS = 5.0
LAG_TARGET_MS = 20.0


def fill(path: Path, students: int, cards: int, rng: random.Random) -> None:
    """Bulk rows with plain sqlite3 (the bot never writes like this: it is set-up)."""
    states = [schedule(None, rating, NOW - datetime.timedelta(days=3)).fsrs for rating in Rating]
    t = NOW.timestamp()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        for user in range(1, students + 1):
            db.executemany(
                "INSERT INTO study_cards VALUES (?, ?, ?, ?, 'saved', ?, ?)",
                ((user, f"term-{n}", t - 60 if rng.random() < 0.1 else
                  t + rng.uniform(3600, 90 * 86400), rng.randint(1, 9), rng.choice(states),
                  t - 86400) for n in range(cards)))
            if user % 1000 == 0:
                db.commit()
        db.executemany("INSERT INTO study_students(user_id, reminder_hour) VALUES (?, 9)",
                       ((user,) for user in range(1, students + 1)))
        db.commit()
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class _DM:
    async def send(self, content: str) -> None:
        await asyncio.sleep(0)


async def measure(path: Path, students: int, rounds: int, rng: random.Random) -> dict:
    from cogs.review import Review

    async with await Store.open(path) as store:
        t = NOW.timestamp()
        await store.study.first_card(1, t)  # warm the connection
        timings = []
        for _ in range(rounds):
            user = rng.randint(1, students)
            started = time.perf_counter()
            await store.study.first_card(user, t)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()

        async def create_dm(_user: object) -> _DM:
            await asyncio.sleep(0)
            return _DM()

        bot = SimpleNamespace(store=store, clock=lambda: NOW, create_dm=create_dm,
                              config=SimpleNamespace(timezone="UTC"))
        review = Review(bot)  # type: ignore[arg-type]
        ticker = Ticker()
        ticker.start()
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        sent, failed = await review.send_reminders()
        duration = time.perf_counter() - started
        lag = await ticker.stop()
        idle = Ticker()  # the same ticker with nothing else running: what the machine adds
        idle.start()
        await asyncio.sleep(duration)
        baseline = await idle.stop()
    return {
        "due_p50_ms": statistics.median(timings),
        "due_p99_ms": timings[int(0.99 * (len(timings) - 1))],
        "due_max_ms": timings[-1],
        "reminders_sent": sent, "reminders_failed": failed, "pass_s": duration,
        "lag_max_ms": lag["max_ms"], "lag_p99_ms": lag["p99_ms"],
        "idle_lag_max_ms": baseline["max_ms"], "idle_lag_p99_ms": baseline["p99_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(18)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.sqlite3"
        asyncio.run(_create(path))  # the schema, by the migrations
        started = time.perf_counter()
        fill(path, args.students, args.cards, rng)
        fill_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        figures = asyncio.run(measure(path, args.students, args.rounds, rng))
    print(f"students {args.students:,} x cards {args.cards} = "
          f"{args.students * args.cards:,} review cards ({size_mb:.0f} MB, filled in "
          f"{fill_s:.0f} s)")
    due_ok = "ok" if figures["due_p99_ms"] <= DUE_TARGET_MS else "MISS"
    lag_ok = "ok" if figures["lag_max_ms"] <= LAG_TARGET_MS else "MISS"
    print(f"due cards for one student: p50 {figures['due_p50_ms']:.2f} ms, p99 "
          f"{figures['due_p99_ms']:.2f} ms, max {figures['due_max_ms']:.2f} ms "
          f"(target p99 <= {DUE_TARGET_MS} ms: {due_ok})")
    print(f"reminder pass: {figures['reminders_sent']:,} DMs in {figures['pass_s']:.1f} s; "
          f"event-loop lag max {figures['lag_max_ms']:.2f} ms, p99 "
          f"{figures['lag_p99_ms']:.2f} ms (target max <= {LAG_TARGET_MS} ms: {lag_ok}); "
          f"idle loop for as long: max {figures['idle_lag_max_ms']:.2f} ms, p99 "
          f"{figures['idle_lag_p99_ms']:.2f} ms")
    print(json.dumps(figures))


async def _create(path: Path) -> None:
    async with await Store.open(path):
        pass


if __name__ == "__main__":
    main()
