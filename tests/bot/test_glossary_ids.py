"""Glossary ids agree across processes with PostgreSQL (issue 20): they are PostgreSQL's.

Shared rows (usage, history, ...) name their glossary by id, so two processes whose
configs list glossaries in another order, or whose local index was filled under other
ids, must still mean the same glossary by the same id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.publishing import Publishing
from bot.storage.history import HistoryEntry
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, BUNDLED_TERMS, make_term


async def test_two_processes_listing_glossaries_in_another_order_agree_on_ids(
    tmp_path: Path, pg_url: str
) -> None:
    a = await Store.open(tmp_path / "a.sqlite3", database_url=pg_url, pool_size=2)
    b = await Store.open(tmp_path / "b.sqlite3", database_url=pg_url, pool_size=2)
    try:
        await a.use_glossaries(["web", "data", "ops"], "web")
        await b.use_glossaries(["ops", "data", "web"], "ops")
        for name in ("web", "data", "ops"):
            assert a.glossary_named(name).id == b.glossary_named(name).id
        assert len({a.glossary_named(n).id for n in ("web", "data", "ops")}) == 3
        data = b.glossary_named("data").id

        # Usage counted in both processes lands on one glossary's row.
        a.records.record_lookup("git", guild_id=7, glossary_id=a.glossary_named("data").id)
        b.records.record_lookup("git", guild_id=7, glossary_id=data)
        await a.records.flush_usage()
        await b.records.flush_usage()
        rows = await a.shared.fetch(
            "SELECT glossary_id, count FROM lookups WHERE guild_id = 7 AND slug = 'git'")
        assert rows == [(data, 2)]

        # History written by one is the other's history of the same glossary.
        await a.history.record([HistoryEntry("git", "edit", make_term("git"),
                                             make_term("git", title="Git!"),
                                             glossary_id=a.glossary_named("data").id)])
        assert [e.source for e in await b.history.recent("git", glossary_id=data)] == ["edit"]
        assert await b.history.recent("git", glossary_id=b.glossary_named("web").id) == []
    finally:
        await a.close()
        await b.close()


async def test_a_local_index_under_other_ids_is_refilled_under_postgresqls(
    tmp_path: Path, pg_url: str
) -> None:
    files = Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))
    # An index filled on its own: "zeta" first, so "alpha" holds terms under another id.
    async with await Store.open(tmp_path / "stale.sqlite3") as alone:
        await alone.use_glossaries(["zeta", "alpha"], "zeta")
        await alone.reloader("alpha").reload(files)
        stale_id = alone.glossary_named("alpha").id
    publisher = await Store.open(tmp_path / "p.sqlite3", database_url=pg_url, pool_size=2)
    try:
        await publisher.use_glossaries(["alpha", "zeta"], "alpha")
        publishing = Publishing(publisher, check_seconds=60)
        await publishing.start()
        await publisher.reloader("alpha").reload(files)
        await publishing.stop()
        alpha = publisher.glossary_named("alpha").id
        assert alpha != stale_id

        store = await Store.open(tmp_path / "stale.sqlite3", database_url=pg_url, pool_size=2)
        try:
            await store.use_glossaries(["zeta", "alpha"], "zeta")
            assert store.glossary_named("alpha").id == alpha
            # What was cached under the old id is gone, not served as another glossary.
            assert await store.glossary_named("zeta").term_count() == 0
            following = Publishing(store, check_seconds=60)
            await following.start()
            await following.stop()
            assert await store.glossary_named("alpha").term_count() == BUNDLED_COUNT
            assert (await store.glossary_named("alpha").card("git")).term.title == "Git"
        finally:
            await store.close()
    finally:
        await publisher.close()
