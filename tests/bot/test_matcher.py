"""Explain-terms matching: whole words, longest match, any case or punctuation."""

from __future__ import annotations

from bot.matcher import find_mentions
from bot.search import NameIndex


def slugs(index: NameIndex, text: str) -> list[str]:
    return [slug for slug, _ in find_mentions(index, text)]


NAMES = [
    ("API", "api", "API"),
    ("API routes", "api-routes", "API routes"),
    ("NodeJS", "nodejs", "NodeJS"),
    ("Node", "nodejs", "NodeJS"),
    ("backend", "backend", "backend"),
    ("server side", "backend", "backend"),
    ("Git", "git", "Git"),
]


def test_longest_match_wins_and_order_is_first_mention():
    index = NameIndex.from_names(NAMES)
    text = "Our API-Routes call the backend; the API docs mention Node.js and GIT."
    assert slugs(index, text) == ["api-routes", "backend", "api", "nodejs", "git"]


def test_whole_words_only():
    index = NameIndex.from_names(NAMES)
    assert slugs(index, "legit digital apiary backends") == []


def test_aliases_across_spaces_and_punctuation():
    index = NameIndex.from_names(NAMES)
    assert slugs(index, "Server-side code runs on the server side.") == ["backend"]


def test_nothing_in_an_empty_or_symbol_message():
    index = NameIndex.from_names(NAMES)
    assert slugs(index, "") == []
    assert slugs(index, "!!! ??? @everyone <@123>") == []


def test_large_glossary_and_long_message():
    names = [(f"Term {i} name", f"term-{i}", f"Term {i}") for i in range(10_000)]
    index = NameIndex.from_names(names)
    message = ("Here we discuss term 42 name and term 9999 name among other words. " * 60)[:4000]
    assert slugs(index, message) == ["term-42", "term-9999"]


def test_separate_words_do_not_join_into_a_one_word_name():
    index = NameIndex.from_names(NAMES)
    assert slugs(index, "a pi and no de js, g it") == []
    assert slugs(index, "api routes and API-routes") == ["api-routes"]
