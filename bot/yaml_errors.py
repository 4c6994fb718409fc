"""YAML syntax errors in words a teacher understands.

PyYAML reports what its parser ran into ("mapping values are not allowed in this
context", "could not find expected ':'"), often a line after the real mistake. Moderators
editing term files are not YAML experts: this module looks at the lines around the error
and names the usual mistakes (a tab, a colon inside text, a line indented too far, a
missing colon, an unclosed quote) with the line they are on and how to fix them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

_KEY_LINE = re.compile(r"^(\s*)([\w-]+)\s*:(.*)$")
_BLOCK_START = re.compile(r":\s*[>|][+-]?\d*\s*$")
_SPECIAL_START = frozenset("@`*&!%?|>")
QUOTE_HINT = 'put the whole text in double quotes, like title: "`npm` basics"'


@dataclass(frozen=True, slots=True)
class _Error:
    """Where PyYAML stopped (``at``) and what it was reading then (``started``)."""

    problem: str
    context: str
    lines: list[str]
    at: int
    started: int
    column: int

    @property
    def line(self) -> str:
        return self.lines[self.at]


Rule = Callable[[_Error], "tuple[int, str] | None"]


def explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line to report (1-based) and a plain-words explanation of the error."""
    lines = text.splitlines() or [""]
    problem_mark = exc.problem_mark or exc.context_mark
    context_mark = exc.context_mark or problem_mark
    at = min(problem_mark.line, len(lines) - 1) if problem_mark else 0
    started = min(context_mark.line, len(lines) - 1) if context_mark else at
    error = _Error(exc.problem or "", exc.context or "", lines, at, started,
                   problem_mark.column if problem_mark else 0)
    for rule in RULES:
        found = rule(error)
        if found is not None:
            return found
    return at + 1, f"this is not valid YAML here ({error.problem or 'invalid YAML'})"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _previous(lines: list[str], index: int) -> int | None:
    """The nearest line above ``index`` with text on it."""
    for i in range(index - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


def _tab(e: _Error) -> tuple[int, str] | None:
    for index in (e.at, e.started):
        if "\t" in _indent(e.lines[index]) or (
            "tab" in e.problem and "\t" in e.lines[index]):
            return index + 1, "a tab character; indent with spaces (two per level) instead"
    return None


def _indented_too_far(e: _Error) -> tuple[int, str] | None:
    if "mapping values are not allowed" not in e.problem:
        return None
    above = _previous(e.lines, e.at)
    if above is None or len(_indent(e.line)) <= len(_indent(e.lines[above])):
        return None
    key = _KEY_LINE.match(e.lines[above])
    if key is None or not key.group(3).strip():
        return None
    return e.at + 1, (
        f"this line is indented more than '{key.group(2)}' above it; start a section at "
        "the left edge, or, if it continues the text above, write that text as a block "
        "(>- after the colon, the text indented on the lines below)"
    )


def _colon_in_text(e: _Error) -> tuple[int, str] | None:
    if "mapping values are not allowed" not in e.problem:
        return None
    return e.at + 1, (
        "a colon followed by a space inside the text makes YAML read a new section; put "
        'the whole text in double quotes ("Note: like this"), or write >- after the key '
        "and the text indented on the lines below"
    )


def _missing_colon(e: _Error) -> tuple[int, str] | None:
    if "could not find expected ':'" not in e.problem:
        return None
    above = _previous(e.lines, e.started)
    if above is not None and _BLOCK_START.search(e.lines[above]):
        key = _KEY_LINE.match(e.lines[above])
        name = key.group(2) if key else "the key above"
        return e.started + 1, (
            f"this text is not indented under '{name}'; indent every line of a block "
            "with two spaces"
        )
    word = e.lines[e.started].strip().split(" ", 1)[0][:40]
    return e.started + 1, (
        f"'{word}' has no colon after it; a section is a name, a colon and the text "
        "(definition: ...), and text that goes on over several lines is indented"
    )


def _list_item(e: _Error) -> tuple[int, str] | None:
    if "block sequence entries" in e.problem:
        return e.at + 1, ("text cannot start with '- ' on the line of its key; start "
                          "the list on the next line, or " + QUOTE_HINT)
    if "did not find expected key" not in e.problem:
        return None
    before = e.line[: e.column]
    if e.line.lstrip().startswith("- "):
        return e.at + 1, (
            "this list item is not lined up with the items above it (or has no section "
            "above it); put every '-' of a list at the same indentation, under a key that "
            "ends with ':'"
        )
    if e.column > len(_indent(e.line)) and ('"' in before or "'" in before):
        return e.at + 1, "text goes on after the closing quote; " + QUOTE_HINT
    key = _KEY_LINE.match(e.line)
    if key is not None and key.group(3).lstrip()[:1] in ("[", "{"):
        return e.at + 1, "a { or [ at the start of text makes YAML read a list; " + QUOTE_HINT
    return e.at + 1, (
        "this line is indented less than the text above it but does not start a new "
        "section; indent it like the lines above"
    )


def _special_start(e: _Error) -> tuple[int, str] | None:
    char = e.line[e.column] if e.column < len(e.line) else ""
    if char not in _SPECIAL_START:
        return None
    return e.at + 1, f"text cannot start with {char}; " + QUOTE_HINT


def _unclosed(e: _Error) -> tuple[int, str] | None:
    if "nesting depth" in e.problem:
        return e.at + 1, "is nested too deeply: a term file holds text and lists of text"
    if "quoted scalar" in e.context:
        return e.started + 1, "a quote opened here is never closed"
    if "flow" in e.context:
        return e.started + 1, (
            "a { or [ at the start of text makes YAML read a list; " + QUOTE_HINT)
    return None


RULES: tuple[Rule, ...] = (
    _unclosed, _tab, _indented_too_far, _colon_in_text, _missing_colon, _list_item, _special_start,
)
