"""The card as plain text, in the same shape as the course website's glossary page.

The importer reads that shape and this module writes it, so the two are inverses: the
terminal ``show`` command, the importer round trip and the Discord card all agree on
which sections a term has and what they are called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.sections import SECTIONS, Section


def section_text(term: Any, section: Section) -> str:
    """A section's text as a card or page shows it: a list as bullets."""
    value = getattr(term, section.key)
    return bullet_list(value) if section.is_list else value or ""


def term_sections(term: Any, course_name: str, sections: Sequence[Section] = SECTIONS
                  ) -> list[tuple[str, str]]:
    """The prose sections a page shows under headings, in page order, skipping empty ones
    (related terms, which need other terms' titles, are not among them)."""
    return [(s.title(course_name), text) for s in sections
            if s.page == "block" and not s.links and (text := section_text(term, s))]


def bullet_list(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def render_text(term: Any, course_name: str, related_titles: dict[str, str] | None = None,
                sections: Sequence[Section] = SECTIONS) -> str:
    """Render a term as the glossary page export would show it: the title, each block
    section under its heading, then the one-line ones ("Also called: a, b")."""
    lines = [term.title]
    titles = related_titles or {}
    for heading, text in term_sections(term, course_name, sections):
        lines += [heading, text]
    for s in sections:
        if s.page == "block" and s.links and getattr(term, s.key):
            lines.append(s.title(course_name))
            lines += [f"- {titles.get(slug, slug)}" for slug in getattr(term, s.key)]
    for s in sections:
        if s.page == "inline" and (value := getattr(term, s.key)):
            shown = ", ".join(value) if s.is_list else value
            lines.append(f"{s.title(course_name)}: {shown}")
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
