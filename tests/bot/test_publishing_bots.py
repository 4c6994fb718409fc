"""Several bots on one PostgreSQL through the fake Discord: shards split between them,
each with its own local index, only one with the term files (issue 20)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from bot.client import GlossaryBot
from bot.config import Config
from bot.content import dump_term
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, make_term
from tests.support.fake_discord import MANAGE_GUILD, FakeDiscord
from tests.support.harness import BotHarness, running_bot

SHARDS = 3


@contextlib.asynccontextmanager
async def bots(config: Config, fake: FakeDiscord, url: str, tmp_path: Path
               ) -> AsyncIterator[list[tuple[GlossaryBot, BotHarness]]]:
    """One bot per shard; shard 0's holds the term files, the others have none."""
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for shard in range(SHARDS):
            store = await stack.enter_async_context(await Store.open(
                tmp_path / f"index-{shard}.sqlite3", database_url=url, pool_size=2))
            content = config.content_dir if shard == 0 else tmp_path / "not-on-this-host"
            bot = GlossaryBot(replace(config, content_dir=content, shard_count=SHARDS,
                                      shard_ids=(shard,), database_url=url), store)
            harness = await stack.enter_async_context(running_bot(bot, fake))
            bot.publishing.check_seconds = 0.5
            started.append((bot, harness))
        yield started


async def answered(h: BotHarness, member, term: str) -> str | None:  # noqa: ANN001
    reply = await h.slash("define", term=term, member=member)
    return reply.embeds[0]["title"] if reply.embeds else None


async def until(check, timeout: float = 15.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)


async def test_a_reload_where_the_files_are_is_served_by_the_bots_without_them(
    config: Config, content_dir: Path, pg_url: str, tmp_path: Path
) -> None:
    fake = FakeDiscord(shard_count=SHARDS, guild_count=SHARDS)
    by_shard = {(g.id >> 22) % SHARDS: g for g in fake.guilds}
    async with fake, bots(config, fake, pg_url, tmp_path) as started:
        students = [fake.add_member(by_shard[n], username=f"student-{n}") for n in range(SHARDS)]
        for n, (bot, h) in enumerate(started):
            assert [g.id for g in bot.guilds] == [by_shard[n].id]
            assert await bot.store.glossary.term_count() == BUNDLED_COUNT  # none has files but 0
            assert await answered(h, students[n], "git") == "Git"

        (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
        mod = fake.add_member(by_shard[0], username="mod", permissions=MANAGE_GUILD)
        reload = await started[0][1].slash("glossary", "reload", member=mod)
        assert (await reload.wait_followup())["embeds"][0]["title"] == "Glossary reloaded"
        for n, (_, h) in enumerate(started[1:], start=1):
            await until(lambda h=h, n=n: _is(answered(h, students[n], "docker"), "Docker"))
        # Autocomplete (the name index) followed too.
        choices = await started[2][1].autocomplete("define", focused="term", term="dock",
                                                   member=students[2])
        assert "docker" in [c["value"] for c in choices]
        # Where the files are not, an edit is refused, saying where to make it.
        far_mod = fake.add_member(by_shard[1], username="far-mod", permissions=MANAGE_GUILD)
        refused = await started[1][1].slash("glossary", "edit", member=far_mod, options={
            "term": "git", "section": "definition"})
        assert refused.embeds[0]["title"] == "Term files elsewhere"


async def _is(answer, expected: str) -> bool:  # noqa: ANN001
    return await answer == expected


async def test_postgresql_stopped_and_started_mid_run(
    config: Config, content_dir: Path, own_postgres, tmp_path: Path
) -> None:
    fake = FakeDiscord(shard_count=SHARDS, guild_count=SHARDS)
    by_shard = {(g.id >> 22) % SHARDS: g for g in fake.guilds}
    async with fake, bots(config, fake, own_postgres.url, tmp_path) as started:
        students = [fake.add_member(by_shard[n], username=f"student-{n}") for n in range(SHARDS)]
        mod = fake.add_member(by_shard[0], username="mod", permissions=MANAGE_GUILD)
        await own_postgres.stop()
        for n, (_, h) in enumerate(started):  # lookups answer from the local index
            assert await answered(h, students[n], "git") == "Git"
        (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
        refused = await started[0][1].slash("glossary", "reload", member=mod)
        body = await refused.wait_followup()
        assert body["embeds"][0]["title"] == "Try again in a moment"
        assert await answered(started[0][1], students[0], "docker") != "Docker"  # not half done

        await own_postgres.start()
        reload = await started[0][1].slash("glossary", "reload", member=mod)
        assert (await reload.wait_followup())["embeds"][0]["title"] == "Glossary reloaded"
        for n, (_, h) in enumerate(started):
            await until(lambda h=h, n=n: _is(answered(h, students[n], "docker"), "Docker"),
                        timeout=20)


async def test_two_bot_processes_as_run_in_production_one_with_the_files(
    content_dir: Path, pg_url: str, tmp_path: Path
) -> None:
    """``python -m bot`` twice, as an operator runs it: ``database`` is the PostgreSQL URL,
    each process has its own ``local_index`` and shard; only the first has the files."""
    from tests.support.harness import bot_process

    fake = FakeDiscord(shard_count=2, guild_count=2)
    by_shard = {(g.id >> 22) % 2: g for g in fake.guilds}
    work = [tmp_path / "host-a", tmp_path / "host-b"]
    for directory in work:
        directory.mkdir()

    def extra(shard: int) -> str:
        return (f'local_index = "{work[shard] / "index.sqlite3"}"\n'
                f"shard_count = 2\nshard_ids = [{shard}]\n")

    async with fake:
        async with (bot_process(fake, work[0], content_dir, database=pg_url,
                                extra_config=extra(0)) as a,
                    bot_process(fake, work[1], tmp_path / "not-on-this-host", database=pg_url,
                                extra_config=extra(1)) as b):
            await fake.wait_until(lambda: len(fake.connected_sessions()) == 2, 30,
                                  "both processes' shards")
            far = fake.add_member(by_shard[1], username="far")
            assert (await fake.slash("define", term="git", member=far)).embeds[0][
                "title"] == "Git"
            (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
            mod = fake.add_member(by_shard[0], username="mod", permissions=MANAGE_GUILD)
            reload = await fake.slash("glossary", "reload", member=mod)
            assert (await reload.wait_followup())["embeds"][0]["title"] == "Glossary reloaded"

            async def served() -> bool:
                reply = await fake.slash("define", term="docker", member=far)
                return reply.embeds[0]["title"] == "Docker"

            await until(served, timeout=20)
        assert (a.returncode, b.returncode) == (0, 0), (a.output[-2000:], b.output[-2000:])
    assert not (work[0] / "proc.sqlite3").exists()  # the local index is where config says
    assert (work[1] / "index.sqlite3").exists()
