"""bench.ablation's side names: what ``bench.e2e --sides`` accepts, and what it refuses."""

from __future__ import annotations

import discord
import pytest

from bench.ablation import Variant, _standard_json, parse


def test_a_side_is_a_base_with_pieces_added_and_taken_away() -> None:
    assert parse("glossary-listener+gcfreeze-check") == Variant(
        "glossary", frozenset({"gcfreeze"}), frozenset({"listener", "check"}))
    assert parse("bare") == Variant("bare", frozenset(), frozenset())


@pytest.mark.parametrize("side", [
    "bot", "bare+nonsense", "bare+timed",  # timed is the glossary bot's alone
    "glossary+cards",  # the glossary bot's cards are its own already
    "glossary listener", "glossary-",
])
def test_unknown_bases_and_pieces_are_refused(side: str) -> None:
    with pytest.raises(ValueError, match=side.split("+")[0].split("-")[0][:4]):
        parse(side)


def test_without_orjson_discord_py_encodes_as_its_own_fallback_does(monkeypatch) -> None:
    # registered first, so the test puts discord.py's own functions back
    monkeypatch.setattr(discord.utils, "_to_json", discord.utils._to_json)
    monkeypatch.setattr(discord.utils, "_from_json", discord.utils._from_json)
    _standard_json()
    assert discord.utils._to_json({"title": "Café"}) == '{"title":"Caf\\u00e9"}'
    assert parse("glossary-orjson").removed == {"orjson"}
