"""Large reloads written by a worker process (bot.reload_worker): the same answers as a
reload written here, atomic for the readers here, refused whole, and no process left."""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import threading

import pytest

import bot.reloading
from bot.errors import InvalidContent
from bot.parse_worker import HEADER_BYTES, frame
from bot.reload_worker import GONE_EXIT_CODE
from bot.store import Store


@pytest.fixture
def workers(monkeypatch) -> list[asyncio.subprocess.Process]:
    """Every reload worker process started, with reloads of 5 files or more sent to one."""
    started: list[asyncio.subprocess.Process] = []
    start = bot.reloading.start_module_process

    async def recording(module: str) -> asyncio.subprocess.Process:
        process = await start(module)
        started.append(process)
        return process

    monkeypatch.setattr(bot.reloading, "start_module_process", recording)
    monkeypatch.setattr(bot.reloading, "SEPARATE_PROCESS_FILES", 5)
    return started


def _write_terms(write_term, count: int, definition: str = "version one") -> None:
    for number in range(count):
        write_term(f"term-{number:02d}", definition=definition,
                   aliases=(f"alias {number}",),
                   related=("term-01" if number == 0 else "term-00",))


async def test_a_worker_reload_answers_as_a_reload_here(tmp_path, write_term, terms_dir,
                                                        workers):
    _write_terms(write_term, 12)
    write_term("broken", "title: [oops\n")
    write_term("dangling", related=("nowhere",))
    results = []
    for threshold in (10_000, 5):  # here, then in a worker process
        bot.reloading.SEPARATE_PROCESS_FILES = threshold
        async with await Store.open(tmp_path / f"db-{threshold}.sqlite3") as fresh:
            with pytest.raises(InvalidContent) as caught:
                await fresh.reloads.reload(terms_dir)
            assert await fresh.glossary.term_count() == 0
            (terms_dir / "broken.yaml").rename(tmp_path / "broken.yaml")
            diff = await fresh.reloads.reload(terms_dir)
            (tmp_path / "broken.yaml").rename(terms_dir / "broken.yaml")
            results.append((caught.value.problems, caught.value.valid_terms, diff,
                            await fresh.glossary.all_terms(),
                            await fresh.glossary.autocomplete("alias 1")))
    assert len(workers) == 2
    assert results[0] == results[1]
    problems, valid, diff, terms, suggestions = results[1]
    assert any(p.path.endswith("broken.yaml") and p.line == 1 for p in problems)
    assert valid == 13
    assert len(diff.added) == 13 and any("nowhere" in str(w) for w in diff.warnings)
    assert "term-01" in [s.slug for s in suggestions]


async def test_a_refused_worker_reload_keeps_the_old_glossary(store, write_term, terms_dir,
                                                              workers):
    _write_terms(write_term, 10)
    await store.reloads.reload(terms_dir)
    _write_terms(write_term, 10, definition="version two")
    write_term("term-05", "title: Term 05\ndefinition: [oops\n")
    with pytest.raises(InvalidContent) as caught:
        await store.reloads.reload(terms_dir)
    assert len(workers) == 2
    assert [str(p).split(":")[0].endswith("term-05.yaml") for p in caught.value.errors] == [True]
    assert caught.value.errors[0].line > 0
    assert {t.definition for t in await store.glossary.all_terms()} == {"version one"}
    assert (await store.glossary.card("alias 3")).term.definition == "version one"
    assert await store.glossary.term_count() == 10


async def test_lookups_during_a_worker_reload_see_old_or_new_never_a_mix(
        store, write_term, terms_dir, workers):
    _write_terms(write_term, 60)
    await store.reloads.reload(terms_dir)
    _write_terms(write_term, 60, definition="version two")
    reload_task = asyncio.create_task(store.reloads.reload(terms_dir))
    seen: list[set[str]] = []
    during = 0
    for round_ in range(2000):  # bounded; the worker takes a few tenths of a second
        card = await store.glossary.card(f"term-{round_ % 60:02d}")
        assert card.term.definition in {"version one", "version two"}
        seen.append({t.definition for t in await store.glossary.all_terms()})
        if reload_task.done():
            break
        during += 1
        await asyncio.sleep(0.002)
    diff = await reload_task
    assert during > 0
    assert all(len(versions) == 1 for versions in seen), "a lookup saw a mix"
    assert {"version one"} in seen
    assert len(diff.changed) == 60
    # Once the reload returned, this process serves the new glossary: index and cards.
    assert (await store.glossary.card("alias 7")).term.definition == "version two"
    assert workers[-1].returncode == 0  # exited by itself: its connections were closed


