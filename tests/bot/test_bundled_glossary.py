"""The glossary the project ships: big enough for a class on day one, strictly consistent,
and every card readable on Discord without a cut."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.cards.embeds import EMBED_TOTAL_LIMIT, card_embed
from bot.cli import main
from bot.content import read_term_file
from bot.models import Card, Term
from tests.conftest import BUNDLED_TERMS, REPO_ROOT

MIN_TERMS = 100
MIN_PER_CATEGORY = 8


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    found = []
    for path in sorted(BUNDLED_TERMS.glob("*.yaml")):
        result = read_term_file(path)
        assert result.problems == (), result.problems
        found.append(result.term)
    return found


def test_at_least_a_hundred_terms(terms):
    assert len(terms) >= MIN_TERMS


def test_strict_check_is_clean(capsys):
    assert main(["check", "--strict", str(BUNDLED_TERMS)]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_every_link_points_to_a_term_and_every_term_is_linked(terms):
    slugs = {term.slug for term in terms}
    linked = {slug for term in terms for slug in term.related}
    assert linked <= slugs, sorted(linked - slugs)
    assert slugs <= linked, sorted(slugs - linked)


def test_categories_are_big_enough_for_a_quiz_and_documented(terms):
    counts = Counter(term.category for term in terms)
    assert None not in counts
    small = {category: n for category, n in counts.items() if n < MIN_PER_CATEGORY}
    assert not small
    documented = (REPO_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for category in counts:
        assert re.search(rf"`{re.escape(category)}`", documented), category


def test_every_card_fits_discord_without_a_cut(terms):
    titles = {term.slug: term.title for term in terms}
    for term in terms:
        card = Card(term, {slug: titles[slug] for slug in term.related}, f"{term.slug}.yaml")
        embed = card_embed(card, "VCA", 0x5865F2)
        assert len(embed) <= EMBED_TOTAL_LIMIT, term.slug
        assert embed.title == term.title
        assert embed.description == term.definition, term.slug
        shown = {field.value for field in embed.fields}
        for text in (term.why_it_matters, term.course_example, term.real_world_example):
            assert text in shown, (term.slug, text[:40])
        for mistake in term.common_mistakes:
            assert any(mistake in value for value in shown), (term.slug, mistake[:40])


def test_backend_card_shows_the_seed_page_word_for_word(terms):
    seed = REPO_ROOT.parent / "shared" / "seeds" / "000_014817aa4429421b.txt"
    if not seed.is_file():
        pytest.skip(f"the real page export {seed} is not available (shared/ is absent)")
    backend = next(term for term in terms if term.slug == "backend")
    embed = card_embed(Card(backend, {}, "backend.yaml"), "VCA", 0)
    shown = "\n".join([embed.description or "", *(f.value for f in embed.fields)])
    lines = [line.strip() for line in seed.read_text(encoding="utf-8").splitlines()]
    prose = [line for line in lines[1:] if line and not line.startswith("- <a ")
             and line not in {"Definition", "Why it matters", "Example in VCA",
                              "Another Real World Example", "Common mistakes", "Related terms"}]
    for line in prose:
        assert line.removeprefix("- ") in shown, line[:60]

