"""A bounded load test on loopback: mixed interactions, concurrently, while reloads run.

Workers send ``/define``, autocomplete, related-term clicks (on messages from "before a
restart", i.e. synthetic ones) and ``/search`` as fast as the bot answers, until a fixed
number have been sent; meanwhile a moderator reloads every 150 interactions, each after
editing a term file, so every reload really changes a term (and one in four adds or
removes one). Nothing listens beyond 127.0.0.1 and the test stops by itself.

Checks: every interaction answered, and exactly once; every answer the right one (the
card asked for, the choices for the prefix typed, a reload report saying what changed);
no request refused by the fake (its schema validation included); no ERROR logged; no
answer later than Discord's 3 s (the fake's ``ack_deadline`` is on and fails the test).
Prints p50/p99 latency and throughput. Quick: 1,000 interactions; slow: 6,000.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.content import dump_term
from tests.conftest import make_term
from tests.hardening._support import acknowledgements, captured_logs, reply_problems

EXTRA_TERMS = 300  # next to the bundled 9, so each reload has real work to do
RELOAD_EVERY = 150  # interactions sent between two reloads
WORKERS = 8
TITLES = {"git": "Git", "backend": "backend", "api-routes": "API routes",
          "load-0007": "Load 0007", "load-0150": "Load 0150"}


def add_terms(content_dir: Path) -> None:
    for i in range(EXTRA_TERMS):
        term = make_term(f"load-{i:04d}", related=("git", "backend"))
        (content_dir / f"load-{i:04d}.yaml").write_text(dump_term(term), encoding="utf-8")


async def one_interaction(h: Any, rng: random.Random, latencies: dict[str, list[float]]
                          ) -> None:
    kind = rng.choice(["define", "define", "autocomplete", "click", "search"])
    started = time.perf_counter()
    if kind == "define":
        slug = rng.choice(list(TITLES))
        reply = await h.slash("define", term=slug)
        assert reply.embeds[0]["title"] == TITLES[slug], (slug, reply.embeds)
    elif kind == "autocomplete":
        prefix = rng.choice(["ba", "gi", "load-01", "api", "xyz"])
        choices = await h.autocomplete("define", focused="term", term=prefix)
        if prefix != "xyz":
            assert choices and choices[0]["value"].replace("-", "").startswith(
                prefix.replace("-", "")), (prefix, choices)
    elif kind == "click":
        slug = rng.choice(["git", "backend", "load-0042"])
        reply = await h.click(f"gl:t:{slug}:load-0001")
        assert reply.embeds[0]["title"] in {*TITLES.values(), "Load 0042"}, reply.embeds
        assert reply.ephemeral
    else:
        query = rng.choice(["version control", "server", "students meet", "quiz lesson"])
        reply = await h.slash("search", query=query)
        assert reply.embeds[0]["title"] == f"Search: {query}", (query, reply.embeds)
    latencies[kind].append(time.perf_counter() - started)


async def reloader(h: Any, content_dir: Path, stop: asyncio.Event, sent: Callable[[], int],
                   every: int, reloads: list[float]) -> None:
    """Reload after every ``every`` interactions sent, so reloads overlap the load however
    fast the machine (and the fake) answers."""
    git = content_dir / "git.yaml"
    original = git.read_text(encoding="utf-8")
    number = 0
    while not stop.is_set():
        while sent() < (number + 1) * every and not stop.is_set():
            await asyncio.sleep(0.005)
        if stop.is_set():
            return
        number += 1
        git.write_text(original.replace("Git is a version control system",
                                        f"Git (edit {number}) is a version control system"))
        expect = {"Changed (1)"}
        if number % 4 == 0:
            extra = content_dir / "load-extra.yaml"
            if extra.exists():
                extra.unlink()
                expect.add("Removed (1)")
            else:
                extra.write_text(dump_term(make_term("load-extra")), encoding="utf-8")
                expect.add("Added (1)")
        started = time.perf_counter()
        reply = await h.slash("glossary", "reload", member=h.moderator)
        await reply.wait_followup(timeout=10)
        reloads.append(time.perf_counter() - started)
        (embed,) = reply.embeds
        assert embed["title"] == "Glossary reloaded", embed
        assert {f["name"] for f in embed.get("fields", [])} == expect, (number, embed)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_load(start_bot: Any, content_dir: Path, total: int, seed: int) -> dict:
    add_terms(content_dir)
    rng = random.Random(seed)
    latencies: dict[str, list[float]] = {k: [] for k in
                                         ("define", "autocomplete", "click", "search")}
    reloads: list[float] = []
    sent = 0
    with captured_logs() as logs:
        async with start_bot(cooldown_uses=0) as h:
            stop = asyncio.Event()

            async def worker(worker_rng: random.Random) -> None:
                nonlocal sent
                while sent < total:
                    sent += 1
                    await one_interaction(h, worker_rng, latencies)

            reloading = asyncio.create_task(
                reloader(h, content_dir, stop, lambda: sent, RELOAD_EVERY, reloads))
            started = time.perf_counter()
            workers = [worker(random.Random(rng.random())) for _ in range(WORKERS)]
            try:
                async with asyncio.timeout(total / 10 + 30):  # bounded, whatever happens
                    await asyncio.gather(*workers)
            finally:
                elapsed = time.perf_counter() - started
                stop.set()
                await asyncio.wait_for(reloading, 15)
            fake = h.fake
            acks = acknowledgements(fake)
            lost = [r.description for i, r in fake.interactions.items() if acks[i] == 0]
            doubled = [i for i, n in acks.items() if n > 1]
            assert not lost, f"{len(lost)} unanswered: {lost[:5]}"
            assert not doubled, f"{len(doubled)} answered twice"
            problems = reply_problems(fake.requests)
            assert not problems, problems[:10]
            assert not fake.schema_violations
            answered = len(fake.interactions)
    assert not logs.errors(), logs.errors()[:3]
    every = [x for values in latencies.values() for x in values]
    figures = {
        "interactions": total, "answered": answered, "reloads": len(reloads),
        "seconds": round(elapsed, 1), "per_second": round(total / elapsed),
        "p50_ms": round(statistics.median(every) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "max_ms": round(max(every) * 1000, 1),
        "reload_p50_ms": round(statistics.median(reloads) * 1000, 1),
        "by_kind": {k: len(v) for k, v in latencies.items()},
    }
    print(f"\nload: {figures}")
    assert sum(figures["by_kind"].values()) == total
    assert answered == total + len(reloads)  # nothing lost, nothing extra
    assert len(reloads) >= 3, "the reloads did not overlap the load"
    return figures


async def test_mixed_load_while_reloading(start_bot, content_dir):
    await run_load(start_bot, content_dir, total=1000, seed=5)


@pytest.mark.slow
async def test_mixed_load_while_reloading_long(start_bot, content_dir):
    await run_load(start_bot, content_dir, total=6000, seed=55)
