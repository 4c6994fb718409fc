"""Quiz questions never give their answer away, and fall back when they cannot hide it."""

from __future__ import annotations

import re

import pytest

from bot.content import read_term_file
from bot.quiz import BLANK, blank_out, blanks_well, choose_mode
from tests.conftest import BUNDLED_TERMS, make_term

NODE = make_term(
    "nodejs", title="NodeJS", aliases=("Node", "Node runtime"),
    definition="Node.js is a runtime that lets JavaScript run outside the browser. "
    "Many teams write their servers with node js or NodeJS, and Node's package manager "
    "is npm.",
)


def test_every_form_of_a_dotted_name_is_hidden():
    shown = blank_out(NODE.definition, NODE)
    assert shown.startswith(f"{BLANK} is a runtime")
    for leak in ("Node", "node", ".js", "js "):
        assert leak not in shown
    assert "JavaScript" in shown and "npm" in shown


@pytest.mark.parametrize(("title", "aliases", "text", "hidden"), [
    ("API", (), "An API is a contract; APIs are everywhere.", ("API",)),
    ("package.json", (), "The package file package.json lists packages.", ("package.json",)),
    ("CI/CD", ("CI",), "CI/CD runs tests; CI runs on every push.", ("CI",)),
    ("Git", (), "Git's history is safe with git.", ("Git", "git")),
])
def test_names_plurals_and_possessives_are_hidden(title, aliases, text, hidden):
    term = make_term("x", title=title, aliases=aliases, definition=text)
    shown = blank_out(text, term)
    for word in hidden:
        assert word not in shown, shown


def test_words_of_a_spaced_name_stay_readable():
    term = make_term("api-routes", title="API routes", definition="API routes answer "
                     "requests. An API is a contract and routes map URLs to code.")
    shown = blank_out(term.definition, term)
    assert shown.startswith(f"{BLANK} answer requests.")
    assert "An API is a contract and routes map" in shown


def test_a_word_that_merely_contains_a_name_is_kept():
    term = make_term("react", title="React", definition="React is reactive. It reacts.")
    assert blank_out(term.definition, term) == f"{BLANK} is reactive. It {BLANK}."


def test_too_many_blanks_switch_mode_or_term():
    noisy = make_term("git", title="Git", definition="Git tracks git repos; use git, "
                      "git, git and git again to learn Git.")
    fine = [make_term(s, definition=f"A plain definition of the {n}th term, long enough.")
            for n, s in enumerate(("alpha", "beta", "gamma"))]
    assert not blanks_well(noisy.definition, noisy)
    assert choose_mode("name", noisy, [noisy, *fine]) is None
    assert choose_mode("name", fine[0], [noisy, *fine]) == "name"
    assert choose_mode("definition", fine[0], [noisy, *fine]) == "name"
    assert choose_mode("definition", fine[0], fine) == "definition"


def test_no_bundled_definition_leaks_its_own_name():
    for path in BUNDLED_TERMS.glob("*.yaml"):
        term = read_term_file(path).term
        shown = blank_out(term.definition, term)
        leak = re.search(rf"(?<!\w){re.escape(term.title)}(?!\w)", shown, re.IGNORECASE)
        assert leak is None, (term.slug, shown[:80])
