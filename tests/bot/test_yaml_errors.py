"""YAML mistakes a teacher makes, reported on the right line in words they understand."""

from __future__ import annotations

import pytest

from bot.content import read_term_file

GOOD_TAIL = "why_it_matters: It matters to every student.\n"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("title: X\ndefinition: a thing\n  why_it_matters: y\n", 3,
     "indented more than 'definition'"),
    ("title: X\ndefinition: the thing: is good\n" + GOOD_TAIL, 2, "colon followed by a space"),
    ("title: X\ndefinition:\n\t- a\n", 3, "a tab character; indent with spaces"),
    ("title: X\n\tdefinition: y\n", 2, "a tab character"),
    ("title: X\ndefinition\n" + GOOD_TAIL, 2, "'definition' has no colon"),
    ("title: X\ndefinition: >-\ntext here\n" + GOOD_TAIL, 3,
     "not indented under 'definition'"),
    ("title: X\ndefinition: y\n" + GOOD_TAIL + "common_mistakes:\n  - a\n - b\n", 6,
     "not lined up"),
    ('title: "X\ndefinition: y\n', 1, "quote opened here is never closed"),
    ('title: "X" and more\ndefinition: z\n', 1, "after the closing quote"),
    ("title: `npm`\ndefinition: z\n", 1, "cannot start with `"),
    ("title: @mention\ndefinition: z\n", 1, "cannot start with @"),
    ("title: [draft] HTTP\ndefinition: z\n", 1, "{ or ["),
])
def test_yaml_mistakes_in_plain_words(tmp_path, text, line, words):
    path = tmp_path / "term.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = read_term_file(path).problems
    assert (problem.line, problem.field) == (line, "yaml")
    assert words in problem.message
    for jargon in ("mapping values", "scalar", "token", "block end", "simple key"):
        assert jargon not in problem.message


def test_a_dash_line_merged_into_the_item_above_is_a_warning(tmp_path):
    path = tmp_path / "term.yaml"
    path.write_text("title: X\ndefinition: y\n" + GOOD_TAIL + "common_mistakes:\n"
                    "- First mistake.\n  - Second mistake, indented too far.\n"
                    "- Third mistake.\n", encoding="utf-8")
    result = read_term_file(path)
    assert result.term is not None  # valid: the bot serves it
    assert result.term.common_mistakes[0] == (
        "First mistake. - Second mistake, indented too far.")
    [warning] = result.problems
    assert warning.is_warning
    assert (warning.line, warning.field) == (6, "common_mistakes[1]")
    assert "became part of that item" in warning.message


def test_the_warning_reaches_check_and_does_not_block_a_reload(write_term, terms_dir,
                                                                     capsys):
    from bot.cli import main

    write_term("good")
    write_term("merged", "title: Merged\ndefinition: y\n" + GOOD_TAIL
               + "common_mistakes:\n- One.\n  - Two.\n")
    assert main(["check", str(terms_dir)]) == 0
    out = capsys.readouterr().out
    assert "merged.yaml:6: warning: common_mistakes[1]:" in out
    assert "2 valid term(s), 0 error(s), 1 warning(s)" in out
