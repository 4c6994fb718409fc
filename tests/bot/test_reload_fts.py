"""The full-text rows a reload writes from the parsed text (``TermRecord.search``) are the
very rows it wrote by reading the ``term_text`` view: same index, same search results, and
a later delete (which reads the view) leaves an index that still checks out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bot.directory
import bot.loading
from bot.directory import parse_files, scan_directory
from bot.reloading import reload_here
from bot.sections import text_view_sql
from bot.store import Store

QUERIES = ("version", "mistake", "café", "naive", "𝔸lpha", "shared words", "alias", "zebra")


def _write_varied(write_term) -> None:
    """Terms with and without aliases and optional sections, accents, emoji, characters
    beyond U+FFFF (whose text takes the view's path), one broken file left out later."""
    write_term("plain", definition="version one of a plain term")
    write_term("no-aliases", aliases=(), common_mistakes=(),
               definition="shared words without aliases")
    write_term("accents", aliases=("Café au lait", "naïve"),
               definition="café naïve résumé", common_mistakes=("a mistake", "another"))
    write_term("emoji", definition="shared words 😀 with emoji", aliases=("smile 😀",))
    write_term("beyond-bmp", definition="𝔸lpha and 𠀀 characters", aliases=("𝔸lpha",))
    write_term("optional-missing", "title: Zebra\ndefinition: zebra crossing words\n")
    for number in range(6):
        write_term(f"term-{number}", definition=f"version {number} shared words",
                   aliases=(f"alias {number}",), related=("plain",))


def _fts(path: Path) -> list[tuple]:
    """Every word the index holds, with its term, column and position (``fts5vocab``);
    the index's integrity check passes first."""
    db = sqlite3.connect(path)
    try:
        db.execute("INSERT INTO terms_fts(terms_fts) VALUES ('integrity-check')")
        db.execute("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, terms_fts, instance)")
        return db.execute("SELECT term, doc, col, offset FROM temp.words "
                          "ORDER BY doc, col, offset").fetchall()
    finally:
        db.close()


async def _load(path: Path, terms_dir: Path) -> list:
    async with await Store.open(path) as store:
        await store.reloads.reload(terms_dir)
        return [await store.glossary.search(query) for query in QUERIES]


def test_search_text_is_what_the_view_reads(tmp_path, write_term, terms_dir):
    _write_varied(write_term)
    records = {p.record.slug: p.record for p in
               parse_files(terms_dir, "terms", scan_directory(terms_dir).files)}
    # Characters beyond U+FFFF (😀 too): read through the view instead.
    assert records["beyond-bmp"].search is None and records["emoji"].search is None
    assert records["optional-missing"].search is not None
    db = sqlite3.connect(":memory:")
    db.executescript("CREATE TABLE terms (id INTEGER PRIMARY KEY, title TEXT);"
                     "CREATE TABLE term_data (term_id INTEGER PRIMARY KEY, data TEXT);"
                     + text_view_sql())
    for number, record in enumerate(records.values(), start=1):
        db.execute("INSERT INTO terms VALUES (?, ?)", (number, record.title))
        db.execute("INSERT INTO term_data VALUES (?, ?)", (number, record.data))
    viewed = dict(zip(range(1, len(records) + 1), records.values(), strict=True))
    for number, title, aliases, body in db.execute("SELECT * FROM term_text"):
        record = viewed[number]
        if record.search is not None:
            assert record.search == (title, aliases, body), record.slug
    assert sum(r.search is not None for r in records.values()) == len(records) - 2


@pytest.mark.parametrize("in_worker", [False, True])
async def test_given_text_writes_the_same_index_as_the_view(tmp_path, write_term, terms_dir,
                                                            monkeypatch, in_worker):
    _write_varied(write_term)
    if in_worker:  # parse workers and the reload worker process, as a large reload runs
        monkeypatch.setattr("bot.reloading.SEPARATE_PROCESS_FILES", 5)
        monkeypatch.setattr("bot.loading.PROCESS_THRESHOLD", 5)
        monkeypatch.setattr("bot.loading.CHUNK_FILES", 4)
    given = await _load(tmp_path / "given.sqlite3", terms_dir)
    with monkeypatch.context() as patched:  # every term read through the view, as before
        patched.setattr(bot.directory, "search_text", lambda term, data: None)
        patched.setattr("bot.reloading.SEPARATE_PROCESS_FILES", 10_000)
        viewed = await _load(tmp_path / "viewed.sqlite3", terms_dir)
    assert given == viewed
    assert any(page.total for page in given)
    words = _fts(tmp_path / "given.sqlite3")
    assert words == _fts(tmp_path / "viewed.sqlite3")
    assert len({doc for _, doc, _, _ in words}) == 12


async def test_a_later_reload_deletes_the_given_text_cleanly(tmp_path, write_term, terms_dir):
    """A delete tells the index which words to forget by reading the view: the words the
    given text put there must be exactly those, or the index would keep stale words."""
    _write_varied(write_term)
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        await store.reloads.reload(terms_dir)
        write_term("accents", definition="entirely different prose")
        (terms_dir / "emoji.yaml").unlink()
        await store.reloads.reload(terms_dir)
        assert (await store.glossary.search("résumé")).total == 0
        assert (await store.glossary.search("entirely")).total == 1
    kept = _fts(path)  # integrity-check raises on an index that does not match
    # Every word the index holds is a word of its terms' text now: an index built afresh
    # from the view holds the very same words, in the same places.
    db = sqlite3.connect(path)
    try:
        db.execute("INSERT INTO terms_fts(terms_fts) VALUES ('delete-all')")
        db.execute("INSERT INTO terms_fts(rowid, title, aliases, body) "
                   "SELECT id, title, aliases, body FROM term_text")
        db.commit()
    finally:
        db.close()
    assert _fts(path) == kept


@pytest.fixture
def parse_workers(monkeypatch) -> list:
    """Every parse worker process started, with 5 files or more parsed in processes."""
    started: list = []
    start = bot.loading.start_module_process

    async def recording(module: str):
        process = await start(module)
        started.append(process)
        return process

    monkeypatch.setattr(bot.loading, "start_module_process", recording)
    monkeypatch.setattr(bot.loading, "PROCESS_THRESHOLD", 5)
    monkeypatch.setattr(bot.loading, "CHUNK_FILES", 4)
    return started


async def test_the_reload_worker_parses_in_its_prestarted_workers(tmp_path, write_term,
                                                                  terms_dir, parse_workers):
    """``reload_here`` (what the reload worker process runs) starts its parse workers
    before it opens the database; the parse takes them, and none is left running, also
    when a reload has nothing to parse and never takes them."""
    _write_varied(write_term)
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        gid = store.glossary.id
        answer = await reload_here(path, gid, terms_dir)
        assert answer[0] == "ok", answer
        assert len(parse_workers) == bot.loading.worker_count()  # prestarted ones, only
        again = await reload_here(path, gid, terms_dir)  # unchanged: nothing parsed
        assert again[0] == "ok", again
        assert len(parse_workers) == 2 * bot.loading.worker_count()
        assert bot.loading._prestarted == []
        assert all(process.returncode is not None for process in parse_workers)
    async with await Store.open(path) as store:
        assert (await store.glossary.search("zebra")).total == 1
    assert _fts(path) and len({doc for _, doc, _, _ in _fts(path)}) == 12
