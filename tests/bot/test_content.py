"""Validation of term files: every problem reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import MAX_FILE_BYTES, dump_term, read_term_file
from tests.conftest import BUNDLED_TERMS, make_term, validate

VALID = """\
title: Backend
aliases:
  - server side
definition: The server-side part of an app.
why_it_matters: It keeps data safe.
related:
  - frontend
"""


async def test_valid_file_becomes_a_term(write_term, terms_dir):
    write_term("backend", VALID)
    write_term("frontend")
    result = await validate(terms_dir)
    assert result.errors == ()
    backend = result.terms[0]
    assert backend.slug == "backend"
    assert backend.aliases == ("server side",)
    assert backend.related == ("frontend",)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("title: [unclosed\n", 1, "yaml", "quotes"),
        ("definition: x\nwhy_it_matters: y\n", 1, "title", "missing"),
        ("title: 42\ndefinition: x\nwhy_it_matters: y\n", 1, "title", "number"),
        ("title: ok\ndefinition: '   '\nwhy_it_matters: y\n", 2, "definition", "empty"),
        ("title: ok\ndefinition: x\nwhy_it_matters: y\nsynonyms: [a]\n", 4, "synonyms",
         "unknown"),
        ("title: ok\ndefinition: x\nwhy_it_matters: y\ncommon_mistakes: oops\n", 4,
         "common_mistakes", "list"),
        ("title: ok\ndefinition: x\nwhy_it_matters: y\nrelated:\n  - other\n  - dup\n"
         "  - dup\n", 7, "related", "twice"),
        ("title: ok\ndefinition: x\ntitle: again\nwhy_it_matters: y\n", 3, "title", "twice"),
        ("title: ok\ndefinition: !!python/object:os.system x\nwhy_it_matters: y\n", 2,
         "definition", "tagged"),
        ("- just\n- a list\n", 1, "file", "mapping"),
        ("", 1, "file", "empty"),
    ],
)
async def test_each_error_names_its_line(write_term, terms_dir, text, line, field, words):
    path = write_term("broken", text)
    result = await validate(terms_dir)
    matching = [p for p in result.errors if p.field == field]
    assert matching, f"no {field} problem in {result.errors}"
    problem = matching[0]
    assert (Path(problem.path).resolve(), problem.line) == (path.resolve(), line)
    assert words in problem.message
    assert str(problem).startswith(f"{problem.path}:{line}: {field}: ")


async def test_all_problems_are_reported_at_once(write_term, terms_dir):
    write_term("one", "title: 1\ndefinition: ''\nextra: x\n")
    write_term("two", "title: [\n")
    fields = {p.field for p in (await validate(terms_dir)).errors}
    assert {"title", "definition", "extra", "why_it_matters", "yaml"} <= fields


async def test_self_reference_is_an_error(write_term, terms_dir):
    write_term("loop", related=("loop",))
    assert [p.message for p in (await validate(terms_dir)).errors] == [
        "'loop' points to the term itself"
    ]


async def test_dangling_related_is_only_a_warning(write_term, terms_dir):
    write_term("alone", related=("nowhere",))
    result = await validate(terms_dir)
    assert result.errors == ()
    assert [p.field for p in result.warnings] == ["related"]
    assert len(result.terms) == 1


@pytest.mark.parametrize("clash", ["Back-End", "BACKEND", "back end", "Bäckend"])
async def test_names_collide_ignoring_case_accents_and_punctuation(write_term, terms_dir, clash):
    write_term("backend")
    write_term("server", aliases=(clash,))
    errors = (await validate(terms_dir)).errors
    assert len(errors) == 1
    assert errors[0].field == "aliases" and "collides with term 'backend'" in errors[0].message


async def test_bad_slug_file_name(write_term, terms_dir):
    write_term("Bad_Name")
    assert [p.field for p in (await validate(terms_dir)).errors] == ["file name"]


async def test_oversized_binary_and_non_utf8_files_are_refused(terms_dir):
    (terms_dir / "huge.yaml").write_text("title: x\n" + "#" * MAX_FILE_BYTES)
    (terms_dir / "binary.yaml").write_bytes(b"title: \x00\x01")
    (terms_dir / "latin.yaml").write_bytes(b"title: caf\xe9\n")
    messages = {Path(p.path).stem: p.message for p in (await validate(terms_dir)).errors}
    assert "limit" in messages["huge"]
    assert "binary" in messages["binary"]
    assert "UTF-8" in messages["latin"]


async def test_link_outside_the_content_directory_is_refused(terms_dir, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text(dump_term(make_term("secret")))
    (terms_dir / "secret.yaml").symlink_to(outside)
    result = await validate(terms_dir)
    assert result.terms == ()
    assert "outside the content directory" in result.errors[0].message


async def test_alias_bomb_is_rejected_without_expanding(write_term, terms_dir):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    ) + "title: ok\ndefinition: x\nwhy_it_matters: y\ncommon_mistakes: *j\n"
    write_term("bomb", bomb)
    errors = (await validate(terms_dir)).errors
    assert any(p.field == "common_mistakes[1]" for p in errors)


async def test_dump_and_read_round_trip(tmp_path):
    term = make_term(
        "emoji", title="Émoji 🚀", definition="Line one: with colon.\n\nSecond paragraph — ok.",
        aliases=("emoticon",), related=("unicode",), category="text",
        common_mistakes=("- starts with a dash", "'quoted'"),
    )
    path = tmp_path / "emoji.yaml"
    path.write_text(dump_term(term), encoding="utf-8")
    assert read_term_file(path).term == term


async def test_bundled_glossary_is_clean():
    result = await validate(BUNDLED_TERMS)
    assert result.problems == ()
    slugs = {t.slug for t in result.terms}
    assert {"backend", "api-routes", "nodejs", "mysql", "server", "migrations", "prisma",
            "git", "production"} <= slugs


async def test_a_broken_file_still_meets_the_cross_file_checks(write_term, terms_dir):
    """All problems at once: a file with an error of its own is still checked for
    collisions, so the author does not learn of them one round of fixes at a time."""
    write_term("backend")
    write_term("server", "title: Server\naliases:\n  - web box\n  - Back-End\n"
               "definition: x\nwhy_it_matters: y\nrelated:\n  - server\n")
    problems = {(p.field, p.line) for p in (await validate(terms_dir)).errors}
    assert problems == {("related", 8), ("aliases", 4)}


async def test_collisions_and_dangling_links_name_the_item_line(write_term, terms_dir):
    write_term("backend")
    write_term("server", "title: Server\naliases:\n  - web box\n  - Back-End\n"
               "definition: x\nwhy_it_matters: y\n")
    write_term("alone", "title: Alone\ndefinition: x\nwhy_it_matters: y\nrelated:\n"
               "  - backend\n  - nowhere\n")
    result = await validate(terms_dir)
    assert [(Path(p.path).name, p.line, p.field) for p in result.problems] == [
        ("server.yaml", 4, "aliases"), ("alone.yaml", 6, "related")]
    assert result.warnings[0].message.startswith("'nowhere' is not a term yet")


async def test_two_files_for_one_slug_are_an_error(write_term, terms_dir):
    write_term("git")
    (terms_dir / "git.yml").write_text(dump_term(make_term("git")), encoding="utf-8")
    (problem,) = (await validate(terms_dir)).errors
    assert (Path(problem.path).name, problem.field) == ("git.yml", "file name")
    assert "git.yaml" in problem.message


async def test_a_link_loop_or_a_dangling_link_is_a_problem(terms_dir):
    (terms_dir / "loop.yaml").symlink_to(terms_dir / "loop.yaml")
    (terms_dir / "gone.yaml").symlink_to(terms_dir / "missing.yaml")
    messages = {Path(p.path).name: p.message for p in (await validate(terms_dir)).errors}
    assert messages == {"loop.yaml": "is a link that loops or leads nowhere",
                        "gone.yaml": "is a link that loops or leads nowhere"}


def test_deep_nesting_is_refused_where_libyaml_does_not_limit_it(tmp_path, monkeypatch):
    """libyaml before 0.2.6 (and the pure-Python composer) recurse once per level: such a
    file must be a problem, found without recursing, not a crash."""
    import bot.content

    monkeypatch.setattr(bot.content, "_DEPTH_GUARDED", False)
    path = tmp_path / "deep.yaml"
    for opened in (20, 60_000):  # within libyaml's own limit of 1,000, and far beyond it
        path.write_text("title: Deep\ndefinition: " + "[" * opened + "]" * opened
                        + "\nwhy_it_matters: y\n")
        (problem,) = read_term_file(path).problems
        assert (problem.line, problem.field) == (2, "yaml")
        assert "nest" in problem.message
