"""The name index's typo search: the pruned variant list finds what the full one finds."""

from __future__ import annotations

import random

import pytest

from bot.search import NameIndex, one_edit_variants


def test_variants_after_the_last_position_are_left_out():
    full = one_edit_variants("bakend", "abcdekn")
    pruned = one_edit_variants("bakend", "abcdekn", 2)
    assert set(pruned) < set(full)
    assert [v for v in full if v in set(pruned)] == pruned  # same order
    assert all(v.startswith("bak") for v in set(full) - set(pruned))


@pytest.fixture(scope="module")
def index() -> NameIndex:
    rng = random.Random(7)
    words = {"".join(rng.choice("abcdeklmnorst") for _ in range(rng.randint(3, 12)))
             for _ in range(3000)}
    return NameIndex.from_names((w, w, w.title()) for w in sorted(words))


def test_fuzzy_finds_what_the_unpruned_search_finds(index, monkeypatch):
    rng = random.Random(3)
    typed = [k[:i] + rng.choice("aekxz") + k[i + 1:] for k in rng.sample(index.keys, 300)
             for i in [rng.randrange(len(k))]]
    typed += ["".join(rng.choice("abcdeklmnorstxz") for _ in range(rng.randint(2, 18)))
              for _ in range(200)]
    pruned = [index.fuzzy(t, 25) for t in typed]
    monkeypatch.setattr(NameIndex, "_known_prefix", lambda self, key: len(key))
    assert [index.fuzzy(t, 25) for t in typed] == pruned
    assert sum(bool(found) for found in pruned) > 300
