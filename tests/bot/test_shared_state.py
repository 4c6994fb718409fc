"""The shared state when several processes share it (issue 20), on both backends.

Two ``Store`` objects on one shared state stand for two processes: on SQLite they open the
same file, on PostgreSQL each has its own local SQLite file and its own pool. What must
happen once (a day's claim, a student's answer, a reminder, a batch of usage counts)
happens once however the two race.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.storage.records
from bot.errors import SharedStateUnavailable
from bot.models import GuildSettings
from bot.storage.sql import to_postgres
from bot.store import Store
from bot.study import QUIZ

GUILD = 77


@contextlib.asynccontextmanager
async def two_processes(tmp_path: Path, backend: str | None, terms_dir: Path
                        ) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores sharing their state, each with the glossary in ``terms_dir`` loaded."""
    shared_file = tmp_path / "shared.sqlite3"
    paths = (shared_file, shared_file) if backend is None else (
        tmp_path / "a.sqlite3", tmp_path / "b.sqlite3")
    async with (await Store.open(paths[0], database_url=backend, pool_size=4) as a,
                await Store.open(paths[1], database_url=backend, pool_size=4) as b):
        await a.reloads.reload(terms_dir)
        await b.reloads.reload(terms_dir)
        yield a, b


@pytest.fixture
def five_terms(write_term, terms_dir: Path) -> Path:
    for slug in ("alpha", "beta", "gamma", "delta", "epsilon"):
        write_term(slug)
    return terms_dir


def test_placeholders_become_numbered_outside_quotes() -> None:
    assert to_postgres("SELECT ? , '?' FROM t WHERE a = ? AND b = ?") == (
        "SELECT $1 , '?' FROM t WHERE a = $2 AND b = $3")
    assert to_postgres("WHERE a = ?2 OR b = ?1 OR c = ?12") == "WHERE a = $2 OR b = $1 OR c = $12"


async def test_one_term_of_the_day_per_server_however_many_processes_claim(
    tmp_path, backend, five_terms
) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
            claims = await asyncio.gather(*(
                store.records.claim_daily_term(GUILD, day) for store in (a, b, a, b)))
            assert len([slug for slug in claims if slug is not None]) == 1, claims
        # and the cycle is one cycle: three different terms on three days
        rows = await a.shared.fetch("SELECT slug FROM daily_posts WHERE guild_id = ?", (GUILD,))
        assert len({slug for (slug,) in rows}) == 3


async def test_answers_from_two_processes_count_once_per_student(
    tmp_path, backend, five_terms
) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        quiz = await a.records.create_quiz(GUILD, "alpha", ["alpha", "beta", "gamma", "delta"],
                                           "definition")
        outcomes = await asyncio.gather(*(
            store.records.answer_quiz(quiz.id, user, choice)
            for user in (1, 2) for store, choice in ((a, "alpha"), (b, "beta"), (a, "gamma"))))
        for user_outcomes in (outcomes[:3], outcomes[3:]):
            firsts = [o for o in user_outcomes if not o.already_answered]
            assert len(firsts) == 1
            assert {o.chosen for o in user_outcomes} == {firsts[0].chosen}
        board = await b.records.leaderboard(GUILD)
        assert sorted((s.user_id, s.answered) for s in board) == [(1, 1), (2, 1)]


async def test_usage_counted_in_two_processes_adds_up_once(tmp_path, backend, five_terms
                                                           ) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        for _ in range(3):
            a.records.record_lookup("alpha", GUILD)
        b.records.record_lookup("alpha", GUILD)
        b.records.record_miss("zeta function", GUILD)
        a.records.record_miss("Zeta Function", GUILD)
        await asyncio.gather(a.records.flush_usage(), b.records.flush_usage(),
                             a.records.flush_usage())
        stats = await b.records.stats(GUILD)
        assert [(c.name, c.count) for c in stats.top_terms] == [("Alpha", 4)]
        assert [c.count for c in stats.top_misses] == [2]


