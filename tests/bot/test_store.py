"""The SQLite store: lookups, autocomplete, search, reload, against real database files."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

import bot.reloading
import bot.storage.glossary
import bot.storage.records
from bot.errors import InvalidContent, TermNotFound
from bot.models import name_key
from bot.search import HIT_END, HIT_START
from bot.storage.glossary import AUTOCOMPLETE_LIMIT
from bot.store import Store
from tests.conftest import BUNDLED_TERMS
from tests.support.waiting import eventually


@pytest.mark.parametrize("spelling", ["backend", "Back-End", "BACKEND", "back end", "bäckend",
                                      "  backend  ", "server side"])
async def test_lookup_ignores_case_accents_and_punctuation(bundled_store, spelling):
    card = await bundled_store.glossary.card(spelling)
    assert card.term.slug == "backend"


async def test_card_carries_titles_of_related_terms_that_exist(store, write_term, terms_dir):
    write_term("backend", related=("server", "ghost"))
    write_term("server", title="Web Server")
    await store.reloads.reload(terms_dir)
    card = await store.glossary.card("backend")
    assert card.related_titles == {"server": "Web Server"}
    assert not card.related_exists("ghost")


async def test_miss_raises_with_did_you_mean(bundled_store):
    with pytest.raises(TermNotFound) as caught:
        await bundled_store.glossary.card("bakend")
    assert caught.value.query == "bakend"
    assert caught.value.suggestions[0].slug == "backend"
    assert len(caught.value.suggestions) <= 5


@pytest.mark.parametrize("query", [
    "what is a bakend", "the backend?", "@everyone bakend <@123>", "define backend please",
    "<@&42> what's the back end", "bakend https://example.com/x",
])
async def test_did_you_mean_finds_terms_inside_sentences(bundled_store, query):
    with pytest.raises(TermNotFound) as caught:
        await bundled_store.glossary.card(query)
    assert caught.value.suggestions, query
    assert caught.value.suggestions[0].slug == "backend"


async def test_a_sentence_naming_two_terms_suggests_both(bundled_store):
    with pytest.raises(TermNotFound) as caught:
        await bundled_store.glossary.card("is prisma like mysql")
    assert {s.slug for s in caught.value.suggestions} >= {"prisma", "mysql"}


async def test_only_the_cleaned_query_is_counted_as_a_miss(bundled_store):
    bundled_store.records.record_miss("what is a kubernetes")
    bundled_store.records.record_miss("@everyone Kubernetes <@123>")
    bundled_store.records.record_miss("<@123> @here")  # nothing that could name a term
    stats = await bundled_store.records.stats()
    assert [(c.name, c.count) for c in stats.top_misses] == [("kubernetes", 2)]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "@everyone", "x" * 5000])
async def test_lookup_of_nonsense_is_a_clean_miss(bundled_store, query):
    with pytest.raises(TermNotFound):
        await bundled_store.glossary.card(query)


async def test_autocomplete_prefix_first_then_typos(store, write_term, terms_dir):
    for slug in ("backend", "background-jobs", "bash", "frontend", "backup"):
        write_term(slug)
    await store.reloads.reload(terms_dir)
    prefix = [s.slug for s in await store.glossary.autocomplete("back")]
    assert prefix[:3] == ["backend", "background-jobs", "backup"]
    assert [s.slug for s in await store.glossary.autocomplete("bakend")][0] == "backend"
    assert "frontend" in [s.slug for s in await store.glossary.autocomplete("frntend")]


async def test_large_glossary_autocomplete_searches_typos_in_a_thread(
        store, write_term, terms_dir, monkeypatch):
    for slug in ("backend", "bash", "frontend"):
        write_term(slug)
    await store.reloads.reload(terms_dir)
    inline = [await store.glossary.autocomplete(t) for t in ("bakend", "frntend", "ba")]
    monkeypatch.setattr(bot.storage.glossary, "INLINE_FUZZY_KEYS", 0)
    threads: list[object] = []
    real_to_thread = asyncio.to_thread
    monkeypatch.setattr(asyncio, "to_thread", lambda f, *a: threads.append(f) or real_to_thread(
        f, *a))
    assert [await store.glossary.autocomplete(t) for t in ("bakend", "frntend", "ba")] == inline
    assert threads  # the same answers, through the worker thread


async def test_autocomplete_exact_name_comes_first(store, write_term, terms_dir):
    write_term("git")
    write_term("github")
    write_term("gitignore")
    await store.reloads.reload(terms_dir)
    found = await store.glossary.autocomplete("git")
    assert [s.slug for s in found] == ["git", "github", "gitignore"]


async def test_autocomplete_caps_at_25(store, write_term, terms_dir):
    for number in range(40):
        write_term(f"term-{number:02d}")
    await store.reloads.reload(terms_dir)
    for text in ("term", "", "trm", "t"):
        suggestions = await store.glossary.autocomplete(text)
        assert len(suggestions) == AUTOCOMPLETE_LIMIT
        assert len({s.slug for s in suggestions}) == AUTOCOMPLETE_LIMIT


@pytest.mark.parametrize(
    "query",
    ["api-routes", "c++", '"', "AND", "OR NOT", "*", ":", "", "don't", "NEAR(a b)", "col:umn",
     "^start", "a\"b", "(", "'", "-", "a AND", "title:backend", "🚀", "\x00", "%_"],
)
async def test_search_never_raises_on_user_text(bundled_store, query):
    page = await bundled_store.glossary.search(query)
    assert page.total >= len(page.hits)


async def test_search_ranks_and_snippets(bundled_store):
    page = await bundled_store.glossary.search("database")
    assert page.total >= 2
    assert all(HIT_START in hit.snippet and HIT_END in hit.snippet for hit in page.hits)
    ranks = [hit.rank for hit in page.hits]
    assert ranks == sorted(ranks)


async def test_search_pages(bundled_store):
    first = await bundled_store.glossary.search("the", limit=3)
    second = await bundled_store.glossary.search("the", limit=3, offset=3)
    assert first.total == second.total > 3
    assert not {h.slug for h in first.hits} & {h.slug for h in second.hits}


async def test_search_runs_the_full_text_query_once_not_once_per_term(store, tmp_path):
    """A prefix that matches nearly every term ("bra" at 10,000 terms) took minutes when
    the query was constrained to the glossary's ids: FTS5 then ran it again for each id.
    Only the page's snippets (at most ``limit`` rows) may look rows up by id."""
    database = sqlite3.connect(tmp_path / "state" / "glossary.sqlite3")
    try:
        plan = database.execute(
            "EXPLAIN QUERY PLAN " + bot.storage.glossary._SEARCH_SQL,
            ('"bra"*', '{title aliases} : ("bra"*)', 5, 0, store.glossary.id)).fetchall()
    finally:
        database.close()
    scans = [row[3] for row in plan if "terms_fts VIRTUAL TABLE" in row[3]]
    by_id = [scan for scan in scans if ":=" in scan]  # a MATCH with rowid = ?
    assert len(scans) == 3  # the names boosted, every hit ranked, the page's snippets
    assert len(by_id) == 1


