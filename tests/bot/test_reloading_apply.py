"""Reloader.apply (a database-only glossary's change) parses its texts as a reload parses
files: in worker processes when there are many, every problem named after the glossary,
not the scratch directory they were parsed in."""

from __future__ import annotations

import dataclasses

import pytest

import bot.loading
from bot.errors import EditConflict, InvalidContent
from bot.export import term_file_text
from bot.reloading import _edited_scan
from bot.store import Store
from tests.conftest import make_term


@pytest.fixture
def in_processes(monkeypatch):
    """Worker processes from a few texts on, in small chunks (many chunks, several
    workers), as 10,000 imported rows are parsed."""
    monkeypatch.setattr(bot.loading, "PROCESS_THRESHOLD", 2)
    monkeypatch.setattr(bot.loading, "CHUNK_FILES", 3)
    started = []
    real = bot.loading._Worker.start

    async def start(cls):
        started.append(1)
        return await real()

    monkeypatch.setattr(bot.loading._Worker, "start", classmethod(start))
    return started


async def test_many_texts_are_parsed_in_worker_processes(tmp_path, in_processes):
    terms = [make_term(f"term-{n:02d}") for n in range(10)]
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.use_glossaries(["default"])
        diff = await store.reloads.apply({f"{t.slug}.yaml": term_file_text(t) for t in terms},
                                         {f"{t.slug}.yaml": None for t in terms})
        assert in_processes, "parsed in this process"
        assert sorted(diff.added) == [t.slug for t in terms]
        assert [t.slug for t in await store.glossary.all_terms()] == [t.slug for t in terms]
        assert (await store.glossary.term("term-07")).definition == terms[7].definition


async def test_a_bad_text_names_the_glossary_and_changes_nothing(tmp_path, in_processes):
    terms = [make_term(f"term-{n:02d}") for n in range(6)]
    texts = {f"{t.slug}.yaml": term_file_text(t) for t in terms}
    texts["term-04.yaml"] = "title: Broken\ndefinition: [unclosed\n"
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.use_glossaries(["default"])
        with pytest.raises(InvalidContent) as caught:
            await store.reloads.apply(texts, dict.fromkeys(texts))
        [problem] = [p for p in caught.value.problems if not p.is_warning]
        assert str(problem).startswith("glossary default/term-04.yaml"), str(problem)
        assert "glossary-apply-" not in str(caught.value.problems)
        assert await store.glossary.all_terms() == []


STORED = [("alpha.yaml", 11, 100, "fp-a"), ("cache.yml", 12, 200, "fp-c"),
          ("echo.yaml", 13, 300, "fp-e")]


def test_an_edit_scans_the_stored_files_in_order_with_only_the_edited_ones_new():
    edits = {"echo.yaml": "title: Echo\n", "bravo.yaml": "title: Bravé\n", "cache.yml": None}
    scan = _edited_scan(STORED, edits, {"echo.yaml": "fp-e", "bravo.yaml": None}, 99)
    # An edited file's size is its text's in UTF-8 (13 characters, 14 bytes).
    assert scan.files == [("alpha.yaml", 11, 100), ("bravo.yaml", 99, 14),
                          ("echo.yaml", 99, 12)]
    assert scan.problems == ()


@pytest.mark.parametrize(("expected", "reason"), [
    ({"echo.yaml": "fp-old"}, "echo.yaml changed after you opened it"),
    ({"delta.yaml": "fp-d"}, "delta.yaml was removed after you opened it"),
    ({"cache.yaml": None}, "a term named cache exists already"),  # as cache.yml
])
def test_an_edit_of_something_that_changed_since_it_was_opened_is_refused(expected, reason):
    with pytest.raises(EditConflict, match=reason):
        _edited_scan(STORED, dict.fromkeys(expected, "title: X\n"), expected, 99)


async def test_an_edit_between_stored_terms_reparses_only_itself(tmp_path):
    terms = [make_term(slug) for slug in ("alpha", "charlie", "echo")]
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.use_glossaries(["default"])
        await store.reloads.apply({f"{t.slug}.yaml": term_file_text(t) for t in terms},
                                  {f"{t.slug}.yaml": None for t in terms})
        echo = await store.reloads.fingerprint("echo.yaml")
        assert echo is not None and await store.reloads.fingerprint("delta.yaml") is None
        changed = dataclasses.replace(terms[2], definition="Echo, edited.")
        diff = await store.reloads.apply(
            {"bravo.yaml": term_file_text(make_term("bravo")), "charlie.yaml": None,
             "echo.yaml": term_file_text(changed)},
            {"bravo.yaml": None, "charlie.yaml": await store.reloads.fingerprint(
                "charlie.yaml"), "echo.yaml": echo})
        assert (diff.added, diff.changed, diff.removed) == (("bravo",), ("echo",),
                                                            ("charlie",))
        assert [t.slug for t in await store.glossary.all_terms()] == ["alpha", "bravo", "echo"]
        assert (await store.glossary.term("echo")).definition == "Echo, edited."
        assert await store.reloads.fingerprint("echo.yaml") != echo
