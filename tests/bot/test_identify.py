"""IDENTIFYs paced across processes (issue 20): two bots sharing the store, shards split
between them, against a fake Discord that refuses an IDENTIFY too soon in its bucket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.client import GlossaryBot
from bot.config import Config
from bot.errors import SharedStateUnavailable
from bot.identify import IdentifyTurns
from bot.storage.identify import IdentifySlots
from bot.store import Store
from tests.conftest import FIXED_NOW
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import running_bot

# Shortened windows keep the coordinated runs quick; the bots' turns keep Discord's margin.
FAKE_WINDOW = 1.0
BOT_WINDOW = 1.3


@contextlib.asynccontextmanager
async def two_stores(tmp_path: Path, backend: str | None) -> AsyncIterator[tuple[Store, Store]]:
    """Two processes' stores: one SQLite file both open (one host), or PostgreSQL."""
    if backend is None:
        paths, options = (tmp_path / "bot.sqlite3",) * 2, {}
    else:
        paths, options = (tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"), {
            "database_url": backend, "pool_size": 2}
    async with (await Store.open(paths[0], **options) as a,  # type: ignore[arg-type]
                await Store.open(paths[1], **options) as b):  # type: ignore[arg-type]
        yield a, b


def two_bots(config: Config, stores: tuple[Store, Store]) -> list[GlossaryBot]:
    shared = replace(config, shard_count=2)
    return [GlossaryBot(replace(shared, shard_ids=(index,)), store, clock=lambda: FIXED_NOW,
                        guild_ready_timeout=0.1)
            for index, store in enumerate(stores)]


async def test_claims_take_turns_per_bucket_across_stores(tmp_path: Path,
                                                          backend: str | None) -> None:
    async with two_stores(tmp_path, backend) as (a, b):
        first = await a.identify.claim(0, 5.0)
        second = await b.identify.claim(0, 5.0)  # the other process: queued behind it
        third = await a.identify.claim(0, 5.0)
        other_bucket = await b.identify.claim(1, 5.0)
    assert first == 0.0 and other_bucket == 0.0
    assert 4.5 < second <= 5.0 and 9.5 < third <= 10.0


async def test_split_shards_identify_in_turn_and_none_is_refused(
    config: Config, tmp_path: Path, backend: str | None
) -> None:
    fake = FakeDiscord(shard_count=2, guild_count=2, enforce_identify_limit=True,
                       identify_window_s=FAKE_WINDOW)
    async with fake, two_stores(tmp_path, backend) as stores:
        bots = two_bots(config, stores)
        for bot in bots:
            assert bot.identify_turns is not None
            bot.identify_turns.window = BOT_WINDOW
        async with (running_bot(bots[0], fake, fast_start=False),
                    running_bot(bots[1], fake, fast_start=False)):
            assert len(fake.connected_sessions()) == 2
        times = sorted(when for when, _ in fake.identify_times)
    assert fake.identifies_refused == 0 and fake.identify_count == 2
    assert times[1] - times[0] >= FAKE_WINDOW
    assert bots[1].identify_turns is not None and bots[1].identify_turns.waited[0][1] > 0


async def test_without_turns_the_second_process_is_refused(
    config: Config, tmp_path: Path
) -> None:
    """What the turns prevent: discord.py's own pacing lets each process IDENTIFY at once."""
    fake = FakeDiscord(shard_count=2, guild_count=2, enforce_identify_limit=True)
    async with fake, two_stores(tmp_path, None) as stores:
        bots = two_bots(config, stores)
        for bot in bots:
            bot.identify_turns = None
        # discord.py identifies again 5 s after the Invalid Session.
        async with (running_bot(bots[0], fake, fast_start=False),
                    running_bot(bots[1], fake, fast_start=False, ready_timeout=15.0)):
            assert len(fake.connected_sessions()) == 2
    assert fake.identifies_refused >= 1


async def test_one_process_with_every_shard_keeps_discord_py_pacing(config: Config) -> None:
    async with await Store.open(config.database) as store:
        alone = GlossaryBot(replace(config, shard_count=2), store)
        split = GlossaryBot(replace(config, shard_count=2, shard_ids=(1,)), store)
    assert alone.identify_turns is None and split.identify_turns is not None
    # Waiting for its turn does not count as a connection that hangs.
    assert split.shard_connect_timeout == 180.0 + 2 * split.identify_turns.window


class _Unavailable:
    async def claim(self, bucket: int, window: float) -> float:
        raise SharedStateUnavailable("down")


@pytest.mark.parametrize(("initial", "expected"), [(True, []), (False, [5.0])])
async def test_shared_state_down_falls_back_to_discord_py_pause(
    initial: bool, expected: list[float]
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def max_concurrency() -> int:
        raise OSError("Discord unreachable")

    turns = IdentifyTurns(_Unavailable(), max_concurrency, sleep=sleep)  # type: ignore[arg-type]
    await turns.wait(3, initial=initial)
    assert slept == expected and await turns.max_concurrency() == 1


async def test_buckets_follow_max_concurrency(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        async def max_concurrency() -> int:
            return 2

        turns = IdentifyTurns(IdentifySlots(store.shared), max_concurrency, sleep=sleep)
        for shard in (0, 1, 2, 3):
            await turns.wait(shard, initial=shard == 0)
    # Shards 0 and 1 start at once (two buckets); 2 and 3 wait one window behind them.
    window = turns.window
    waits = [d for _, d in turns.waited]
    assert waits[:2] == [0.0, 0.0] and all(window - 0.5 < d <= window for d in waits[2:])
    assert len(slept) == 2