async def test_search_is_kept_to_the_servers_glossary(tmp_path, write_term, terms_dir):
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    write_term("backend", definition="Servers and databases behind an app.")
    (other_dir / "database.yaml").write_text(
        (terms_dir / "backend.yaml").read_text().replace("backend", "database"))
    opened = await Store.open(tmp_path / "two.sqlite3")
    try:
        await opened.use_glossaries(["main", "other"], "main")
        await opened.reloader("main").reload(terms_dir)
        await opened.reloader("other").reload(other_dir)
        for name, slug in (("main", "backend"), ("other", "database")):
            page = await opened.glossary_named(name).search("databases")
            assert [hit.slug for hit in page.hits] == [slug] and page.total == 1
    finally:
        await opened.close()


async def test_reload_reports_a_diff(store, write_term, terms_dir):
    write_term("alpha")
    write_term("beta")
    first = await store.reloads.reload(terms_dir)
    assert (first.added, first.changed, first.removed) == (("alpha", "beta"), (), ())
    write_term("beta", definition="Beta, rewritten.")
    write_term("gamma")
    (terms_dir / "alpha.yaml").unlink()
    second = await store.reloads.reload(terms_dir)
    assert (second.added, second.changed, second.removed) == (("gamma",), ("beta",), ("alpha",))
    assert second.term_count == 2
    assert (await store.reloads.reload(terms_dir)).is_empty
    assert (await store.glossary.card("beta")).term.definition == "Beta, rewritten."
    with pytest.raises(TermNotFound):
        await store.glossary.card("alpha")


async def test_renamed_alias_moves_between_terms(store, write_term, terms_dir):
    write_term("alpha", aliases=("first letter",))
    write_term("beta")
    await store.reloads.reload(terms_dir)
    write_term("alpha")
    write_term("beta", aliases=("first letter",))
    await store.reloads.reload(terms_dir)
    assert (await store.glossary.card("first letter")).term.slug == "beta"


