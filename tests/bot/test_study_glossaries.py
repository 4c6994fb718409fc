"""The glossary each new student used, written in batches: a class of 30 whose first
interactions come together is one transaction, not thirty (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.store import Store


def count_transactions(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened: list[int] = []
    original = store.shared.transaction

    def counting():  # noqa: ANN202
        opened.append(1)
        return original()

    monkeypatch.setattr(store.shared, "transaction", counting)
    return opened


async def test_a_class_starting_together_is_one_write(shared_store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    await shared_store.study.set_glossary(7, "chosen-one", chosen=True)
    opened = count_transactions(shared_store, monkeypatch)
    await asyncio.gather(*(shared_store.study.set_glossary(user, "web", chosen=False)
                           for user in range(1, 31)))
    assert len(opened) == 1
    choices = await shared_store.study.glossary_choices()
    assert {u: choices[u] for u in range(1, 31) if u != 7} == {
        u: ("web", False) for u in range(1, 31) if u != 7}
    assert choices[7] == ("chosen-one", True)  # a student's own choice is kept
    # The next class, later, is a batch of its own.
    await asyncio.gather(*(shared_store.study.set_glossary(user, "sql", chosen=False)
                           for user in range(31, 41)))
    assert len(opened) == 2


async def test_closing_writes_a_batch_still_waiting(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Store.open(path) as store:
        waiting = asyncio.create_task(store.study.set_glossary(5, "web", chosen=False))
        await asyncio.sleep(0)  # in the batch, whose wait has not run out
        assert not waiting.done()
    await waiting
    async with await Store.open(path) as store:
        assert (await store.study.glossary_choices())[5] == ("web", False)


async def test_a_failed_write_is_raised_to_each_waiting_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        @contextlib.asynccontextmanager
        async def failing():  # noqa: ANN202
            raise OSError("disk full")
            yield

        monkeypatch.setattr(store.shared, "transaction", failing)
        results = await asyncio.gather(
            *(store.study.set_glossary(u, "web", chosen=False) for u in (1, 2)),
            return_exceptions=True)
        assert [type(r) for r in results] == [OSError, OSError]
        monkeypatch.undo()
        await store.study.set_glossary(3, "web", chosen=False)  # the next batch is fine
        assert set(await store.study.glossary_choices()) == {3}
