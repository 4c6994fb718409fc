"""Start-up skips glossaries whose files did not change, and only those."""

from __future__ import annotations

import os

from bot.startup import unchanged_glossaries, warm_indexes
from bot.store import Store


async def test_only_glossaries_with_saved_files_are_reloaded(tmp_path, write_term, terms_dir):
    write_term("cache")
    other = tmp_path / "other"
    other.mkdir()
    (other / "pandas.yaml").write_text((terms_dir / "cache.yaml").read_text().replace(
        "slug: cache", "slug: pandas"))
    dirs = {"default": terms_dir, "other": other}
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.use_glossaries(["other"])
        assert await unchanged_glossaries(store, dirs) == set()  # never loaded
        await store.reloads.reload(terms_dir)
        await store.reloader("other").reload(other)
        assert await unchanged_glossaries(store, dirs) == {"default", "other"}
        stat = (other / "pandas.yaml").stat()
        os.utime(other / "pandas.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
        assert await unchanged_glossaries(store, dirs) == {"default"}
        write_term("cookie")
        assert await unchanged_glossaries(store, dirs) == set()
    async with await Store.open(tmp_path / "db.sqlite3") as store:  # a restart
        await store.use_glossaries(["other"])
        await warm_indexes(store)
        assert [s.slug for s in await store.glossary_named("other").autocomplete("")] == [
            "pandas"]
        assert (await store.glossary.card("cache")).term.slug == "cache"