async def test_bad_reload_keeps_old_content_fully_served(store, write_term, terms_dir):
    write_term("alpha", definition="The original.")
    write_term("beta")
    await store.reloads.reload(terms_dir)
    write_term("alpha", definition="Changed but the reload fails.")
    write_term("broken", "title: [oops\n")
    with pytest.raises(InvalidContent) as caught:
        await store.reloads.reload(terms_dir)
    assert [p.field for p in caught.value.errors] == ["yaml"]
    assert caught.value.errors[0].path.endswith("broken.yaml")
    assert (await store.glossary.card("alpha")).term.definition == "The original."
    assert await store.glossary.term_count() == 2
    assert [s.slug for s in await store.glossary.autocomplete("")] == ["alpha", "beta"]
    assert (await store.glossary.search("original")).total == 1


async def test_reload_racing_lookups_never_sees_a_mix(store, write_term, terms_dir,
                                                     monkeypatch):
    """Lookups keep running while a reload writes, chunk by chunk, in one transaction:
    each sees the old glossary or the new one whole, and none fails."""
    import bot.loading

    monkeypatch.setattr(bot.loading, "CHUNK_FILES", 5)  # many writes, many chances to race
    for number in range(60):
        write_term(f"term-{number:02d}", definition="version one")
    await store.reloads.reload(terms_dir)
    for number in range(60):
        write_term(f"term-{number:02d}", definition="version two")
    reload_task = asyncio.create_task(store.reloads.reload(terms_dir))
    seen: list[set[str]] = []
    during = 0

    async def lookups(worker: int) -> None:
        nonlocal during
        for round_ in range(200):  # bounded; stops early once the reload is done
            card = await store.glossary.card(f"term-{(worker + round_) % 60:02d}")
            assert card.term.definition in {"version one", "version two"}
            seen.append({t.definition for t in await store.glossary.all_terms()})
            if reload_task.done():
                return
            during += 1

    await asyncio.gather(*(lookups(n) for n in range(100)))
    diff = await reload_task
    assert during > 0, "no lookup ran while the reload was writing"
    assert all(len(versions) == 1 for versions in seen), "a lookup saw a mix"
    assert {"version one"} in seen and {"version two"} in seen
    assert len(diff.changed) == 60


async def test_concurrent_reloads_are_serialised(store, write_term, terms_dir):
    write_term("alpha")
    diffs = await asyncio.gather(*(store.reloads.reload(terms_dir) for _ in range(5)))
    assert sum(len(d.added) for d in diffs) == 1


async def test_stats_count_lookups_and_misses(bundled_shared_store):
    for _ in range(3):
        bundled_shared_store.records.record_lookup("git")
    bundled_shared_store.records.record_lookup("backend")
    for _ in range(2):
        bundled_shared_store.records.record_miss("Kubernetes")
    bundled_shared_store.records.record_miss("docker")
    bundled_shared_store.records.record_miss("GIT")  # asked for but exists: not a content gap
    stats = await bundled_shared_store.records.stats()
    assert stats.term_count == len(list(BUNDLED_TERMS.glob("*.yaml")))
    assert stats.last_reload_at is not None
    assert [(c.name, c.count) for c in stats.top_terms][:2] == [("Git", 3), ("backend", 1)]
    assert [(c.name, c.count) for c in stats.top_misses] == [("Kubernetes", 2), ("docker", 1)]


async def test_database_survives_reopen_with_schema_version(tmp_path, write_term, terms_dir):
    path = tmp_path / "db.sqlite3"
    write_term("alpha")
    async with await Store.open(path) as first:
        await first.reloads.reload(terms_dir)
        first.records.record_lookup("alpha")
    async with await Store.open(path) as second:
        assert (await second.glossary.card("alpha")).term.slug == "alpha"
        assert (await second.reloads.reload(terms_dir)).is_empty
        assert (await second.records.stats()).top_terms[0].count == 1
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than this bot"):
        await Store.open(path)


async def test_usage_is_flushed_in_the_background_when_due(tmp_path, write_term, terms_dir,
                                                           monkeypatch):

    monkeypatch.setattr(bot.storage.records, "USAGE_FLUSH_SECONDS", 0.0)
    path = tmp_path / "usage.sqlite3"
    write_term("alpha")
    store = await Store.open(path)
    try:
        await store.reloads.reload(terms_dir)
        store.records.record_lookup("alpha")
        store.records.record_miss("nothing here")
        for _ in range(100):  # bounded wait for the background flush
            with sqlite3.connect(path) as raw:
                saved = raw.execute("SELECT count FROM lookups WHERE slug = 'alpha'").fetchall()
            if saved:
                break
            await asyncio.sleep(0.01)
        assert saved == [(1,)]
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT query, count FROM misses").fetchall() == [("nothing here", 1)]


