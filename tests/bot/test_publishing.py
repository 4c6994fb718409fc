"""Published glossaries against a real PostgreSQL: publish, apply, catch up, faults.

Each "process" here is a Store of its own (its own local index file) on one database;
the multi-process tests with the fake Discord are in tests/bot/test_publishing_bots.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content import dump_term
from bot.errors import SharedStateUnavailable, StalePublish, TermNotFound
from bot.publishing import Publishing
from bot.storage.published import published_versions
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, BUNDLED_TERMS, make_term
from tests.support.waiting import eventually


@contextlib.asynccontextmanager
async def following(tmp_path: Path, name: str, url: str, *, start: bool = True,
                    check_seconds: float = 0.2) -> AsyncIterator[tuple[Store, Publishing]]:
    store = await Store.open(tmp_path / name / "index.sqlite3", database_url=url, pool_size=2)
    publishing = Publishing(store, check_seconds=check_seconds)
    try:
        if start:
            await publishing.start()
        yield store, publishing
    finally:
        await publishing.stop()
        await store.close()



async def _title(store: Store, term: str) -> str | None:
    try:
        return (await store.glossary.card(term)).term.title
    except TermNotFound:
        return None


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))


async def test_a_reload_is_published_and_a_process_without_files_serves_it(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    async with (following(tmp_path, "a", pg_url) as (a, _),
                following(tmp_path, "b", pg_url) as (b, _)):
        diff = await a.reloads.reload(files)
        assert diff.term_count == BUNDLED_COUNT
        assert (await published_versions(a.pg, ["default"])) == {"default": 1}
        await eventually(lambda: _is(b, "git", "Git"))
        assert await b.glossary.term_count() == BUNDLED_COUNT
        # The whole local index follows: search and autocomplete too, not only cards.
        assert (await b.glossary.search("version control")).total == (
            await a.glossary.search("version control")).total
        assert [s.slug for s in await b.glossary.autocomplete("gi")] == [
            s.slug for s in await a.glossary.autocomplete("gi")]

        # One edit, one addition, one removal: only they cross (version 2).
        (files / "git.yaml").write_text(dump_term(make_term("git", title="Git", aliases=(
            "the stupid content tracker",))))
        (files / "docker.yaml").write_text(dump_term(make_term("docker")))
        removed = sorted(files.glob("*.yaml"))[0]
        removed.unlink()
        await a.reloads.reload(files)
        await eventually(lambda: _is(b, "docker", "Docker"))
        assert await _title(b, "the stupid content tracker") == "Git"
        assert await _title(b, removed.stem) is None
        assert await b.glossary.term_count() == await a.glossary.term_count()
        assert b.glossary.content_version == a.glossary.content_version


async def _is(store: Store, term: str, title: str) -> bool:
    return await _title(store, term) == title


async def test_a_process_that_missed_publishes_catches_up_from_the_version(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    async with following(tmp_path, "a", pg_url) as (a, _):
        await a.reloads.reload(files)
        async with following(tmp_path, "b", pg_url) as (b, _):  # filled at start-up
            assert await b.glossary.term_count() == BUNDLED_COUNT
        # b is gone while two more publishes happen ...
        (files / "docker.yaml").write_text(dump_term(make_term("docker")))
        await a.reloads.reload(files)
        (files / "docker.yaml").write_text(dump_term(make_term("docker", title="Docker Engine")))
        (files / "git.yaml").unlink()
        await a.reloads.reload(files)
        # ... and, listening or not, takes only what changed since its version.
        async with following(tmp_path, "b", pg_url, start=False) as (b, publishing):
            assert await _title(b, "git") == "Git"  # its index as it left it
            await publishing.start()
            assert await _title(b, "docker") == "Docker Engine"
            assert await _title(b, "git") is None
            assert publishing.applied["default"] == 3


async def test_a_stale_publisher_writes_nothing_and_a_reload_catches_up_first(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    other = Path(shutil.copytree(files, tmp_path / "other-terms"))
    async with (following(tmp_path, "a", pg_url, check_seconds=60) as (a, pub_a),
                following(tmp_path, "b", pg_url, check_seconds=60) as (b, _)):
        await a.reloads.reload(files)
        await pub_a.stop()  # a hears nothing from now on: its index stays at version 1
        (other / "docker.yaml").write_text(dump_term(make_term("docker")))
        await b.reloads.reload(other)  # version 2, from b's own copy of the files
        from bot.storage.published import publish
        with pytest.raises(StalePublish):
            await publish(a.pg, "default", 1, "x", [], ["git"])
        assert await published_versions(a.pg, ["default"]) == {"default": 2}
        # a's next reload first takes version 2, then publishes on top of it.
        (files / "kubernetes.yaml").write_text(dump_term(make_term("kubernetes")))
        diff = await a.reloads.reload(files)
        assert diff.added == ("kubernetes",) and "docker" in diff.removed
        assert await published_versions(a.pg, ["default"]) == {"default": 3}


async def test_concurrent_publishers_of_one_glossary_take_turns(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    """Three processes reload their own copies at once: every publish lands on the one
    before it (no lost update), and all three end on the same version and terms."""
    copies = [Path(shutil.copytree(files, tmp_path / f"copy-{n}")) for n in range(3)]
    for n, copy in enumerate(copies):
        (copy / f"extra-{n}.yaml").write_text(dump_term(make_term(f"extra-{n}")))
    async with (following(tmp_path, "a", pg_url) as (a, _),
                following(tmp_path, "b", pg_url) as (b, _),
                following(tmp_path, "c", pg_url) as (c, _)):
        stores = (a, b, c)
        await asyncio.gather(*(s.reloads.reload(copy) for s, copy in zip(stores, copies,
                                                                          strict=True)))
        (version,) = (await published_versions(a.pg, ["default"])).values()
        assert version >= 3

        async def same() -> bool:
            contents = [sorted(t.slug for t in await s.glossary.all_terms()) for s in stores]
            return contents[0] == contents[1] == contents[2]

        await eventually(same)


async def test_with_postgresql_down_lookups_go_on_a_reload_is_refused_whole_and_all_recovers(
    tmp_path: Path, files: Path, own_postgres
) -> None:
    url = own_postgres.url
    async with (following(tmp_path, "a", url) as (a, _),
                following(tmp_path, "b", url) as (b, pub_b)):
        await a.reloads.reload(files)
        await eventually(lambda: _is(b, "git", "Git"))
        await own_postgres.stop()
        (files / "git.yaml").write_text(dump_term(make_term("git", title="Git SCM")))
        with pytest.raises(SharedStateUnavailable):
            await a.reloads.reload(files)
        # Nothing half written: the publisher's own index still has the old term, and
        # every lookup path goes on answering in both processes.
        for store in (a, b):
            assert await _title(store, "git") == "Git"
            assert (await store.glossary.search("git")).total >= 1
            assert await store.glossary.autocomplete("gi")
        await own_postgres.start()
        await eventually(lambda: _listening(pub_b), timeout=20)
        await a.reloads.reload(files)
        await eventually(lambda: _is(b, "git", "Git SCM"), timeout=20)


async def _listening(publishing: Publishing) -> bool:
    listener = publishing._listener
    return listener is not None and not listener.is_closed()


async def test_a_publish_that_fails_rolls_the_local_index_back_too(
    tmp_path: Path, files: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL failing at the publish itself (after the local writes): the local
    transaction is rolled back, so the reloading process never serves what others do not."""
    async with following(tmp_path, "a", pg_url) as (a, _):
        await a.reloads.reload(files)
        (files / "git.yaml").write_text(dump_term(make_term("git", title="Git SCM")))

        async def down(*_args: object, **_kwargs: object) -> int:
            raise SharedStateUnavailable("connection reset")

        monkeypatch.setattr("bot.publishing.publish", down)
        with pytest.raises(SharedStateUnavailable):
            await a.reloads.reload(files)
        assert await _title(a, "git") == "Git"
        assert (await a.glossary.search("scm")).total == 0
        monkeypatch.undo()
        diff = await a.reloads.reload(files)  # the same change, published this time
        assert diff.changed == ("git",)
        assert await _title(a, "git") == "Git SCM"


