"""Strict checks for a consistent glossary: what ``glossary-bot check --strict`` adds.

Plain ``check`` says whether the bot will accept the files. A glossary can be valid and
still read badly: a card with no example, a term nothing links to, a sentence pasted into
two cards, a section so long that Discord shows it cut. These findings are warnings with
``path:line`` so authors can fix them one by one; they never stop a reload.

Everything here works on terms already read and validated (``FileResult``), so it needs no
database and runs in a fraction of a second on the bundled glossary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.content import FileResult
from bot.models import Problem, Term
from bot.sections import SECTIONS
from bot.text import section_text, term_sections

MISTAKES_RANGE = (3, 5)
RELATED_RANGE = (2, 8)
# A section is "a sentence" when it has a few words and ends like one.
MIN_SENTENCE_WORDS = 4
# Sentences shorter than this are too plain to count as repeated ("It depends.").
MIN_REPEATED_CHARS = 30

# What the card can show without cutting (bot/cards/embeds.py applies the same limits):
# the definition is the embed's description, every other section one field, and the
# whole embed must stay under Discord's 6,000 characters. Headings and the footer are
# counted as the card writes them, plus a small margin for their emoji.
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
CARD_LIMIT = 6000
HEADING_EMOJI_MARGIN = 4
FOOTER_OVERHEAD = 40

OPTIONAL_SECTIONS = (
    "aliases", "category", "course_example", "real_world_example", "common_mistakes",
    "related",
)
PROSE_SECTIONS = ("definition", "why_it_matters", "course_example", "real_world_example")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_ENDS_LIKE_SENTENCE = re.compile(r"[.!?][\"')\]]*$")


@dataclass(frozen=True, slots=True)
class _Entry:
    """A valid term with the lines its sections start on, for ``path:line`` findings."""

    path: str
    term: Term
    lines: dict[str, int]
    item_lines: dict[str, list[int]]

    def line(self, section: str, item: int | None = None) -> int:
        if item is not None:
            items = self.item_lines.get(section, [])
            if item < len(items):
                return items[item]
        return self.lines.get(section, 1)

    def warn(self, section: str, message: str, item: int | None = None) -> Problem:
        return Problem(self.path, self.line(section, item), section, message, is_warning=True)


def lint(results: Iterable[FileResult], course_name: str) -> list[Problem]:
    """Every strict finding for the valid terms among ``results``, in file order."""
    entries = [
        _Entry(r.path, r.term, r.lines, r.item_lines) for r in results if r.term is not None
    ]
    entries.sort(key=lambda entry: entry.path)
    problems: list[Problem] = []
    for entry in entries:
        problems += _sections(entry)
        problems += _card_length(entry, course_name)
    problems += _repeated_sentences(entries)
    problems += _links(entries)
    problems.sort(key=lambda p: (p.path, p.line))
    return problems


def _sections(entry: _Entry) -> list[Problem]:
    term = entry.term
    found = [
        entry.warn(name, "is missing; a complete card has every section")
        for name in OPTIONAL_SECTIONS if not getattr(term, name)
    ]
    for name, (low, high) in (("common_mistakes", MISTAKES_RANGE), ("related", RELATED_RANGE)):
        count = len(getattr(term, name))
        if count and not low <= count <= high:
            found.append(entry.warn(name, f"has {count} items; aim for {low} to {high}"))
    for name in PROSE_SECTIONS:
        text = getattr(term, name)
        if text and not _is_sentence(text):
            found.append(entry.warn(name, "is shorter than a sentence; say it in full"))
    for number, mistake in enumerate(term.common_mistakes):
        if not _is_sentence(mistake):
            found.append(entry.warn(
                "common_mistakes", f"item {number + 1} is shorter than a sentence", number,
            ))
    return found


def _is_sentence(text: str) -> bool:
    return len(text.split()) >= MIN_SENTENCE_WORDS and bool(_ENDS_LIKE_SENTENCE.search(text))


def _card_length(entry: _Entry, course_name: str) -> list[Problem]:
    """Sections Discord would show cut, and cards over the 6,000-character total."""
    term = entry.term
    found: list[Problem] = []
    if len(term.definition) > DESCRIPTION_LIMIT:
        found.append(entry.warn("definition", f"is {len(term.definition):,} characters; the "
                                f"card shows {DESCRIPTION_LIMIT:,} before cutting it"))
    fields = {s.key: section_text(term, s) for s in SECTIONS if s.card == "field"}
    for name, value in fields.items():
        if len(value) > FIELD_VALUE_LIMIT:
            found.append(entry.warn(name, f"is {len(value):,} characters on the card; Discord "
                                    f"shows {FIELD_VALUE_LIMIT:,} before cutting it"))
    total = len(term.title) + FOOTER_OVERHEAD + len(term.category or "")
    total += len(", ".join(term.aliases))
    total += sum(len(heading) + HEADING_EMOJI_MARGIN + len(text)
                 for heading, text in term_sections(term, course_name))
    if total > CARD_LIMIT:
        found.append(entry.warn("file", f"the card is about {total:,} characters; Discord "
                                f"shows {CARD_LIMIT:,} at most, so it would be cut"))
    return found


def _sentences(term: Term) -> Iterable[tuple[str, int | None, str]]:
    """(section, list item or None, sentence) for every sentence of a term's prose."""
    for name in PROSE_SECTIONS:
        for sentence in _SENTENCE_END.split(getattr(term, name)):
            yield name, None, sentence
    for number, mistake in enumerate(term.common_mistakes):
        for sentence in _SENTENCE_END.split(mistake):
            yield "common_mistakes", number, sentence


