"""The card as plain text, in the same shape as the course website's glossary page.

The importer reads that shape and this module writes it, so the two are inverses: the
terminal ``show`` command, the importer round trip and the Discord card all agree on
which sections a term has and what they are called.
"""

from __future__ import annotations

from bot.models import Term

DEFINITION = "Definition"
WHY_IT_MATTERS = "Why it matters"
REAL_WORLD_EXAMPLE = "Another Real World Example"
COMMON_MISTAKES = "Common mistakes"
RELATED_TERMS = "Related terms"


def course_example_heading(course_name: str) -> str:
    return f"Example in {course_name}"


def term_sections(term: Term, course_name: str) -> list[tuple[str, str]]:
    """The prose sections a card shows, in page order, skipping empty ones."""
    sections = [
        (DEFINITION, term.definition),
        (WHY_IT_MATTERS, term.why_it_matters),
        (course_example_heading(course_name), term.course_example),
        (REAL_WORLD_EXAMPLE, term.real_world_example),
        (COMMON_MISTAKES, bullet_list(term.common_mistakes)),
    ]
    return [(heading, text) for heading, text in sections if text]


def bullet_list(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def render_text(term: Term, course_name: str, related_titles: dict[str, str] | None = None) -> str:
    """Render a term as the glossary page export would show it."""
    lines = [term.title]
    for heading, text in term_sections(term, course_name):
        lines += [heading, text]
    if term.related:
        titles = related_titles or {}
        lines.append(RELATED_TERMS)
        lines += [f"- {titles.get(slug, slug)}" for slug in term.related]
    if term.aliases:
        lines.append(f"Also called: {', '.join(term.aliases)}")
    return "\n".join(lines)


ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """Cut text to ``limit`` characters at a word boundary, marking the cut with an ellipsis.

    Discord rejects a whole message when one embed part is too long, so every section is
    passed through here; a cut mid-word would read as a typo.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    cut = text[: limit - 1]
    boundary = cut.rfind(" ")
    if boundary >= limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(" \n,;:-") + ELLIPSIS
