"""Reloader.apply (a database-only glossary's change) parses its texts as a reload parses
files: in worker processes when there are many, every problem named after the glossary,
not the scratch directory they were parsed in."""

from __future__ import annotations

import pytest

import bot.loading
from bot.errors import InvalidContent
from bot.export import term_file_text
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