async def test_usage_is_kept_while_the_shared_state_is_down_and_written_once_after(
    shared_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = shared_store.records
    real = shared_store.shared.transaction

    def unavailable() -> contextlib.AbstractAsyncContextManager[object]:
        raise SharedStateUnavailable("connection refused")

    records.record_lookup("alpha", GUILD)
    monkeypatch.setattr(shared_store.shared, "transaction", unavailable)
    await records.flush_usage()  # fails: kept
    records.record_lookup("alpha", GUILD)
    await records.flush_usage()  # fails again: both kept, neither doubled
    monkeypatch.setattr(shared_store.shared, "transaction", real)
    records.record_lookup("alpha", GUILD)
    await records.flush_usage()
    await records.flush_usage()
    rows = await shared_store.shared.fetch("SELECT count FROM lookups WHERE slug = 'alpha'")
    assert rows == [(3,)]


async def test_a_batch_whose_commit_was_not_acknowledged_is_not_counted_again(
    tmp_path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL committed, then the connection dropped before saying so: the batch is
    sent again with its id, and the id says it is already in."""
    async with await Store.open(tmp_path / "local.sqlite3", database_url=pg_url,
                                pool_size=2) as store:
        real = store.shared.transaction
        calls = 0

        @contextlib.asynccontextmanager
        async def committed_but_lost() -> AsyncIterator[object]:
            nonlocal calls
            calls += 1
            async with real() as db:
                yield db
            if calls == 1:
                raise SharedStateUnavailable("connection reset after COMMIT")

        monkeypatch.setattr(store.shared, "transaction", committed_but_lost)
        for _ in range(5):
            store.records.record_lookup("alpha", GUILD)
        await store.records.flush_usage()  # committed, reported as failed: kept
        store.records.record_lookup("alpha", GUILD)
        await store.records.flush_usage()  # the same batch again (a no-op), then the new one
        rows = await store.shared.fetch("SELECT count FROM lookups WHERE slug = 'alpha'")
        assert rows == [(6,)]
        assert calls == 3


async def test_settings_that_cannot_be_read_serve_the_last_copy_or_the_defaults(
    shared_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = shared_store.records
    await records.update_guild_settings(GUILD, define_private=True)
    monkeypatch.setattr(bot.storage.records, "SETTINGS_TTL_SECONDS", 0.0)

    async def unavailable(*args: object) -> list[tuple[object, ...]]:
        raise SharedStateUnavailable("connection refused")

    monkeypatch.setattr(shared_store.shared, "fetch", unavailable)
    assert (await records.guild_settings(GUILD)).define_private  # the last copy
    assert await records.guild_settings(GUILD + 1) == GuildSettings(GUILD + 1)
    with pytest.raises(SharedStateUnavailable):  # what is not a card says so
        await records.daily_settings()


async def test_settings_changed_in_two_processes_keep_both_changes(
    tmp_path, backend, five_terms
) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        await a.records.guild_settings(GUILD)  # cached before b's change
        await b.records.update_guild_settings(GUILD, daily_channel_id=5)
        await a.records.update_guild_settings(GUILD, define_private=True)
        settings = await b.records.update_guild_settings(GUILD, daily_hour=7)
        assert (settings.daily_channel_id, settings.define_private, settings.daily_hour) == (
            5, True, 7)
        assert [s.guild_id for s in await a.records.daily_settings()] == [GUILD]


async def test_a_reminder_is_claimed_by_one_process_only(tmp_path, backend, five_terms
                                                         ) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        for user in range(1, 21):
            await a.study.update_settings(user, reminder_hour=8)
            await a.study.enqueue(user, "alpha", QUIZ, 100.0)
        claims = await asyncio.gather(*(
            store.study.claim_reminders(9, "2026-03-01", 200.0, limit=7)
            for store in (a, b, a, b, a, b)))
        claimed = [r.user_id for batch in claims for r in batch]
        assert sorted(claimed) == list(range(1, 21))


async def test_a_claim_takes_the_students_another_process_is_not_holding(
    tmp_path, pg_url, five_terms
) -> None:
    """PostgreSQL: while one process holds some students' rows (mid-claim), another
    process's claim takes the rest at once, rather than waiting for those rows and then
    dropping them, which left its batch short while students were still unclaimed."""
    async with two_processes(tmp_path, pg_url, five_terms) as (a, b):
        for user in range(1, 21):
            await a.study.update_settings(user, reminder_hour=8)
            await a.study.enqueue(user, "alpha", QUIZ, 100.0)
        async with a.shared.transaction() as held:
            await held.fetch("SELECT user_id FROM study_students WHERE user_id <= 7 "
                             "FOR UPDATE")
            others = await asyncio.wait_for(
                b.study.claim_reminders(9, "2026-03-01", 200.0, limit=20), timeout=10)
        assert sorted(r.user_id for r in others) == list(range(8, 21))
        rest = await a.study.claim_reminders(9, "2026-03-01", 200.0, limit=20)
        assert sorted(r.user_id for r in rest) == list(range(1, 8))


async def test_meta_and_study_data_are_one_for_every_process(tmp_path, backend, five_terms
                                                              ) -> None:
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        await a.meta.set("commands:1:global", "digest")
        assert await b.meta.get("commands:1:global") == "digest"
        await a.meta.set("commands:1:global", "newer")
        assert await b.meta.get("commands:1:global") == "newer"
        assert await a.study.toggle_saved(5, "alpha", "Alpha", 1.0)
        assert [s.slug for s in await b.study.saved(5)] == ["alpha"]
        await b.study.update_settings(5, track_lookups=True)
        assert await a.study.tracking_lookups() == {5}
        await a.study.delete_student(5)
        assert await b.study.saved(5) == []


async def test_cards_in_many_servers_do_not_read_settings_from_postgresql_each(
    tmp_path, backend, five_terms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process serves thousands of servers: each card's settings come from memory, one
    read of every stored row serving them all (the scale run's /define waited on PostgreSQL
    once per new server). Still, what another process changed is seen after the refresh."""
    async with two_processes(tmp_path, backend, five_terms) as (a, b):
        await b.records.update_guild_settings(GUILD + 3, define_private=True)
        reads = 0
        fetch = a.shared.fetch

        async def counted(*args: object) -> object:
            nonlocal reads
            reads += 1
            return await fetch(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(a.shared, "fetch", counted)
        served = [await a.records.guild_settings(GUILD + n) for n in range(200)]
        assert [s.guild_id for s in served if s.define_private] == [GUILD + 3]
        if backend is not None:
            assert reads == 1  # before: 200, one round trip per server
        await b.records.update_guild_settings(GUILD + 5, define_private=True)
        monkeypatch.setattr(bot.storage.records, "SETTINGS_TTL_SECONDS", 0.0)
        for _ in range(50):  # the refresh runs in the background; bounded wait for it
            if (await a.records.guild_settings(GUILD + 5)).define_private:
                break
            await asyncio.sleep(0.02)
        assert (await a.records.guild_settings(GUILD + 5)).define_private
        await a.records.update_guild_settings(GUILD + 7, daily_hour=6)
        assert (await a.records.guild_settings(GUILD + 7)).daily_hour == 6  # its own, at once
