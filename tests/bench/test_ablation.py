"""bench.ablation's side names: what ``bench.e2e --sides`` accepts, and what it refuses."""

from __future__ import annotations

import pytest

from bench.ablation import Variant, parse


def test_a_side_is_a_base_with_pieces_added_and_taken_away() -> None:
    assert parse("glossary-listener+gcfreeze-check") == Variant(
        "glossary", frozenset({"gcfreeze"}), frozenset({"listener", "check"}))
    assert parse("bare") == Variant("bare", frozenset(), frozenset())


@pytest.mark.parametrize("side", [
    "bot", "bare+nonsense", "bare+timed",  # timed is the glossary bot's alone
    "glossary listener", "glossary-",
])
def test_unknown_bases_and_pieces_are_refused(side: str) -> None:
    with pytest.raises(ValueError, match=side.split("+")[0].split("-")[0][:4]):
        parse(side)
