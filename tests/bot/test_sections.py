"""One declaration of a term's sections: a new section is one entry (plus a migration).

A test-only declaration adds a searchable "analogy" section; the card, the full-text row
and the importer must all pick it up from that entry alone.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from bot.cards.embeds import card_embed
from bot.models import Card, term_json, term_type
from bot.pages import parse_page
from bot.sections import SECTIONS, Section, text_view_migration
from bot.storage.database import _split_sql
from bot.storage.migrations import MIGRATIONS
from bot.text import render_text
from tests.conftest import BUNDLED_TERMS, validate

ANALOGY = Section("analogy", "Think of it as", "field", "block", emoji="🧩",
                  searchable=True, importer=r"think of it as|analog(?:y|ies)")
WITH_ANALOGY = (*SECTIONS, ANALOGY)

PAGE = """\
Cache
Definition
A cache keeps answers close at hand.
Why it matters
Fast pages.
Analogy
A sticky note on the fridge instead of a trip to the archive.
"""


def _database(migrations: tuple[str, ...]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    for migration in migrations:
        for statement in _split_sql(migration):
            db.execute(statement)
    return db


def test_a_declared_section_reaches_the_term_the_import_the_card_and_the_page():
    term = parse_page(PAGE, "cache.txt", WITH_ANALOGY)
    assert term.analogy == "A sticky note on the fridge instead of a trip to the archive."
    assert [f.name for f in dataclasses.fields(term)][-1] == "category"  # footer stays last
    embed = card_embed(Card(term, {}, "cache.yaml"), "VCA", 0, sections=WITH_ANALOGY).to_dict()
    assert embed["fields"][-1] == {"name": "🧩 Think of it as", "value": term.analogy,
                                   "inline": False}
    page = render_text(term, "VCA", sections=WITH_ANALOGY).splitlines()
    assert page[page.index("Think of it as") + 1] == term.analogy


def test_a_declared_searchable_section_is_found_by_full_text_search():
    term_class = term_type(WITH_ANALOGY)
    term = term_class(slug="cache", title="Cache", definition="Keeps answers close.",
                      analogy="A sticky note on the fridge.")
    db = _database((*MIGRATIONS, text_view_migration(WITH_ANALOGY)))
    db.execute("INSERT INTO terms(id, slug, file, mtime_ns, size, fingerprint, "
               "names_fingerprint, title) VALUES (1, 'cache', 'cache.yaml', 0, 0, '', '', "
               "'Cache')")
    db.execute("INSERT INTO term_data(term_id, data) VALUES (1, ?)", (term_json(term),))
    db.execute("INSERT INTO terms_fts(rowid, title, aliases, body) "
               "SELECT id, title, aliases, body FROM term_text")
    assert db.execute("SELECT rowid FROM terms_fts WHERE terms_fts MATCH 'fridge'"
                      ).fetchall() == [(1,)]


async def test_the_declared_view_reads_what_the_shipped_schema_reads():
    """The declaration describes the live schema: its view gives every bundled term the
    very text migration 3's view gives it (a full-text delete needs exactly that text)."""
    terms = (await validate(BUNDLED_TERMS)).terms
    shipped, declared = _database(MIGRATIONS), _database((*MIGRATIONS, text_view_migration()))
    for db in (shipped, declared):
        for number, term in enumerate(terms, start=1):
            db.execute("INSERT INTO terms(id, slug, file, mtime_ns, size, fingerprint, "
                       "names_fingerprint, title) VALUES (?, ?, ?, 0, 0, '', '', ?)",
                       (number, term.slug, f"{term.slug}.yaml", term.title))
            db.execute("INSERT INTO term_data(term_id, data) VALUES (?, ?)",
                       (number, term_json(term)))
    rows = "SELECT id, title, aliases, body FROM term_text ORDER BY id"
    assert len(terms) > 5
    assert shipped.execute(rows).fetchall() == declared.execute(rows).fetchall()