async def test_restart_with_unchanged_files_parses_nothing(tmp_path, write_term, terms_dir,
                                                           monkeypatch):

    path = tmp_path / "restart.sqlite3"
    write_term("alpha", related=("ghost",))
    async with await Store.open(path) as first:
        loaded = await first.reloads.reload(terms_dir)

    def must_not_parse(*args: object) -> None:
        raise AssertionError("unchanged files were parsed again")

    monkeypatch.setattr(bot.reloading, "parse_in_chunks", must_not_parse)
    async with await Store.open(path) as restarted:
        diff = await restarted.reloads.reload(terms_dir)
        assert diff.is_empty and diff.term_count == 1
        assert diff.warnings == loaded.warnings and len(diff.warnings) == 1
        monkeypatch.undo()
        write_term("alpha", definition="Edited after the restart.")
        assert (await restarted.reloads.reload(terms_dir)).changed == ("alpha",)


async def test_a_reload_that_would_remove_everything_is_refused(store, write_term, terms_dir):
    write_term("alpha")
    await store.reloads.reload(terms_dir)
    (terms_dir / "alpha.yaml").unlink()
    with pytest.raises(InvalidContent) as caught:
        await store.reloads.reload(terms_dir)
    assert "refusing to remove all 1 terms" in caught.value.errors[0].message
    assert (await store.glossary.card("alpha")).term.slug == "alpha"


async def test_many_files_are_parsed_in_worker_processes(tmp_path, write_term, terms_dir,
                                                         monkeypatch):
    """The worker-process path gives exactly what the in-thread path gives."""
    import bot.loading

    for number in range(30):
        write_term(f"term-{number:02d}", aliases=(f"alias {number}",),
                   related=("term-01" if number == 0 else "term-00", "nowhere"))
    write_term("broken", "title: [oops\n")
    results = []
    for threshold in (10_000, 1):  # in a thread, then in processes
        monkeypatch.setattr(bot.loading, "PROCESS_THRESHOLD", threshold)
        monkeypatch.setattr(bot.loading, "CHUNK_FILES", 4)
        async with await Store.open(tmp_path / f"db-{threshold}.sqlite3") as fresh:
            with pytest.raises(InvalidContent) as caught:
                await fresh.reloads.reload(terms_dir)
            (terms_dir / "broken.yaml").rename(tmp_path / "broken.yaml")
            diff = await fresh.reloads.reload(terms_dir)
            (tmp_path / "broken.yaml").rename(terms_dir / "broken.yaml")
            results.append((caught.value.problems, diff.added, await fresh.glossary.all_terms()))
    assert results[0] == results[1]
    assert len(results[1][1]) == 30


async def test_a_failing_worker_falls_back_to_a_thread(store, write_term, terms_dir,
                                                       monkeypatch):
    import bot.loading

    async def broken_parse(*args: object) -> None:
        raise bot.loading.WorkerFailed("worker exited (1)")

    monkeypatch.setattr(bot.loading, "PROCESS_THRESHOLD", 1)
    monkeypatch.setattr(bot.loading._Worker, "parse", broken_parse)
    for number in range(5):
        write_term(f"term-{number}")
    assert len((await store.reloads.reload(terms_dir)).added) == 5


async def test_another_process_reload_reaches_autocomplete(tmp_path, write_term, terms_dir,
                                                           monkeypatch):
    """Two processes (shards) share the database: the one that did not reload sees the
    new names within INDEX_CHECK_SECONDS."""

    monkeypatch.setattr(bot.storage.glossary, "INDEX_CHECK_SECONDS", 0.0)
    path = tmp_path / "shared.sqlite3"
    write_term("alpha")
    async with await Store.open(path) as first, await Store.open(path) as second:
        await first.reloads.reload(terms_dir)
        assert [s.slug for s in await second.glossary.autocomplete("al")] == ["alpha"]
        write_term("alpine")
        await first.reloads.reload(terms_dir)
        for _ in range(100):  # bounded: the refresh runs in the background
            found = [s.slug for s in await second.glossary.autocomplete("al")]
            if found == ["alpha", "alpine"]:
                break
            await asyncio.sleep(0.01)
        assert found == ["alpha", "alpine"]


