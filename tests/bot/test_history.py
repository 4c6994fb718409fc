"""The history of terms (migrations 7 and 8): recording and reading back, per glossary."""

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


async def test_two_glossaries_with_the_same_slug_keep_separate_histories(history):
    ours, theirs = make_term("widget"), make_term("widget", definition="Theirs.")
    await history.record([HistoryEntry("widget", "edit", None, ours, glossary_id=1),
                          HistoryEntry("widget", "import", None, theirs, glossary_id=2)])
    [mine] = await history.recent("widget", glossary_id=1)
    [other] = await history.recent("widget", glossary_id=2)
    assert (mine.after, mine.glossary_id) == (ours, 1)
    assert (other.after, other.glossary_id) == (theirs, 2)
    assert await history.count("widget", glossary_id=2) == 1
    assert await history.entry(other.id, glossary_id=1) is None  # not this glossary's
    assert await history.entry(other.id, glossary_id=2) == other


async def test_recent_pages_with_an_offset(history):
    terms = [make_term("widget", definition=f"Version {n}.") for n in range(5)]
    await history.record([HistoryEntry("widget", "edit", before, after)
                          for before, after in zip(terms, terms[1:], strict=False)])
    newest = await history.recent("widget", limit=2)
    older = await history.recent("widget", limit=2, offset=2)
    assert [e.after.definition for e in newest + older] == [
        "Version 4.", "Version 3.", "Version 2.", "Version 1."]


async def test_removed_terms_are_found_until_they_come_back(history):
    widget, gadget = make_term("widget"), make_term("widget-pro")
    await history.record([HistoryEntry("widget", "edit", widget, None),
                          HistoryEntry("widget-pro", "edit", gadget, None),
                          HistoryEntry("widget", "edit", widget, None, glossary_id=2)])
    assert [e.slug for e in await history.removed("wid")] == ["widget", "widget-pro"]
    await history.record([HistoryEntry("widget", "restore", None, widget)])
    assert [e.slug for e in await history.removed("wid")] == ["widget-pro"]
    assert [e.glossary_id for e in await history.removed("widget", glossary_id=2)] == [2]
