"""``glossary-bot check --strict``: the consistency rules, each on a small glossary that
breaks exactly one of them, through the real command."""

from __future__ import annotations

import pytest

from bot.cli import main


def complete(slug: str, *related: str) -> dict:
    """Every optional section, worded for this slug so no sentence repeats."""
    return {
        "aliases": (f"{slug} alias",),
        "category": "web",
        "common_mistakes": (
            f"Forgetting the first thing about {slug}.",
            f"Mixing {slug} up with the second thing.",
            f"Leaving the third part of {slug} until too late.",
        ),
        "related": related,
    }


@pytest.fixture
def ring(write_term):
    """Three complete terms that link in a ring: strictly clean."""

    def write(**overrides_by_slug: dict) -> None:
        slugs = ["alpha", "beta", "gamma"]
        for i, slug in enumerate(slugs):
            fields = complete(slug, slugs[(i + 1) % 3], slugs[(i + 2) % 3])
            fields.update(overrides_by_slug.get(slug, {}))
            fields.setdefault("definition", f"{slug.title()} is the {i + 1}th thing in the course.")
            write_term(slug, **fields)

    return write


def run_strict(terms_dir, capsys) -> tuple[int, list[str]]:
    status = main(["check", "--strict", str(terms_dir)])
    out = capsys.readouterr()
    return status, [line for line in out.out.splitlines() if ": warning: " in line]


def test_a_complete_ring_is_clean(ring, terms_dir, capsys):
    ring()
    assert run_strict(terms_dir, capsys) == (0, [])
    assert main(["check", str(terms_dir)]) == 0


def test_plain_check_ignores_what_strict_reports(write_term, terms_dir, capsys):
    write_term("alpha")  # no aliases, category, related: fine for the bot
    assert main(["check", str(terms_dir)]) == 0
    status, warnings = run_strict(terms_dir, capsys)
    assert status == 1
    assert {w.split(": warning: ")[1].split(":")[0] for w in warnings} >= {
        "aliases", "category", "related"}


def test_missing_optional_section_names_it(ring, terms_dir, capsys):
    ring(beta={"real_world_example": ""})
    status, warnings = run_strict(terms_dir, capsys)
    assert status == 1
    assert len(warnings) == 1
    assert "beta.yaml:1: warning: real_world_example: is missing" in warnings[0]


def test_counts_of_mistakes_and_related(ring, terms_dir, capsys):
    ring(alpha={"common_mistakes": ("Only one mistake is listed here.",)},
         gamma={"common_mistakes": tuple(f"Mistake number {n} of six." for n in range(6))})
    status, warnings = run_strict(terms_dir, capsys)
    assert status == 1
    assert any("alpha.yaml" in w and "common_mistakes: has 1 items; aim for 3 to 5" in w
               for w in warnings)
    assert any("gamma.yaml" in w and "has 6 items" in w for w in warnings)


def test_too_short_sections_are_named_with_their_line(ring, terms_dir, capsys):
    ring(alpha={"why_it_matters": "Speed.",
                "common_mistakes": ("Fine mistake that is a sentence.", "Typos",
                                    "Another proper sentence here.")})
    _, warnings = run_strict(terms_dir, capsys)
    assert any("why_it_matters: is shorter than a sentence" in w for w in warnings)
    [item] = [w for w in warnings if "item 2 is shorter" in w]
    text = (terms_dir / "alpha.yaml").read_text().splitlines()
    line = int(item.split(":")[1])
    assert "Typos" in text[line - 1]


def test_repeated_sentence_names_the_first_term(ring, terms_dir, capsys):
    shared = "This sentence was pasted into two different cards by mistake."
    ring(alpha={"why_it_matters": f"Alpha matters a lot. {shared}"},
         gamma={"course_example": f"{shared} Gamma shows up in week two."})
    _, warnings = run_strict(terms_dir, capsys)
    [repeat] = [w for w in warnings if "repeats a sentence" in w]
    assert "gamma.yaml" in repeat and "course_example" in repeat and "'alpha'" in repeat


def test_orphan_and_one_way_link(write_term, terms_dir, capsys):
    write_term("alpha", **complete("alpha", "beta", "gamma"))
    write_term("beta", **complete("beta", "alpha", "gamma"))
    write_term("gamma", **complete("gamma", "alpha", "beta"))
    write_term("delta", **complete("delta", "alpha", "beta"))  # nothing links to it
    write_term("omega", **complete("omega", "alpha", "beta"))
    write_term("sink", **complete("sink", "omega", "omega-two"))  # omega-two: dangling
    _, warnings = run_strict(terms_dir, capsys)
    assert any("delta.yaml" in w and "an orphan" in w for w in warnings)
    assert any("sink.yaml" in w and "an orphan" in w for w in warnings)
    assert not any("alpha.yaml" in w for w in warnings)


def test_island_that_links_only_to_itself_is_unreachable(write_term, terms_dir, capsys):
    write_term("alpha", **complete("alpha", "beta", "gamma"))
    write_term("beta", **complete("beta", "alpha", "gamma"))
    write_term("gamma", **complete("gamma", "alpha", "beta"))
    write_term("island-one", **complete("island-one", "island-two", "alpha"))
    write_term("island-two", **complete("island-two", "island-one", "alpha"))
    _, warnings = run_strict(terms_dir, capsys)
    unreachable = [w for w in warnings if "cannot be reached from" in w]
    assert {w.split(":")[0].rsplit("/", 1)[1] for w in unreachable} == {
        "island-one.yaml", "island-two.yaml"}


def test_a_card_discord_would_cut(ring, terms_dir, capsys):
    long_text = "This sentence is long enough to fill a card quickly. " * 25  # ~1,300
    ring(beta={"course_example": long_text.strip()})
    _, warnings = run_strict(terms_dir, capsys)
    assert any("beta.yaml" in w and "course_example: is 1," in w and "before cutting" in w
               for w in warnings)


def test_a_whole_card_over_six_thousand(ring, terms_dir, capsys):
    chunk = "Each of these sentences differs only in its number {n} here. "
    def prose(offset: int, count: int) -> str:
        return "".join(chunk.format(n=offset + n) for n in range(count)).strip()
    ring(gamma={"definition": prose(0, 60), "why_it_matters": prose(100, 15),
                "course_example": prose(200, 15), "real_world_example": prose(300, 15)})
    _, warnings = run_strict(terms_dir, capsys)
    assert any("gamma.yaml" in w and "the card is about" in w for w in warnings)


def test_strict_does_not_run_on_invalid_content(write_term, terms_dir, capsys):
    write_term("alpha", "title: 7\ndefinition: x\n")
    assert main(["check", "--strict", str(terms_dir)]) == 1
    out = capsys.readouterr()
    assert "warning:" not in out.out