@contextlib.asynccontextmanager
async def with_files(tmp_path: Path, name: str, url: str, files: Path
                     ) -> AsyncIterator[tuple[Store, Publishing]]:
    store = await Store.open(tmp_path / name / "index.sqlite3", database_url=url, pool_size=2)
    publishing = Publishing(store, check_seconds=0.2, directories={"default": files})
    try:
        await publishing.start()
        yield store, publishing
    finally:
        await publishing.stop()
        await store.close()


async def test_a_change_published_elsewhere_is_written_back_to_this_hosts_files(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    """Host A holds the files; host B (its own copy) saves an edit, an addition and a
    removal and publishes them. A writes them into its files, keeping its comments, so
    A's next reload from its files changes nothing, rather than undoing B's edit."""
    from bot.editing import open_term, save_edit

    theirs = Path(shutil.copytree(files, tmp_path / "their-terms"))
    git = files / "git.yaml"
    git.write_text("# reviewed by the course team\n" + git.read_text())
    async with with_files(tmp_path, "a", pg_url, files) as (a, _):
        await a.reloads.reload(files)
        async with with_files(tmp_path, "b", pg_url, theirs) as (b, _):
            save_edit(open_term(theirs / "git.yaml"), {"definition": "Git tracks changes."})
            (theirs / "docker.yaml").write_text(dump_term(make_term("docker")))
            removed = sorted(theirs.glob("*.yaml"))[0].name
            (theirs / removed).unlink()
            await b.reloads.reload(theirs)

            async def written() -> bool:
                return "Git tracks changes." in git.read_text()

            await eventually(written)
            await eventually(lambda: _exists(files / "docker.yaml"))
            assert git.read_text().startswith("# reviewed by the course team\n")
            assert not (files / removed).exists()
            assert (await a.glossary.term("git")).definition == "Git tracks changes."
            diff = await a.reloads.reload(files)
            assert diff.is_empty, diff
            assert (await b.glossary.term("git")).definition == "Git tracks changes."


async def _exists(path: Path) -> bool:
    return path.exists()


async def test_a_file_saved_here_meanwhile_is_not_overwritten_and_its_reload_wins(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    theirs = Path(shutil.copytree(files, tmp_path / "their-terms"))
    async with (with_files(tmp_path, "a", pg_url, files) as (a, pub_a),
                with_files(tmp_path, "b", pg_url, theirs) as (b, _)):
        await a.reloads.reload(files)
        await eventually(lambda: _is(b, "git", "Git"))
        (files / "git.yaml").write_text(dump_term(make_term("git", title="Git (ours)")))
        (theirs / "git.yaml").write_text(dump_term(make_term("git", title="Git (theirs)")))
        await b.reloads.reload(theirs)
        await eventually(lambda: _is(a, "git", "Git (theirs)"))
        assert "Git (ours)" in (files / "git.yaml").read_text()  # left alone
        await a.reloads.reload(files)  # the file saved here is then published, everywhere
        await eventually(lambda: _is(b, "git", "Git (ours)"))

        async def written_there() -> bool:  # after b's commit, which serves it already
            return "Git (ours)" in (theirs / "git.yaml").read_text()

        await eventually(written_there)