def _repeated_sentences(entries: Sequence[_Entry]) -> list[Problem]:
    """A sentence in two cards reads as boilerplate; name both places once."""
    first_seen: dict[str, str] = {}
    found: list[Problem] = []
    for entry in entries:
        for section, item, sentence in _sentences(entry.term):
            key = " ".join(sentence.lower().split())
            if len(key) < MIN_REPEATED_CHARS:
                continue
            owner = first_seen.setdefault(key, entry.term.slug)
            if owner != entry.term.slug:
                found.append(entry.warn(
                    section, f"repeats a sentence of {owner!r}: \"{sentence.strip()[:60]}…\"",
                    item,
                ))
    return found


def _links(entries: Sequence[_Entry]) -> list[Problem]:
    """Orphans (nothing links to them) and terms cut off from the rest of the glossary.

    The glossary is meant to be read by following related buttons, so from any card a
    student should be able to reach every other: the link graph is strongly connected.
    """
    by_slug = {entry.term.slug: entry for entry in entries}
    links = {slug: [r for r in e.term.related if r in by_slug] for slug, e in by_slug.items()}
    linked_from: dict[str, list[str]] = {slug: [] for slug in by_slug}
    for source, targets in links.items():
        for target in targets:
            linked_from[target].append(source)
    found = [
        by_slug[slug].warn("related", "no other term links here (an orphan); add it to the "
                           "related list of a term that leads to it")
        for slug, sources in linked_from.items() if not sources
    ]
    if len(by_slug) < 2:
        return found
    root = _hub(links, linked_from)
    reached = _reachable(root, links)
    returns = _reachable(root, linked_from)
    for slug, entry in by_slug.items():
        if slug not in reached and linked_from[slug]:
            found.append(entry.warn(
                "related", f"cannot be reached from {root!r} through related links",
            ))
        if slug not in returns:
            found.append(entry.warn(
                "related", f"its related links never lead back to {root!r} and the rest",
            ))
    return found


def _hub(links: dict[str, list[str]], linked_from: dict[str, list[str]]) -> str:
    """The best-connected term: the natural place to start reading (ties by name)."""
    return min(links, key=lambda slug: (-(len(links[slug]) + len(linked_from[slug])), slug))


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
