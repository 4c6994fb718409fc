"""The page importer: the real export round trip, messy exports and never clobbering files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bot.content import dump_term, read_term_file
from bot.errors import PageFormatError
from bot.models import Term
from bot.pages import parse_page
from bot.text import render_text
from tests.conftest import validate

REPO = Path(__file__).resolve().parents[2]
SEEDS = (REPO / ".." / "shared" / "seeds").resolve()
SEED_PAGE = SEEDS / "000_014817aa4429421b.txt"
SHIPPED_TERMS = REPO / "data" / "terms"

# The seed's headings as the website writes them, kept here independently of the importer
# so the round-trip test cannot pass just because both sides share a mistake.
SEED_HEADINGS = {
    "Definition",
    "Why it matters",
    "Example in VCA",
    "Another Real World Example",
    "Common mistakes",
    "Related terms",
}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")

BASE_PAGE = """\
Widget
Definition
A widget is a small reusable piece of interface.
It is configured with props.

Widgets can be nested.
Why it matters
Widgets keep pages consistent.
Example in VCA
The lesson sidebar is a widget.
Another Real World Example
A car dashboard is made of widgets.
Common mistakes
- Making widgets too big.
- Hard-coding text
  instead of passing it in.
Related terms
- <a href="/glossary/api-routes" data-glossary="api-routes" class="glossary-term">api-routes</a>
- <a href="/glossary/nodejs" data-glossary="nodejs" class="glossary-term">nodejs</a>
"""

BASE_TERM = Term(
    slug="widget",
    title="Widget",
    definition=(
        "A widget is a small reusable piece of interface. It is configured with props."
        "\n\nWidgets can be nested."
    ),
    why_it_matters="Widgets keep pages consistent.",
    course_example="The lesson sidebar is a widget.",
    real_world_example="A car dashboard is made of widgets.",
    common_mistakes=("Making widgets too big.", "Hard-coding text instead of passing it in."),
    related=("api-routes", "nodejs"),
)


def page(*sections: str, title: str = "Widget") -> str:
    """A page from a title and heading/body blocks, to vary one thing at a time."""
    return "\n".join((title, *sections)) + "\n"


REQUIRED = ("Definition\nA widget is a thing.", "Why it matters\nIt matters.")


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED_PAGE.is_file():
        pytest.skip(f"the real page export {SEED_PAGE} is not available (shared/ is absent)")
    return SEED_PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_term(seed_text: str) -> Term:
    return parse_page(seed_text, str(SEED_PAGE))


def _seed_parts(text: str) -> tuple[list[str], list[str], list[str]]:
    """Sentences, mistakes and related slugs of the raw seed, read without the importer."""
    sentences: list[str] = []
    mistakes: list[str] = []
    related: list[str] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines[1:]:
        if line in SEED_HEADINGS:
            continue
        if line.startswith("- <a "):
            related.append(re.search(r'data-glossary="([^"]+)"', line).group(1))
        elif line.startswith("- "):
            mistakes.append(line[2:])
        else:
            sentences += SENTENCE_END.split(line)
    return sentences, mistakes, related


# --- The real export ---------------------------------------------------------------------


def test_seed_imports_every_section(seed_term: Term) -> None:
    assert seed_term.slug == "backend"
    assert seed_term.title == "backend"
    assert seed_term.definition.startswith("The backend refers to the server-side part")
    assert seed_term.why_it_matters.endswith("a key skill for any aspiring developer.")
    assert seed_term.course_example.startswith("In Vibe Code Academy (VCA)")
    assert seed_term.real_world_example.startswith("A common example of backend functionality")
    assert len(seed_term.common_mistakes) == 5
    assert seed_term.related == (
        "api-routes", "nodejs", "mysql", "server", "migrations", "prisma", "git", "production",
    )


def test_seed_renders_back_with_every_sentence(seed_text: str, seed_term: Term) -> None:
    sentences, mistakes, related = _seed_parts(seed_text)
    assert len(sentences) > 15 and len(mistakes) == 5 and len(related) == 8  # the split worked
    rendered = render_text(seed_term, "VCA")
    missing = [s for s in sentences + mistakes if s not in rendered]
    assert missing == []
    rendered_lines = rendered.splitlines()
    assert all(f"- {slug}" in rendered_lines for slug in related)
    assert rendered_lines[0] == "backend"
    assert "Example in VCA" in rendered_lines


def test_seed_yaml_round_trip(seed_term: Term, tmp_path: Path) -> None:
    path = tmp_path / f"{seed_term.slug}.yaml"
    path.write_text(dump_term(seed_term), encoding="utf-8")
    result = read_term_file(path)
    assert result.problems == ()
    assert result.term == seed_term


def test_shipped_backend_is_the_seed_plus_aliases_and_category(seed_term: Term) -> None:
    shipped = read_term_file(SHIPPED_TERMS / "backend.yaml").term
    assert shipped is not None
    assert shipped.aliases and shipped.category
    assert dataclasses.replace(shipped, aliases=(), category=None) == seed_term


async def test_shipped_glossary_has_no_problems_and_no_dangling_links() -> None:
    result = await validate(SHIPPED_TERMS)
    assert result.problems == ()  # not even "related term does not exist" warnings
    slugs = {term.slug for term in result.terms}
    assert {"backend", *next(t for t in result.terms if t.slug == "backend").related} <= slugs
    for term in result.terms:
        assert term.category and term.aliases
        assert 3 <= len(term.related) <= 8 and term.slug not in term.related


@pytest.mark.parametrize("path", sorted(SHIPPED_TERMS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_terms_survive_render_and_reimport(path: Path) -> None:
    """render_text and parse_page are inverses for everything but the category."""
    term = read_term_file(path).term
    assert term is not None
    assert parse_page(render_text(term, "VCA")) == dataclasses.replace(term, category=None)


# --- Messy exports -----------------------------------------------------------------------


def test_base_page_parses() -> None:
    assert parse_page(BASE_PAGE) == BASE_TERM


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda text: text.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda text: text.replace("\n", "\r"), id="cr"),
        pytest.param(lambda text: "\ufeff" + text, id="bom"),
        pytest.param(lambda text: "\ufeff" + text.replace("\n", "\r\n"), id="bom-crlf"),
        pytest.param(lambda text: text.replace("\n", "   \n"), id="trailing-spaces"),
        pytest.param(lambda text: text.replace("\n", "\t \n"), id="trailing-tabs"),
        pytest.param(lambda text: "\n\n  \n" + text + "\n\n\n", id="blank-lines-around"),
        pytest.param(
            lambda text: re.sub(r"\n(?=Why|Example|Another|Common|Related)", "\n\n\n", text),
            id="blank-lines-before-headings",
        ),
        pytest.param(lambda text: text.replace("Common mistakes\n", "Common mistakes\n\n\n"),
                     id="blank-lines-after-heading"),
        pytest.param(lambda text: text.replace("A widget", "A  widget"), id="double-space"),
    ],
)
def test_formatting_noise_does_not_change_the_term(transform) -> None:
    assert parse_page(transform(BASE_PAGE)) == BASE_TERM


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Tom &amp; Jerry&#39;s server", "Tom & Jerry's server"),
        ("a&nbsp;b and c\u00a0d", "a b and c d"),
        ("write &lt;div&gt; tags", "write <div> tags"),
        ("<b>bold</b> and <em class='x'>loud</em>", "bold and loud"),
        ("first<br>second<br/>third", "first second third"),
        ('<a href="/glossary/git">git</a> keeps history', "git keeps history"),
        ("if a < b and c > d", "if a < b and c > d"),
        ("5 &gt; 3", "5 > 3"),
    ],
)
def test_html_in_prose_is_decoded_and_tags_are_dropped(line: str, expected: str) -> None:
    term = parse_page(page(f"Definition\n{line}", "Why it matters\nx"))
    assert term.definition == expected


def test_emoji_and_non_ascii_survive_parse_and_yaml(tmp_path: Path) -> None:
    text = page(
        "Definition\nUn café ☕ sert des données — vite 🚀.",
        "Why it matters\nÜbung macht den Meister; 日本語も大丈夫。",
        "Common mistakes\n- Oublier l’accent é 😅",
        title="Café ☕ Señor",
    )
    term = parse_page(text)
    assert term.slug == "cafe-senor"
    assert term.title == "Café ☕ Señor"
    assert term.definition == "Un café ☕ sert des données — vite 🚀."
    assert term.common_mistakes == ("Oublier l’accent é 😅",)
    path = tmp_path / f"{term.slug}.yaml"
    path.write_text(dump_term(term), encoding="utf-8")
    assert read_term_file(path).term == term


def test_wrapped_lines_join_and_paragraph_breaks_stay() -> None:
    text = page("Definition\nOne\nline continues.\n\n\n\nSecond <p></p> para.\n<p>\nThird.",
                "Why it matters\nx")
    assert parse_page(text).definition == "One line continues.\n\nSecond para.\n\nThird."


@pytest.mark.parametrize(
    "missing", ["course_example", "real_world_example", "common_mistakes", "related"]
)
def test_optional_sections_may_be_missing(missing: str) -> None:
    headings = {
        "course_example": "Example in VCA",
        "real_world_example": "Another Real World Example",
        "common_mistakes": "Common mistakes",
        "related": "Related terms",
    }
    blocks = re.split(r"\n(?=(?:Why it|Example in|Another|Common|Related))", BASE_PAGE.strip())
    kept = [block for block in blocks if not block.startswith(headings[missing])]
    term = parse_page("\n".join(kept))
    assert term == dataclasses.replace(BASE_TERM, **{missing: type(getattr(BASE_TERM, missing))()})


def test_headings_in_any_order() -> None:
    title, *blocks = re.split(
        r"\n(?=(?:Definition|Why it|Example in|Another|Common|Related))", BASE_PAGE.strip()
    )
    assert len(blocks) == 6
    assert parse_page("\n".join([title, *reversed(blocks)])) == BASE_TERM
    assert parse_page("\n".join([title, *blocks[3:], *blocks[:3]])) == BASE_TERM


@pytest.mark.parametrize(
    ("heading", "field_name"),
    [
        ("Another Real World Example", "real_world_example"),
        ("Real World Example", "real_world_example"),
        ("Real-world example", "real_world_example"),
        ("ANOTHER REAL-WORLD EXAMPLE:", "real_world_example"),
        ("Real world examples", "real_world_example"),
        ("Example in Vibe Code Academy", "course_example"),
        ("Example in Node.js 101", "course_example"),
        ("## Example in VCA", "course_example"),
        ("why it matters:", "why_it_matters"),
    ],
)
def test_lenient_headings(heading: str, field_name: str) -> None:
    others = [block for block in REQUIRED if field_name != "why_it_matters" or "Why" not in block]
    term = parse_page(page(*others, f"{heading}\nSome text."))
    assert getattr(term, field_name) == "Some text."


def test_a_page_without_why_it_matters_imports_with_the_section_empty() -> None:
    """Only the title and the definition are required (data/README.md, issue 19)."""
    term = parse_page("Widget\nDefinition\nA widget is a thing.\n")
    assert term.definition == "A widget is a thing."
    assert term.why_it_matters == ""


def test_a_sentence_starting_like_a_heading_is_prose() -> None:
    text = page("Definition\nExample in practice.\nMore.", "Why it matters\nx")
    assert parse_page(text).definition == "Example in practice. More."


def test_common_mistake_continuation_lines_join_their_bullet() -> None:
    text = page(*REQUIRED, "Common mistakes\n- First\n  goes on\n\nand on.\n* Second\n• Third\n")
    assert parse_page(text).common_mistakes == ("First goes on and on.", "Second", "Third")


@pytest.mark.parametrize(
    ("line", "slugs"),
    [
        ('- <a href="/glossary/x" data-glossary="api-routes" class="g">API</a>', ("api-routes",)),
        ('- <a href="/glossary/api-routes">API routes</a>', ("api-routes",)),
        ('- <a href="https://vca.example/glossary/api-routes/?ref=1#top">x</a>', ("api-routes",)),
        ("- <a class='glossary-term' href='/glossary/node-js'>Node</a>", ("node-js",)),
        ('- <a href="">API Routes</a>', ("api-routes",)),
        ("- <a>API Routes</a>", ("api-routes",)),
        ('- <A HREF="/glossary/git" DATA-GLOSSARY="git">Git</A>', ("git",)),
        ('- <a data-glossary="Prisma_ORM" href="/x">p</a>', ("prisma-orm",)),
        ("- api-routes", ("api-routes",)),
        ("- API Routes", ("api-routes",)),
        ("git, mysql", ("git", "mysql")),
        ('<a data-glossary="git">g</a> <a data-glossary="mysql">m</a>', ("git", "mysql")),
        ('- <a data-glossary="widget">widget</a>', ()),  # a self-link is dropped
        ("- git\n- Git\n- <a data-glossary='git'>git</a>", ("git",)),  # so are repeats
    ],
)
def test_related_slug_extraction(line: str, slugs: tuple[str, ...]) -> None:
    assert parse_page(page(*REQUIRED, f"Related terms\n{line}")).related == slugs


@pytest.mark.parametrize(
    ("block", "aliases"),
    [
        ("Aliases\nGizmo, thing-a-ma-jig", ("Gizmo", "thing-a-ma-jig")),
        ("Also called: Gizmo, thing-a-ma-jig", ("Gizmo", "thing-a-ma-jig")),
        ("Also known as\n- Gizmo\n- Widgets\n- W.I.D.G.E.T\n- gizmo", ("Gizmo", "Widgets")),
    ],
)
def test_aliases_are_split_and_drop_repeats(block: str, aliases: tuple[str, ...]) -> None:
    assert parse_page(page(*REQUIRED, block)).aliases == aliases


def test_category() -> None:
    assert parse_page(page(*REQUIRED, "Category\n web  ")).category == "web"
    assert parse_page(page(*REQUIRED, "Category: databases")).category == "databases"
    assert parse_page(page(*REQUIRED)).category is None


# --- Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("\n  \n", 1, "empty"),
        ("Definition\nx\nWhy it matters\ny\n", 1, "first line must be the title"),
        ("Widget\nWhy it matters\ny\nCommon mistakes\n- m\n", 5, "'Definition' section"),
        ("Widget\nDefintion\nx\nWhy it matters\ny\n", 2, "before any known section heading"),
        ("Widget\nDefinition\n\nWhy it matters\ny\n", 2, "'Definition' section is empty"),
        ("Widget\nDefinition\nx\nWhy it matters\ny\nDefinition\nz\n", 6, "first on line 2"),
        ("!!!\nDefinition\nx\nWhy it matters\ny\n", 1, "no letters or digits"),
        ("Widget\r\n\r\nWhy it matters\r\nx\r\n\r\n", 4, "'Definition' section"),
    ],
)
def test_bad_pages_raise_with_path_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(PageFormatError) as caught:
        parse_page(text, "pages/widget.txt")
    error = caught.value
    assert (error.path, error.line) == ("pages/widget.txt", line)
    assert fragment in error.message
    assert str(error).startswith(f"pages/widget.txt:{line}: ")


def test_oversized_section_is_an_error_not_a_bad_file() -> None:
    with pytest.raises(PageFormatError, match="limit is 20,000"):
        parse_page(page("Definition\n" + "word " * 5000, "Why it matters\nx"))
