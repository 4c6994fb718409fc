"""Building quiz questions from the glossary: pure functions, no I/O.

Distractors come from the answer's own category when it has enough terms, so the wrong
choices are plausible (three database terms, not a database term among git commands).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from bot.models import Term, name_key, words

CHOICES = 4
BLANK = "_____"


def pick_choices(
    answer: Term, same_category: Sequence[Term], others: Sequence[Term], rng: random.Random
) -> tuple[str, ...]:
    """The answer plus three distinct distractors, shuffled; same category first."""
    distractors: list[str] = []
    for pool in (same_category, others):
        candidates = [t.slug for t in pool if t.slug != answer.slug and t.slug not in distractors]
        rng.shuffle(candidates)
        distractors += candidates[: CHOICES - 1 - len(distractors)]
    if len(distractors) < CHOICES - 1:
        raise ValueError("not enough distinct terms for a quiz")
    choices = [answer.slug, *distractors]
    rng.shuffle(choices)
    return tuple(choices)


# Between two letters of a name, one separator may stand: "Node.js", "node js" and
# "NodeJS" are one name to a student, so all three are blanked.
_SEPARATOR = r"[\s.\-_/]?"
_CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
MIN_PART = 3
MODES = ("name", "definition")
# A question with more blanks than this is a puzzle about gaps, not about the term.
MAX_BLANKS = 5
MAX_BLANKED_SHARE = 0.12


def _hidden_names(term: Term) -> list[str]:
    """Every form of the term's names that would give the answer away.

    Besides the title, aliases and slug, the parts of a name written as one word
    ("Node" and "js" of "Node.js", "Node" of "NodeJS", "package" of "package.json") are
    hidden too, when long enough to mean something: a definition that says "Node" gives
    "Node.js" away. Names with spaces keep their words ("API routes" hides neither "API"
    nor "routes" alone), since those are ordinary words of the definition.
    """
    names = {n for n in (term.title, *term.aliases, term.slug) if n}
    for name in (term.title, *term.aliases):  # a slug's hyphens stand for spaces
        if any(ch.isspace() for ch in name):
            continue
        pieces = [p for w in words(name) for p in _CAMEL_PARTS.findall(w) or [w]]
        if len(pieces) > 1:
            names.update(p for p in pieces if len(p) >= MIN_PART)
    return sorted(names, key=lambda n: len(name_key(n)), reverse=True)


def _pattern(name: str) -> re.Pattern[str] | None:
    key = name_key(name)
    if not key:
        return None
    body = _SEPARATOR.join(re.escape(ch) for ch in key)
    # Plurals and possessives are the same word: "APIs", "Git's".
    return re.compile(rf"(?<![^\W_]){body}(?:'?e?s)?(?![^\W_])", re.IGNORECASE)


def blank_out(text: str, term: Term) -> str:
    """Hide every form of the term's names in a text, or the question gives itself away."""
    for name in _hidden_names(term):
        pattern = _pattern(name)
        if pattern is not None:
            text = pattern.sub(BLANK, text)
    return text


def blanks_well(text: str, term: Term) -> bool:
    """Whether the blanked text still reads as a clue: few gaps for its length."""
    blanks = blank_out(text, term).count(BLANK)
    return blanks <= MAX_BLANKS and blanks <= max(1, len(text.split()) * MAX_BLANKED_SHARE)


def choose_mode(preferred: str, answer: Term, choices: Sequence[Term]) -> str | None:
    """The quiz mode to use: the preferred one if its texts blank well, else the other.

    "name" shows the answer's blanked definition; "definition" shows every choice's
    blanked definition. ``None`` means neither reads well: ask about another term.
    """
    readable = {
        "name": blanks_well(answer.definition, answer),
        "definition": all(blanks_well(term.definition, term) for term in choices),
    }
    for mode in (preferred, *(m for m in MODES if m != preferred)):
        if readable[mode]:
            return mode
    return None