async def test_an_edit_that_keeps_every_name_keeps_the_name_index(store, write_term, terms_dir,
                                                                  monkeypatch):
    """Most edits fix text, not names: the reload then skips rebuilding the index, and the
    new text is served at once all the same."""

    write_term("alpha", aliases=("first",))
    write_term("beta")
    await store.reloads.reload(terms_dir)
    builds: list[object] = []
    read_index = bot.storage.glossary._read_index
    monkeypatch.setattr(bot.storage.glossary, "_read_index",
                        lambda *a: builds.append(a) or read_index(*a))
    assert (await store.glossary.card("first")).term.definition != "Rewritten."
    write_term("alpha", aliases=("first",), definition="Rewritten.")
    assert (await store.reloads.reload(terms_dir)).changed == ("alpha",)
    assert builds == []
    assert (await store.glossary.card("first")).term.definition == "Rewritten."
    assert [s.slug for s in await store.glossary.autocomplete("fir")] == ["alpha"]
    write_term("alpha", aliases=("premier",), definition="Rewritten.")
    await store.reloads.reload(terms_dir)
    assert len(builds) == 1
    assert [s.slug for s in await store.glossary.autocomplete("prem")] == ["alpha"]
    assert all(s.score < 100 for s in await store.glossary.autocomplete("fir"))  # no name starts so
    with pytest.raises(TermNotFound):
        await store.glossary.card("first")


async def test_the_name_index_read_in_slices_is_the_whole_index(store, write_term, terms_dir,
                                                                monkeypatch):
    """The index is read a few rows at a time (INDEX_SLICE_ROWS); slice edges lose or
    repeat nothing: the same answers as one slice holding everything."""
    for number in range(23):
        write_term(f"term-{number:02d}", aliases=(f"alias {number}", f"other {number}"))
    await store.reloads.reload(terms_dir)
    indexes = []
    for rows in (1_000_000, 7, 1):
        monkeypatch.setattr(bot.storage.glossary, "INDEX_SLICE_ROWS", rows)
        monkeypatch.setattr(bot.storage.glossary, "POSITION_RUN", rows)
        version, index = bot.storage.glossary._read_index(store.db.path, store.glossary.id,
                                                          None, True)
        indexes.append((version, index.keys, list(index.key_terms), list(index.word_counts),
                        index.slugs, index.titles))
    assert indexes[0] == indexes[1] == indexes[2]
    _, keys, key_terms, _, slugs, _ = indexes[0]
    assert len(slugs) == 23 and len(keys) == len(set(keys)) and list(keys) == sorted(keys)
    assert len(keys) > 23 * 2  # each term's slug or title, and two aliases
    assert slugs[key_terms[keys.index(name_key("alias 5"))]] == "term-05"
    assert slugs[key_terms[keys.index(name_key("other 22"))]] == "term-22"


async def test_a_full_card_cache_lets_its_oldest_card_go_not_all(store, write_term, terms_dir,
                                                                 monkeypatch):
    """Clearing a full cache at once held the event loop for 10 ms; now the oldest card
    makes room, and the others are still served from memory (the very same object)."""
    monkeypatch.setattr(bot.storage.glossary, "CACHED_CARDS", 2)
    for slug in ("alpha", "beta", "gamma"):
        write_term(slug)
    await store.reloads.reload(terms_dir)
    alpha, beta = await store.glossary.card("alpha"), await store.glossary.card("beta")
    await store.glossary.card("gamma")
    assert await store.glossary.card("beta") is beta
    assert await store.glossary.card("alpha") is not alpha  # read again: it had gone


async def test_a_reload_empties_the_replaced_caches_and_spares_an_index_in_use(
        store, write_term, terms_dir):
    """What a reload replaces is freed a run at a time in a worker thread, in the
    background, never at once on the event loop; an index a lookup still holds (an
    autocomplete in flight) is left whole."""
    write_term("alpha", aliases=("first",))
    write_term("beta")
    await store.reloads.reload(terms_dir)
    await store.glossary.card("alpha")
    held = await store.glossary.names()
    old_cards = store.glossary._cards
    assert len(old_cards) == 1
    write_term("alpha", aliases=("premier",))
    await store.reloads.reload(terms_dir)
    assert store.glossary._cards is not old_cards

    async def emptied() -> bool:
        return len(old_cards) == 0

    await eventually(emptied)
    assert held.exact(name_key("first")) == ("alpha", "Alpha")
    assert (await store.glossary.names()).exact(name_key("first")) is None
    assert (await store.glossary.card("premier")).term.slug == "alpha"