async def test_a_one_file_reload_stays_in_this_process(store, write_term, terms_dir, workers):
    _write_terms(write_term, 10)
    await store.reloads.reload(terms_dir)
    assert len(workers) == 1
    write_term("term-03", definition="edited")
    assert (await store.reloads.reload(terms_dir)).changed == ("term-03",)
    assert len(workers) == 1
    assert (await store.glossary.card("term-03")).term.definition == "edited"


async def test_a_cancelled_worker_reload_leaves_no_process_and_no_change(
        store, write_term, terms_dir, workers, monkeypatch):
    _write_terms(write_term, 10)
    await store.reloads.reload(terms_dir)
    _write_terms(write_term, 10, definition="version two")
    started = asyncio.Event()
    start = bot.reloading.start_module_process

    async def signalling(module: str) -> asyncio.subprocess.Process:
        process = await start(module)
        started.set()
        return process

    monkeypatch.setattr(bot.reloading, "start_module_process", signalling)
    reload_task = asyncio.create_task(store.reloads.reload(terms_dir))
    await asyncio.wait_for(started.wait(), 30)
    reload_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reload_task
    (process,) = workers[1:]
    assert process.returncode is not None  # killed and reaped before the task ended
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
    assert {t.definition for t in await store.glossary.all_terms()} == {"version one"}
    # The write lock was given back: the next reload (and any write) goes ahead.
    monkeypatch.setattr(bot.reloading, "start_module_process", start)
    assert len((await store.reloads.reload(terms_dir)).changed) == 10


async def test_a_worker_that_cannot_start_means_a_reload_here(store, write_term, terms_dir,
                                                              workers, monkeypatch):
    async def failing(module: str) -> asyncio.subprocess.Process:
        raise OSError("no processes left")

    monkeypatch.setattr(bot.reloading, "start_module_process", failing)
    _write_terms(write_term, 10)
    assert len((await store.reloads.reload(terms_dir)).added) == 10
    assert await store.glossary.term_count() == 10


async def test_the_worker_exits_without_committing_when_the_bot_goes(tmp_path, write_term,
                                                                     terms_dir):
    """The bot dying closes the worker's stdin: it stops at once, writing nothing."""
    _write_terms(write_term, 40)
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as fresh:  # migrated, empty
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.reload_worker", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(frame((str(path), fresh.glossary.id, str(terms_dir))))
        await process.stdin.drain()
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == GONE_EXIT_CODE
        assert await process.stdout.read() == b""
        assert await fresh.glossary.term_count() == 0


async def test_the_worker_answers_a_request_whole(tmp_path, write_term, terms_dir):
    """The protocol itself: one framed request in, one framed answer out, exit 0."""
    _write_terms(write_term, 3)
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as fresh:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.reload_worker", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(frame((str(path), fresh.glossary.id, str(terms_dir))))
        await process.stdin.drain()
        size = int.from_bytes(await process.stdout.readexactly(HEADER_BYTES), "big")
        status, packed, names_changed, version = pickle.loads(
            await process.stdout.readexactly(size))
        diff = bot.reloading.unpack_diff(packed)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert (status, len(diff.added), names_changed) == ("ok", 3, True)
        assert version == await fresh.glossary.stored_version()


async def test_closing_the_store_after_worker_reloads_leaves_no_thread(tmp_path, write_term,
                                                                       terms_dir, workers):
    before = set(threading.enumerate())
    async with await Store.open(tmp_path / "unclosed.sqlite3"):
        opened = [t for t in set(threading.enumerate()) - before if not t.daemon]
    assert opened, "the check below would see an unclosed connection's thread"
    _write_terms(write_term, 10)
    async with await Store.open(tmp_path / "db.sqlite3") as fresh:
        await fresh.reloads.reload(terms_dir)
        assert await fresh.glossary.term_count() == 10
    # The loop's own executor threads (asyncio_N) end with the loop; any other thread
    # left running is an aiosqlite connection never closed.
    left = [t for t in set(threading.enumerate()) - before
            if not t.daemon and not t.name.startswith("asyncio_")]
    for thread in left:  # a closed connection's thread ends a moment after close()
        thread.join(timeout=5)
    assert [t for t in left if t.is_alive()] == []
    assert all(process.returncode == 0 for process in workers)
