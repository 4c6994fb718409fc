"""The history of terms (migrations 7 and 8): recording and reading back, per glossary."""

from __future__ import annotations

import pytest

from bot.errors import InvalidContent
from bot.storage.history import AUTO_RELOAD, History, HistoryEntry, changed_sections
from bot.store import Store
from tests.conftest import make_term


@pytest.fixture
def history(shared_store: Store) -> History:
    """On both backends: the history is shared state."""
    return shared_store.history


@pytest.fixture
def store(shared_store: Store) -> Store:
    """Reloads record their history on both backends too: in SQLite in the reload's own
    transaction, in PostgreSQL once the reload committed (issue 20)."""
    return shared_store


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


# Reloads record themselves: a file edited on disk shows in the history like an edit.

async def test_the_first_load_records_nothing_then_reloads_record_every_change(
        store, write_term, terms_dir):
    write_term("widget")
    write_term("gizmo")
    first = await store.reloads.reload(terms_dir)
    assert first.history_ids is None and await store.history.recent("widget") == []
    write_term("widget", definition="A widget, rewritten on disk.", related=("gizmo",))
    (terms_dir / "gizmo.yaml").unlink()
    write_term("sprocket")
    diff = await store.reloads.reload(terms_dir)
    assert diff.history_ids is not None
    [changed] = await store.history.recent("widget")
    assert changed.source == "reload" and changed.actor_id is None
    assert changed.sections == ("definition", "related")
    assert changed.before == make_term("widget")
    assert changed.after == make_term("widget", definition="A widget, rewritten on disk.",
                                      related=("gizmo",))
    [removed] = await store.history.recent("gizmo")
    assert removed.before == make_term("gizmo") and removed.after is None
    assert removed.sections == changed_sections(make_term("gizmo"), None)
    [added] = await store.history.recent("sprocket")
    assert added.before is None and added.after == make_term("sprocket")
    first_id, last_id = diff.history_ids
    assert sorted((first_id, last_id)) == [first_id, last_id]
    assert {e.id for e in (changed, removed, added)} == set(range(first_id, last_id + 1))


async def test_an_unchanged_or_refused_reload_records_nothing(store, write_term, terms_dir):
    write_term("widget")
    await store.reloads.reload(terms_dir)
    assert (await store.reloads.reload(terms_dir)).history_ids is None
    write_term("widget", text="title: [broken\n")
    with pytest.raises(InvalidContent):
        await store.reloads.reload(terms_dir)
    assert await store.history.recent("widget") == []
    write_term("widget", definition="Now it changed.")  # nothing of the refusal is kept
    await store.reloads.reload(terms_dir)
    [entry] = await store.history.recent("widget")
    assert entry.before == make_term("widget") and entry.sections == ("definition",)


async def test_attributing_a_reload_names_who_ran_it_on_its_rows_only(
        store, write_term, terms_dir):
    write_term("widget")
    write_term("gizmo")
    await store.reloads.reload(terms_dir)
    write_term("widget", definition="Changed by a moderator's reload.")
    ran = await store.reloads.reload(terms_dir)
    write_term("gizmo", definition="Changed by the watcher.")
    watched = await store.reloads.reload(terms_dir)
    await store.history.attribute(ran.history_ids, "Ms Lee", 7)
    await store.history.attribute(watched.history_ids, AUTO_RELOAD)
    [mine] = await store.history.recent("widget")
    [auto] = await store.history.recent("gizmo")
    assert (mine.actor_name, mine.actor_id) == ("Ms Lee", 7)
    assert (auto.actor_name, auto.actor_id) == (AUTO_RELOAD, None)


async def test_an_edit_claims_the_row_its_own_reload_recorded(store, write_term, terms_dir):
    write_term("widget")
    await store.reloads.reload(terms_dir)
    edited = make_term("widget", definition="Edited in Discord.")
    write_term("widget", definition="Edited in Discord.")
    await store.reloads.reload(terms_dir)
    await store.history.record([HistoryEntry("widget", "edit", make_term("widget"), edited,
                                             actor_id=5, actor_name="Editor")])
    [entry] = await store.history.recent("widget")
    assert (entry.source, entry.actor_id, entry.actor_name) == ("edit", 5, "Editor")
    assert entry.before == make_term("widget") and entry.after == edited


async def test_a_moderators_or_old_reload_row_is_not_claimed(store, write_term, terms_dir):
    write_term("widget")
    write_term("gizmo")
    await store.reloads.reload(terms_dir)
    write_term("widget", definition="Reloaded by a moderator.")
    write_term("gizmo", definition="Reloaded long ago.")
    diff = await store.reloads.reload(terms_dir)
    await store.history.attribute(diff.history_ids, "Ms Lee", 7)
    [gizmo_row] = await store.history.recent("gizmo")
    async with store.shared.transaction() as db:  # that reload was three minutes ago
        await db.execute("UPDATE term_history SET at = at - 180 WHERE slug = 'gizmo'")
    await store.history.record([
        HistoryEntry("widget", "edit", make_term("widget"), make_term("widget", title="W"),
                     actor_id=5),
        HistoryEntry("gizmo", "edit", make_term("gizmo"), make_term("gizmo", title="G"),
                     actor_id=5)])
    assert [e.source for e in await store.history.recent("widget")] == ["edit", "reload"]
    assert [e.source for e in await store.history.recent("gizmo")] == ["edit", "reload"]
    assert (await store.history.recent("gizmo"))[1].id == gizmo_row.id


async def test_reload_history_stays_in_its_glossary(store, write_term, terms_dir, tmp_path):
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "widget.yaml").write_text((terms_dir / write_term("widget").name)
                                           .read_text(encoding="utf-8"), encoding="utf-8")
    await store.use_glossaries(["default", "other"], "default")
    await store.reloads.reload(terms_dir)
    await store.reloader("other").reload(other_dir)
    write_term("widget", definition="Only the default glossary's file changed.")
    await store.reloads.reload(terms_dir)
    await store.reloader("other").reload(other_dir)
    other_id = store.glossary_named("other").id
    assert len(await store.history.recent("widget")) == 1
    assert await store.history.recent("widget", glossary_id=other_id) == []


async def test_an_import_of_many_terms_claims_every_row_its_reload_recorded(
        store, write_term, terms_dir):
    slugs = [f"term-{i:03d}" for i in range(501)]  # more than one claiming query's slugs
    for slug in slugs:
        write_term(slug)
    await store.reloads.reload(terms_dir)
    for slug in slugs:
        write_term(slug, definition=f"Imported {slug}.")
    diff = await store.reloads.reload(terms_dir)
    first, last = diff.history_ids
    assert last - first + 1 == len(slugs)
    await store.history.record([
        HistoryEntry(slug, "import", make_term(slug),
                     make_term(slug, definition=f"Imported {slug}."), actor_id=3)
        for slug in slugs])
    rows = await store.shared.fetch(
        "SELECT source, actor_id, count(*) FROM term_history GROUP BY source, actor_id")
    assert rows == [("import", 3, len(slugs))]
