"""Edits made where a file-backed glossary's files are not, against a real PostgreSQL.

The host without the files checks and publishes the edit (``Reloader.apply`` with
``files_elsewhere``); the host with them writes it to its files (comments kept), at once
when it is running and at start-up when it was not, so its next reload from the files
changes nothing (issue 20). Two hosts editing one term: one wins, the other is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import EditConflict
from bot.export import term_file_text
from bot.publishing import Publishing
from bot.storage.published import pending_writebacks
from bot.store import Store
from tests.conftest import BUNDLED_TERMS, make_term
from tests.support.waiting import eventually

COMMENT = "# reviewed by the course team\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    files = Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))
    git = files / "git.yaml"
    git.write_text(COMMENT + git.read_text())
    return files


@contextlib.asynccontextmanager
async def host(tmp_path: Path, name: str, url: str, files: Path | None = None
               ) -> AsyncIterator[tuple[Store, Publishing]]:
    """One process: its own local index; ``files`` if this host has the term files."""
    store = await Store.open(tmp_path / name / "index.sqlite3", database_url=url, pool_size=2)
    publishing = Publishing(store, check_seconds=0.2,
                            directories={"default": files} if files else None)
    try:
        await publishing.start()
        if files is not None:
            await store.reloads.reload(files)
        yield store, publishing
    finally:
        await publishing.stop()
        await store.close()



async def edit(store: Store, file: str, text: str | None, *, new: bool = False) -> None:
    """What ``cogs.authoring.save_changes`` does on a host without the files."""
    expected = None if new else await store.reloads.fingerprint(file)
    await store.reloads.apply({file: text}, {file: expected}, files_elsewhere=True)


async def definition(store: Store, slug: str) -> str:
    return (await store.glossary.term(slug)).definition


def git_edited(definition: str) -> str:
    git = make_term("git", title="Git", definition=definition)
    return term_file_text(git)


async def test_an_edit_without_the_files_is_written_back_where_they_are(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    async with (host(tmp_path, "with-files", pg_url, files) as (a, _),
                host(tmp_path, "without", pg_url) as (b, _)):
        await eventually(lambda: _has(b, "git"))
        await edit(b, "git.yaml", git_edited("Git tracks every change."))
        await edit(b, "docker.yaml", term_file_text(make_term("docker")), new=True)
        removed = sorted(p.name for p in files.glob("*.yaml") if p.name != "git.yaml")[0]
        await edit(b, removed, None)
        assert await definition(b, "git") == "Git tracks every change."

        git = files / "git.yaml"
        await eventually(lambda: _true("Git tracks every change." in git.read_text()))
        await eventually(lambda: _true((files / "docker.yaml").exists()
                                       and not (files / removed).exists()))
        assert git.read_text().startswith(COMMENT)  # the author's comment is kept
        assert await definition(a, "git") == "Git tracks every change."
        await eventually(lambda: _is(pending_writebacks(a.pg, "default"), []))  # settled
        diff = await a.reloads.reload(files)  # a reload from the files undoes nothing
        assert diff.is_empty, diff
        assert await definition(b, "git") == "Git tracks every change."


async def _has(store: Store, slug: str) -> bool:
    return await store.reloads.fingerprint(f"{slug}.yaml") is not None


async def _true(value: bool) -> bool:
    return value


@pytest.mark.parametrize("index", ["kept", "new"])
async def test_a_files_host_that_was_down_writes_the_edit_back_when_it_starts(
    tmp_path: Path, files: Path, pg_url: str, index: str
) -> None:
    """``kept``: it restarts with its local index (it applies only what changed);
    ``new``: with an empty one (it copies everything): either way the edit reaches the
    file before the start-up reload, which then leaves it alone."""
    async with host(tmp_path, "with-files", pg_url, files):
        pass
    async with host(tmp_path, "without", pg_url) as (b, _):
        await edit(b, "git.yaml", git_edited("Edited while the files host was down."))
    name = "with-files" if index == "kept" else "with-files-again"
    async with host(tmp_path, name, pg_url, files) as (a, _):
        text = (files / "git.yaml").read_text()
        assert "Edited while the files host was down." in text and text.startswith(COMMENT)
        assert await definition(a, "git") == "Edited while the files host was down."
        assert await pending_writebacks(a.pg, "default") == []


async def test_a_second_edit_after_a_write_back_reaches_a_files_host_starting_afresh(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    """The written-back file is what PostgreSQL then names as the term's file, so the base
    of the next edit is the file as it really is, even for a host with an empty index."""
    git = files / "git.yaml"
    async with (host(tmp_path, "with-files", pg_url, files),
                host(tmp_path, "without", pg_url) as (b, _)):
        await eventually(lambda: _has(b, "git"))
        await edit(b, "git.yaml", git_edited("First edit."))
        await eventually(lambda: _true("First edit." in git.read_text()))
        await eventually(lambda: _is(pending_writebacks(b.pg, "default"), []))
        await edit(b, "git.yaml", git_edited("Second edit."))
        await edit(b, "git.yaml", git_edited("Third edit."))
        await eventually(lambda: _true("Third edit." in git.read_text()))
    async with host(tmp_path, "without", pg_url) as (b, _):
        await edit(b, "git.yaml", git_edited("Made while the files host was down."))
    async with host(tmp_path, "with-files-afresh", pg_url, files) as (a, _):
        assert "Made while the files host was down." in git.read_text()
        assert git.read_text().startswith(COMMENT)
        assert await definition(a, "git") == "Made while the files host was down."


async def test_a_file_saved_on_its_host_since_wins_over_the_edit(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    async with host(tmp_path, "with-files", pg_url, files):
        pass
    git = files / "git.yaml"
    git.write_text(git.read_text().replace("Git", "Git (saved by hand)", 1))
    async with host(tmp_path, "without", pg_url) as (b, _):
        await edit(b, "git.yaml", git_edited("Edited in Discord."))
    async with host(tmp_path, "with-files", pg_url, files) as (a, _):
        assert "Edited in Discord." not in git.read_text()  # not overwritten
        assert (await a.glossary.term("git")).title == "Git (saved by hand)"
        assert await pending_writebacks(a.pg, "default") == []


async def test_two_hosts_editing_one_term_at_once_one_wins_the_other_is_refused(
    tmp_path: Path, files: Path, pg_url: str
) -> None:
    async with (host(tmp_path, "with-files", pg_url, files) as (a, _),
                host(tmp_path, "b", pg_url) as (b, _),
                host(tmp_path, "c", pg_url) as (c, _)):
        await eventually(lambda: _has(b, "git"))
        await eventually(lambda: _has(c, "git"))
        opened = [await s.reloads.fingerprint("git.yaml") for s in (b, c)]
        assert opened[0] == opened[1]
        results = await asyncio.gather(*(
            s.reloads.apply({"git.yaml": git_edited(f"Written on {n}.")},
                            {"git.yaml": fingerprint}, files_elsewhere=True)
            for s, n, fingerprint in zip((b, c), "bc", opened, strict=True)),
            return_exceptions=True)
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 1 and isinstance(refused[0], EditConflict), results
        winner = "b" if isinstance(results[1], BaseException) else "c"
        for store in (a, b, c):
            await eventually(lambda s=store: _is(definition(s, "git"), f"Written on {winner}."))
        await eventually(lambda: _true(f"Written on {winner}." in (files / "git.yaml")
                                       .read_text()))


async def _is(value, expected: object) -> bool:  # noqa: ANN001
    return await value == expected
