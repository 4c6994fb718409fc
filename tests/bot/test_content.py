"""Validation of term files: every problem reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import MAX_FILE_BYTES, dump_term, load_directory, read_term_file
from tests.conftest import BUNDLED_TERMS, make_term

VALID = """\
title: Backend
aliases:
  - server side
definition: The server-side part of an app.
why_it_matters: It keeps data safe.
related:
  - frontend
"""


def problems_for(directory: Path) -> list[tuple[str, int, str]]:
    result = load_directory(directory)
    return [(Path(p.path).name, p.line, p.field) for p in result.errors]


def test_valid_file_becomes_a_term(write_term, terms_dir):
    write_term("backend", VALID)
    write_term("frontend")
    result = load_directory(terms_dir)
    assert result.errors == ()
    backend = result.terms[0]
    assert backend.slug == "backend"
    assert backend.aliases == ("server side",)
    assert backend.related == ("frontend",)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("title: [unclosed\n", 1, "yaml", "expected"),
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
def test_each_error_names_its_line(write_term, terms_dir, text, line, field, words):
    path = write_term("broken", text)
    result = load_directory(terms_dir)
    matching = [p for p in result.errors if p.field == field]
    assert matching, f"no {field} problem in {result.errors}"
    problem = matching[0]
    assert (Path(problem.path).resolve(), problem.line) == (path.resolve(), line)
    assert words in problem.message
    assert str(problem).startswith(f"{problem.path}:{line}: {field}: ")


def test_all_problems_are_reported_at_once(write_term, terms_dir):
    write_term("one", "title: 1\ndefinition: ''\nextra: x\n")
    write_term("two", "title: [\n")
    fields = {p.field for p in load_directory(terms_dir).errors}
    assert {"title", "definition", "extra", "why_it_matters", "yaml"} <= fields


def test_self_reference_is_an_error(write_term, terms_dir):
    write_term("loop", related=("loop",))
    assert [p.message for p in load_directory(terms_dir).errors] == [
        "'loop' points to the term itself"
    ]


def test_dangling_related_is_only_a_warning(write_term, terms_dir):
    write_term("alone", related=("nowhere",))
    result = load_directory(terms_dir)
    assert result.errors == ()
    assert [p.field for p in result.warnings] == ["related"]
    assert len(result.terms) == 1


@pytest.mark.parametrize("clash", ["Back-End", "BACKEND", "back end", "Bäckend"])
def test_names_collide_ignoring_case_accents_and_punctuation(write_term, terms_dir, clash):
    write_term("backend")
    write_term("server", aliases=(clash,))
    errors = load_directory(terms_dir).errors
    assert len(errors) == 1
    assert errors[0].field == "aliases" and "collides with term 'backend'" in errors[0].message


def test_bad_slug_file_name(write_term, terms_dir):
    write_term("Bad_Name")
    assert [p.field for p in load_directory(terms_dir).errors] == ["file name"]


def test_oversized_binary_and_non_utf8_files_are_refused(terms_dir):
    (terms_dir / "huge.yaml").write_text("title: x\n" + "#" * MAX_FILE_BYTES)
    (terms_dir / "binary.yaml").write_bytes(b"title: \x00\x01")
    (terms_dir / "latin.yaml").write_bytes(b"title: caf\xe9\n")
    messages = {Path(p.path).stem: p.message for p in load_directory(terms_dir).errors}
    assert "limit" in messages["huge"]
    assert "binary" in messages["binary"]
    assert "UTF-8" in messages["latin"]


def test_link_outside_the_content_directory_is_refused(terms_dir, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text(dump_term(make_term("secret")))
    (terms_dir / "secret.yaml").symlink_to(outside)
    result = load_directory(terms_dir)
    assert result.terms == ()
    assert "outside the content directory" in result.errors[0].message


def test_alias_bomb_is_rejected_without_expanding(write_term, terms_dir):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    ) + "title: ok\ndefinition: x\nwhy_it_matters: y\ncommon_mistakes: *j\n"
    write_term("bomb", bomb)
    errors = load_directory(terms_dir).errors
    assert any(p.field == "common_mistakes[1]" for p in errors)


def test_dump_and_read_round_trip(tmp_path):
    term = make_term(
        "emoji", title="Émoji 🚀", definition="Line one: with colon.\n\nSecond paragraph — ok.",
        aliases=("emoticon",), related=("unicode",), category="text",
        common_mistakes=("- starts with a dash", "'quoted'"),
    )
    path = tmp_path / "emoji.yaml"
    path.write_text(dump_term(term), encoding="utf-8")
    assert read_term_file(path).term == term


def test_bundled_glossary_is_clean():
    result = load_directory(BUNDLED_TERMS)
    assert result.problems == ()
    slugs = {t.slug for t in result.terms}
    assert {"backend", "api-routes", "nodejs", "mysql", "server", "migrations", "prisma",
            "git", "production"} <= slugs
