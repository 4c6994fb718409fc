"""Building quiz questions from the glossary: pure functions, no I/O.

Distractors come from the answer's own category when it has enough terms, so the wrong
choices are plausible (three database terms, not a database term among git commands).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from bot.models import Term

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


def blank_out(text: str, term: Term) -> str:
    """Hide the term's own names in its definition, or the question gives itself away."""
    names = sorted({n for n in (term.title, *term.aliases, term.slug) if n}, key=len,
                   reverse=True)
    for name in names:
        words = [re.escape(part) for part in re.split(r"[\W_]+", name) if part]
        if not words:
            continue
        pattern = r"(?<!\w)" + r"[\W_]*".join(words) + r"(?!\w)"
        text = re.sub(pattern, BLANK, text, flags=re.IGNORECASE)
    return text
