"""/glossary create with PostgreSQL (issue 20): a server's own glossary made through one
process is served by every process, with the same id, and after a restart too."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from dataclasses import replace
from pathlib import Path

from bot.client import GlossaryBot
from bot.content import dump_term
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, FIXED_NOW, make_term
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import running_bot


async def _within(check, seconds: float = 10.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


def _clock() -> datetime.datetime:
    return FIXED_NOW


@contextlib.asynccontextmanager
async def _bot(config, fake: FakeDiscord, index: Path):  # noqa: ANN001, ANN202
    async with await Store.open(index, database_url=config.database_url, pool_size=4) as store:
        bot = GlossaryBot(config, store, clock=_clock, guild_ready_timeout=0.1)
        async with running_bot(bot, fake) as harness:
            yield harness


async def _serves(bot: GlossaryBot, guild_id: int, name: str) -> bool:
    if bot.glossary_map.named(name) is None or bot.glossary_for(guild_id).name != name:
        return False
    return await bot.glossary_for(guild_id).term_count() == BUNDLED_COUNT


async def test_a_server_glossary_made_in_one_process_is_served_by_every_process(
    config, tmp_path: Path, pg_url: str
) -> None:
    shared = replace(config, database_url=pg_url, allow_server_glossaries=True)
    async with FakeDiscord() as fake:
        async with (_bot(shared, fake, tmp_path / "a.sqlite3") as a,
                    _bot(shared, fake, tmp_path / "b.sqlite3") as b):
            for h in (a, b):  # look for others' glossaries often, for the test
                follow = next(ext for name, ext in h.bot.extensions.items()
                              if name == "cogs.server_glossary")
                follow.start_following(h.bot, 0.1)
            reply = await a.slash("glossary", "create", member=a.moderator,
                                  options={"name": "mine", "start": "copy"})
            await reply.wait_followup()
            guild = a.guild.id
            for h in (a, b):  # whichever process answered, both serve it
                await _within(lambda h=h: _serves(h.bot, guild, "mine"))
            assert (a.bot.store.glossary_named("mine").id
                    == b.bot.store.glossary_named("mine").id)
            made = await b.bot.store.server_glossaries.of_server(guild)
            assert made is not None and made.name == "mine" and made.terms == BUNDLED_COUNT
            # Its editors are that server's moderators, in both processes.
            for h in (a, b):
                assert h.bot.glossary_map.named("mine").owners == (guild,)
            # An edit through either process reaches the other, history and all.
            gid = a.bot.store.glossary_named("mine").id
            for editor, reader, words in ((b, a, "Ours, from b."), (a, b, "Ours, from a.")):
                reloader = editor.bot.store.reloader("mine")
                text = dump_term(make_term("git", title="Git", definition=words))
                await reloader.apply({"git.yaml": text},
                                     {"git.yaml": await reloader.fingerprint("git.yaml")})

                async def edited(reader=reader, words=words) -> bool:  # noqa: ANN001
                    card = await reader.bot.store.glossary_named("mine").card("git")
                    return card.term.definition == words

                await _within(edited)
            history = await a.bot.store.history.recent("git", glossary_id=gid)
            assert [e.after.definition for e in history] == ["Ours, from a.", "Ours, from b."]
            # A second one for the same server is refused whichever process is asked.
            again = await b.slash("glossary", "create", member=b.moderator,
                                  options={"name": "other", "start": "empty"})
            await again.wait_followup()
            assert "already" in str(again.followup_messages[-1])
        # A process started afterwards, with an empty local index, serves it at once.
        async with _bot(shared, fake, tmp_path / "c.sqlite3") as c:
            assert await _serves(c.bot, guild, "mine")


def test_the_operator_lists_exports_and_removes_them_in_postgresql(
    config, tmp_path: Path, pg_url: str, capsys
) -> None:
    from bot.cli import main
    from bot.content import read_term_file

    async def make() -> None:
        async with await Store.open(tmp_path / "bot.sqlite3", database_url=pg_url,
                                    pool_size=2) as store:
            await store.use_glossaries(["default"])
            await store.reloads.reload(config.content_dir)
            await store.server_glossaries.create("school-a", 7, "Web", 1, "Ms Lee",
                                                 (store.glossary.id, "default"))

    asyncio.run(make())
    path = tmp_path / "config.toml"
    # The terminal has its own (empty) local index: everything comes from PostgreSQL.
    path.write_text(f'content_dir = "{config.content_dir}"\n'
                    f'local_index = "{tmp_path / "cli.sqlite3"}"\n'
                    f'database = "{pg_url}"\n')
    assert main(["glossaries", "list", "--config", str(path)]) == 0
    assert f"school-a: {BUNDLED_COUNT} term(s); database only, made in server 7" in (
        capsys.readouterr().out)
    out = tmp_path / "exported"
    out.mkdir()
    assert main(["glossaries", "export", "school-a", "--out", str(out),
                 "--config", str(path)]) == 0
    assert len(sorted(out.glob("*.yaml"))) == BUNDLED_COUNT
    assert not read_term_file(out / "git.yaml").problems
    assert main(["glossaries", "remove", "school-a", "--yes", "--config", str(path)]) == 0
    assert "Removed glossary 'school-a'" in capsys.readouterr().out
    assert main(["glossaries", "--config", str(path)]) == 0
    assert "school-a" not in capsys.readouterr().out

    async def seen_elsewhere() -> list[object]:
        async with await Store.open(tmp_path / "bot.sqlite3", database_url=pg_url,
                                    pool_size=2) as store:
            return await store.server_glossaries.all()

    assert asyncio.run(seen_elsewhere()) == []


async def test_made_and_removed_glossaries_reach_the_other_process_without_waiting(
    config, tmp_path: Path, pg_url: str
) -> None:
    """On the notification, not the catch-up query (30 s): made through one process,
    served by the other within seconds; removed from the terminal, dropped by both."""
    shared = replace(config, database_url=pg_url, allow_server_glossaries=True)
    async with FakeDiscord() as fake:
        async with (_bot(shared, fake, tmp_path / "a.sqlite3") as a,
                    _bot(shared, fake, tmp_path / "b.sqlite3") as b):
            follow = next(ext for name, ext in a.bot.extensions.items()
                          if name == "cogs.server_glossary")
            assert follow.FOLLOW_SECONDS >= 30  # so only a notification can be this quick
            reply = await a.slash("glossary", "create", member=a.moderator,
                                  options={"name": "ours", "start": "copy"})
            await reply.wait_followup()
            guild = a.guild.id
            await _within(lambda: _serves(b.bot, guild, "ours"), seconds=5.0)
            gid = b.bot.store.glossary_named("ours").id

            async with await Store.open(tmp_path / "cli.sqlite3", database_url=pg_url,
                                        pool_size=1) as terminal:
                await terminal.server_glossaries.remove("ours")

            async def dropped() -> bool:  # (the store forgets it last)
                return all(h.bot.glossary_map.named("ours") is None
                           and h.bot.glossary_for(guild).name == "default"
                           and h.bot.store.glossary_by_id(gid) is None for h in (a, b))

            await _within(dropped, seconds=5.0)
            for h in (a, b):  # the local indexes forgot its terms; its cards say it has gone
                rows = await h.bot.store.db.reader.execute_fetchall(
                    "SELECT count(*) FROM terms WHERE glossary_id = ?", (gid,))
                assert rows[0][0] == 0
            # The name is free again, and a new glossary of that name reaches b too.
            again = await a.slash("glossary", "create", member=a.moderator,
                                  options={"name": "ours", "start": "empty"})
            await again.wait_followup()
            assert "now uses its own glossary **ours**" in str(again.followup_messages[-1])

            async def new_one() -> bool:
                spec = b.bot.glossary_map.named("ours")
                return (spec is not None and b.bot.glossary_for(guild).name == "ours"
                        and b.bot.store.glossary_named("ours").id != gid)

            await _within(new_one, seconds=5.0)
