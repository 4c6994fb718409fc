"""The sections of a term, declared once.

Everything that knows a term's sections reads them from here: the ``Term`` dataclass
(``bot.models``), the YAML validation and the file order (``bot.content``), the JSON the
store keeps and the full-text view over it (``text_view_sql``), the plain-text page
(``bot.text``), the Discord card (``bot.cards.embeds.card_embed``) and the importer's
headings (``bot.import_sources``).

Adding a section is one entry in ``SECTIONS`` (in file order; its place on the card and on
the page follows from ``card`` and ``page``) plus a migration that appends
``text_view_migration()`` to ``bot.storage.migrations.MIGRATIONS`` when it is searchable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MAX_TEXT_CHARS = 20_000

# Where the Discord card shows a section: its title, its description, a field (with emoji
# and heading), its footer, or as buttons (related terms).
Placement = Literal["title", "description", "field", "footer", "buttons"]
# How the plain-text page shows it: its first line, a heading line then the text (or a
# bullet list), one "Heading: a, b" line, or not at all.
PageForm = Literal["title", "block", "inline", "none"]


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a term: a YAML key, a ``Term`` attribute, a heading on the page."""

    key: str
    heading: str  # as the course page writes it; "{course}" is the course's name
    card: Placement
    page: PageForm
    emoji: str = ""  # before the heading on a card field
    required: bool = False  # the file must have it (text sections only)
    is_list: bool = False  # a list of texts, else one text
    searchable: bool = False  # in the full-text body (title and aliases have columns)
    links: bool = False  # items are slugs of other terms
    limit: int = MAX_TEXT_CHARS  # characters of the text (of each item, for a list)
    importer: str = ""  # the headings the importer recognises: a regex, casefolded
    inline: bool = False  # the importer also reads "Heading: value" on one line
    shown_as: str = ""  # how the importer names it in messages, if not the heading
    nullable: bool = False  # absent is None rather than "" (the store queries it)

    def title(self, course_name: str) -> str:
        return self.heading.replace("{course}", course_name)

    @property
    def import_name(self) -> str:
        return self.shown_as or self.heading.replace("{course}", "<course>")

    @property
    def default(self) -> object:
        return () if self.is_list else None if self.nullable else ""


SECTIONS: tuple[Section, ...] = (
    Section("title", "title", "title", "title", required=True),
    Section("aliases", "Also called", "footer", "inline", is_list=True,
            importer=r"aliases|also called|also known as", inline=True),
    # A category is offered as an autocomplete choice, whose value Discord caps at 100.
    Section("category", "Category", "footer", "none", limit=100, importer=r"category",
            inline=True, nullable=True),
    Section("definition", "Definition", "description", "block", required=True,
            searchable=True, importer=r"definitions?"),
    # Optional since bulk import (issue 19): a Quizlet or spreadsheet term has only a title
    # and a definition; the card leaves the field out and ``check --strict`` warns.
    Section("why_it_matters", "Why it matters", "field", "block", emoji="💡",
            searchable=True, importer=r"why (?:it|this) matters"),
    # The course name varies per deployment; a line ending like a sentence is prose.
    Section("course_example", "Example in {course}", "field", "block", emoji="🎓",
            searchable=True, importer=r"example in .{1,60}(?<![.!?])"),
    Section("real_world_example", "Another Real World Example", "field", "block", emoji="🌍",
            searchable=True, importer=r"(?:another )?real[ -]?world examples?"),
    Section("common_mistakes", "Common mistakes", "field", "block", emoji="⚠️",
            is_list=True, searchable=True, importer=r"common mistakes?"),
    Section("related", "Related terms", "buttons", "block", is_list=True, links=True,
            importer=r"related(?: terms?)?"),
)


_CARD_RANK = {"title": 0, "description": 1, "field": 2, "buttons": 3, "footer": 4}


def section(key: str, sections: Sequence[Section] = SECTIONS) -> Section:
    return next(s for s in sections if s.key == key)


def term_field_order(sections: Sequence[Section] = SECTIONS) -> tuple[Section, ...]:
    """The order of ``Term``'s fields, and of the JSON the store keeps (whose hash tells a
    changed term): the order the card shows them, title and description (which have no
    default) first."""
    return tuple(sorted(sections, key=lambda s: _CARD_RANK[s.card]))


def importer_headings(sections: Sequence[Section] = SECTIONS
                      ) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((s.key, re.compile(s.importer)) for s in sections if s.importer)


def text_view_sql(sections: Sequence[Section] = SECTIONS) -> str:
    """The view the full-text index reads a term's text from: title, aliases and a body of
    every searchable section, one per line, out of the JSON the store keeps."""
    parts = []
    for s in sections:
        if not s.searchable:
            continue
        if s.is_list:
            parts.append(f"coalesce((SELECT group_concat(value, char(10)) "
                         f"FROM json_each(data, '$.{s.key}')), '')")
        else:
            parts.append(f"coalesce(json_extract(data, '$.{s.key}'), '')")
    body = " || char(10)\n             || ".join(parts)
    return f"""CREATE VIEW term_text(id, title, aliases, body) AS
    SELECT t.id, t.title,
           (SELECT group_concat(value, ' ') FROM json_each(data, '$.aliases')),
           {body}
    FROM terms t JOIN term_data d ON d.term_id = t.id;"""


def text_view_migration(sections: Sequence[Section] = SECTIONS) -> str:
    """A migration for a changed list of searchable sections: the glossary is emptied
    (the next start loads it again from the files, as stored terms lack the new section)
    and the view rebuilt; usage, settings, quizzes and daily posts stay."""
    return f"""
    INSERT INTO terms_fts(terms_fts) VALUES ('delete-all');
    DELETE FROM terms;
    UPDATE glossaries SET version = NULL;
    DROP VIEW term_text;
    {text_view_sql(sections)}
    """
