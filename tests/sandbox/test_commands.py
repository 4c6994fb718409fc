"""The sandbox's one-line command grammar, against definitions shaped like the bot's."""

from __future__ import annotations

import pytest

from bot.sandbox.commands import CommandError, convert, flatten, parse

DEFINITIONS = [
    {"name": "define", "description": "Show a card", "options": [
        {"name": "term", "type": 3, "description": "The term", "required": True,
         "autocomplete": True, "min_length": 1, "max_length": 100},
        {"name": "private", "type": 5, "description": "Only you"},
    ]},
    {"name": "glossary", "description": "Manage", "options": [
        {"name": "reload", "type": 1, "description": "Reload"},
        {"name": "stats", "type": 1, "description": "Stats"},
    ]},
    {"name": "share", "description": "Share", "options": [
        {"name": "term", "type": 3, "description": "The term", "required": True},
        {"name": "student", "type": 6, "description": "Who"},
        {"name": "note", "type": 3, "description": "A note", "max_length": 20},
    ]},
    {"name": "pick", "description": "Choices", "options": [
        {"name": "level", "type": 4, "description": "Level", "min_value": 1, "max_value": 3},
        {"name": "colour", "type": 3, "description": "Colour",
         "choices": [{"name": "Red", "value": "r"}, {"name": "Blue", "value": "b"}]},
    ]},
    {"name": "Context menu", "type": 2},
]
COMMANDS = flatten(DEFINITIONS)


def resolve(option_type: int, text: str) -> str:
    return f"member:{text}"


def values(text: str) -> dict:
    return convert(parse(text, COMMANDS), resolve)


def test_subcommands_are_expanded_and_context_menus_left_out():
    assert [c.qualified_name for c in COMMANDS] == [
        "define", "glossary reload", "glossary stats", "share", "pick",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("/define backend", {"term": "backend"}),
    ("/define server side", {"term": "server side"}),  # the first option takes the rest
    ("/define backend private:true", {"term": "backend", "private": True}),
    ("/define term:backend private:no", {"term": "backend", "private": False}),
    ("  /DEFINE   backend  ", {"term": "backend"}),
    ("/share git note:read this first", {"term": "git", "note": "read this first"}),
    ("/share git student:@student note:hi", {
        "term": "git", "student": "member:@student", "note": "hi"}),
    ("/glossary reload", {}),
    ("/pick level:2 colour:blue", {"level": 2, "colour": "b"}),
])
def test_options_by_name_with_the_first_one_positional(text, expected):
    assert values(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("define backend", "start with /"),
    ("/nope", "Unknown command /nope"),
    ("/glossary", "needs a subcommand: /glossary reload, /glossary stats"),
    ("/glossary reload now", "takes no options"),
    ("/define", "needs a value for term"),
    ("/define private:true", "needs a value for term"),
    ("/define a term:b", "given twice"),
    ("/define backend private:maybe", "true or false"),
    ("/define " + "x" * 101, "100 or fewer in length"),
    ("/share git note:" + "y" * 21, "20 or fewer"),
    ("/pick level:9", "at most 3"),
    ("/pick level:two", "whole number"),
    ("/pick colour:green", "one of: Red, Blue"),
])
def test_what_discords_client_would_refuse_is_refused_with_a_reason(text, message):
    with pytest.raises(CommandError, match=message):
        values(text)


@pytest.mark.parametrize(("text", "focused", "raw", "span"), [
    ("/define", None, None, None),
    ("/define ", "term", "", (8, 8)),
    ("/define ba", "term", "ba", (8, 10)),
    ("/define backend private:", "private", "", (24, 24)),
    ("/share git note:hel", "note", "hel", (16, 19)),
])
def test_the_option_being_typed_is_found_for_autocomplete(text, focused, raw, span):
    parsed = parse(text, COMMANDS)
    assert parsed.focused == focused
    if focused is not None:
        assert parsed.raw[focused] == raw
        assert parsed.spans[focused] == span
        assert text[span[0]:span[1]] == raw
