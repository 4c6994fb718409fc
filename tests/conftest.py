"""Fixtures shared by every test: term files written on the fly and real SQLite stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.content import dump_term
from bot.models import Term
from bot.store import Store

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_TERMS = REPO_ROOT / "data" / "terms"
SHARED = REPO_ROOT.parent / "shared"

TermWriter = Callable[..., Path]


def make_term(slug: str, **fields: object) -> Term:
    """A complete, valid term; tests override only what they are about."""
    values: dict[str, object] = {
        "title": slug.replace("-", " ").title(),
        "definition": f"{slug} is a thing students meet in the course.",
        "why_it_matters": f"Knowing {slug} helps you build apps.",
        "course_example": f"In the course, {slug} appears in the quiz lesson.",
        "real_world_example": f"Shops use {slug} every day.",
        "common_mistakes": (f"Confusing {slug} with something else.",),
    }
    values.update(fields)
    return Term(slug=slug, **values)  # type: ignore[arg-type]


@pytest.fixture
def terms_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "terms"
    directory.mkdir()
    return directory


@pytest.fixture
def write_term(terms_dir: Path) -> TermWriter:
    """Write a valid term file (or raw text) into the temporary content directory."""

    def write(slug: str, text: str | None = None, **fields: object) -> Path:
        path = terms_dir / f"{slug}.yaml"
        path.write_text(text if text is not None else dump_term(make_term(slug, **fields)),
                        encoding="utf-8")
        return path

    return write


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "state" / "glossary.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def bundled_store(store: Store) -> Store:
    """A store loaded with the glossary the project ships."""
    await store.reload(BUNDLED_TERMS)
    return store
