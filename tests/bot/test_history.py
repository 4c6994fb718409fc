"""The history of terms (migration 6): recording and reading back."""

from __future__ import annotations

import pytest

from bot.storage.history import History, HistoryEntry, changed_sections
from bot.store import Store
from tests.conftest import make_term


@pytest.fixture
def history(shared_store: Store) -> History:
    """On both backends: the history is shared state."""
    return shared_store.history


def test_changed_sections_of_added_changed_and_removed_terms():
    old = make_term("widget")
    new = make_term("widget", definition="New.", related=("gizmo",))
    assert changed_sections(old, new) == ("definition", "related")
    assert changed_sections(None, old) == changed_sections(old, None)
    assert "title" in changed_sections(None, old) and "related" not in changed_sections(None,
                                                                                         old)


async def test_recorded_changes_read_back_newest_first(history):
    first = make_term("widget")
    second = make_term("widget", definition="Second.")
    await history.record([HistoryEntry("widget", "import", None, first)])
    await history.record([HistoryEntry("widget", "suggestion", first, second, actor_id=7,
                                       actor_name="Ms Lee", credited_id=42)])
    latest, added = await history.recent("widget")
    assert (latest.source, latest.actor_name, latest.credited_id) == ("suggestion", "Ms Lee", 42)
    assert latest.before == first and latest.after == second
    assert latest.sections == ("definition",)
    assert added.before is None and added.after == first
    assert await history.entry(added.id) == added
    assert await history.entry(9999) is None
    assert await history.recent("gizmo") == []


async def test_unchanged_terms_and_unknown_sources_are_not_recorded(history):
    term = make_term("widget")
    await history.record([HistoryEntry("widget", "reload", term, term),
                          HistoryEntry("widget", "magic", None, term)])
    assert await history.recent("widget") == []


async def test_a_removal_is_recorded_with_the_text_it_had(history):
    term = make_term("widget")
    await history.record([HistoryEntry("widget", "edit", term, None, actor_id=1)])
    [removed] = await history.recent("widget")
    assert removed.before == term and removed.after is None
