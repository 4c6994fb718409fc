"""The checks across term files, as ``check`` (no database) and reloads (full or not) run them."""

from __future__ import annotations

import os

import pytest

from bot.directory import display_path
from bot.errors import InvalidContent
from bot.reloading import check_directory


def _where(terms_dir, name: str) -> str:
    return os.path.join(display_path(terms_dir), name)


async def test_check_reports_what_a_reload_into_an_empty_database_reports(
        store, write_term, terms_dir):
    write_term("backend", aliases=("server side",))
    write_term("server", title="Server Side", related=("backend", "nowhere"))
    write_term("broken", "title: Back End\ndefinition: 7\nrelated: [gone]\n")
    problems, valid = await check_directory(terms_dir)
    with pytest.raises(InvalidContent) as caught:
        await store.reloads.reload(terms_dir)
    assert tuple(problems) == caught.value.problems
    assert valid == caught.value.valid_terms == 2
    shown = [str(p) for p in problems]
    assert f"{_where(terms_dir, 'broken.yaml')}:1: title: 'Back End' collides with term " \
           f"'backend' ({_where(terms_dir, 'backend.yaml')}); names must differ ignoring " \
           "case, accents and punctuation" in shown
    assert f"{_where(terms_dir, 'server.yaml')}:1: title: 'Server Side' collides with term " \
           f"'backend' ({_where(terms_dir, 'backend.yaml')}); names must differ ignoring " \
           "case, accents and punctuation" in shown
    warnings = [p for p in problems if p.is_warning]
    assert [(p.path, p.message.split()[0]) for p in warnings] == [
        (_where(terms_dir, "broken.yaml"), "'gone'"),
        (_where(terms_dir, "server.yaml"), "'nowhere'")]


async def test_an_edit_is_blamed_for_a_name_a_kept_term_already_has(store, write_term,
                                                                    terms_dir):
    write_term("zeta", aliases=("shared",))
    write_term("alpha")
    await store.reloads.reload(terms_dir)
    write_term("alpha", aliases=("Shared",))  # alpha sorts first, but zeta had the name
    with pytest.raises(InvalidContent) as caught:
        await store.reloads.reload(terms_dir)
    (problem,) = caught.value.errors
    assert (problem.path, problem.field) == (_where(terms_dir, "alpha.yaml"), "aliases")
    assert "collides with term 'zeta'" in problem.message


async def test_links_between_kept_and_fresh_terms(store, write_term, terms_dir):
    write_term("alpha", related=("beta", "gamma"))
    beta = write_term("beta")
    first = await store.reloads.reload(terms_dir)
    assert [w.message.split()[0] for w in first.warnings] == ["'gamma'"]
    write_term("gamma", related=("alpha",))  # fresh, linking to a kept term: fine
    beta.unlink()  # a kept term's link now points nowhere
    diff = await store.reloads.reload(terms_dir)
    assert [(w.path, w.line, w.message.split()[0]) for w in diff.warnings] == [
        (_where(terms_dir, "alpha.yaml"), _related_line(terms_dir / "alpha.yaml", "beta"),
         "'beta'")]


def _related_line(path, slug: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.endswith(slug))
