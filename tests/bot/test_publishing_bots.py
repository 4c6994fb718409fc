"""Several bots on one PostgreSQL through the fake Discord: shards split between them,
each with its own local index, only one with the term files (issue 20)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from tests.support.waiting import eventually

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


until = functools.partial(eventually, timeout=15.0, interval=0.1)  # three bots: more time


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
        # Where the files are not, a reload is refused, saying where to run it.
        far_mod = fake.add_member(by_shard[1], username="far-mod", permissions=MANAGE_GUILD)
        refused = await started[1][1].slash("glossary", "reload", member=far_mod)
        assert refused.embeds[0]["title"] == "Term files elsewhere"


async def _is(answer, expected: str) -> bool:  # noqa: ANN001
    return await answer == expected


CALLBACK_MODAL = 9
COMMENT = "# reviewed by the course team\n"


async def definition(h: BotHarness, member, term: str) -> str:  # noqa: ANN001
    return (await h.slash("define", term=term, member=member)).embeds[0]["description"]


async def edit_preview(h: BotHarness, member, text: str):  # noqa: ANN001, ANN201
    form = await h.slash("glossary", "edit", member=member, options={
        "term": "git", "section": "definition"})
    assert form.type == CALLBACK_MODAL, form.embeds
    return await h.submit_modal(form, {"text": text}, member=member)


async def test_an_edit_where_the_files_are_not_reaches_them_and_a_reload_keeps_it(
    config: Config, content_dir: Path, pg_url: str, tmp_path: Path
) -> None:
    """Edited on a host without the files: served everywhere, written into the file on
    the host with them (its comment kept), not undone by a reload there; two editors on
    two hosts saving one term at once: one wins, the other gets their text back."""
    git = content_dir / "git.yaml"
    git.write_text(COMMENT + git.read_text())
    fake = FakeDiscord(shard_count=SHARDS, guild_count=SHARDS)
    by_shard = {(g.id >> 22) % SHARDS: g for g in fake.guilds}
    async with fake, bots(config, fake, pg_url, tmp_path) as started:
        mods = [fake.add_member(by_shard[n], username=f"mod-{n}", permissions=MANAGE_GUILD)
                for n in range(SHARDS)]
        far = started[1][1]
        shown = await edit_preview(far, mods[1], "Git keeps every version.")
        saved = await (await far.click("authoring:save", message=shown.message,
                                       member=mods[1])).wait_edit()
        assert saved["content"] == "Saved: Definition of **Git**.", saved
        for n, (_, h) in enumerate(started):
            await until(lambda h=h, n=n: _is(definition(h, mods[n], "git"),
                                             "Git keeps every version."))
        await until(lambda: _true("Git keeps every version." in git.read_text()))
        assert git.read_text().startswith(COMMENT)
        # A new term added on another host without the files gets its own file.
        form = await started[2][1].slash("glossary", "add", member=mods[2])
        assert form.type == CALLBACK_MODAL, form.embeds
        shown = await started[2][1].submit_modal(form, {
            "title": "Docker", "definition": "Docker runs apps in containers.",
            "why_it_matters": "", "category": "tools", "aliases": "containers"},
            member=mods[2])
        added = await (await started[2][1].click("authoring:save", message=shown.message,
                                                 member=mods[2])).wait_edit()
        assert added["content"] == "Added **Docker** (docker.yaml).", added
        await until(lambda: _true((content_dir / "docker.yaml").exists()))
        assert "Docker runs apps in containers." in (content_dir / "docker.yaml").read_text()
        [change] = await started[2][0].store.history.recent("git")  # shared history
        assert change.actor_id == int(mods[1].id) and change.sections == ("definition",)

        reload = await started[0][1].slash("glossary", "reload", member=mods[0])
        assert (await reload.wait_followup())["embeds"][0]["title"] == "Glossary reloaded"
        assert "Git keeps every version." in git.read_text()
        for n, (_, h) in enumerate(started):
            assert await definition(h, mods[n], "git") == "Git keeps every version."
            assert await answered(h, mods[n], "docker") == "Docker"

        # Two hosts without the files, one term, saved at once.
        previews = [await edit_preview(started[n][1], mods[n], f"Written on host {n}.")
                    for n in (1, 2)]
        clicks = await asyncio.gather(*(
            started[n][1].click("authoring:save", message=p.message, member=mods[n])
            for n, p in zip((1, 2), previews, strict=True)))
        edits = [await c.wait_edit() for c in clicks]
        won = [n for n, e in zip((1, 2), edits, strict=True)
               if (e.get("content") or "").startswith("Saved")]
        lost = [(n, e) for n, e in zip((1, 2), edits, strict=True) if n not in won]
        assert len(won) == 1 and len(lost) == 1, edits
        (loser, refusal), = lost
        assert refusal["embeds"][0]["title"] == "Not saved"
        assert "changed after you opened it" in refusal["embeds"][0]["description"]
        assert f"Written on host {loser}." in refusal["embeds"][0]["description"]
        for n, (_, h) in enumerate(started):
            await until(lambda h=h, n=n: _is(definition(h, mods[n], "git"),
                                             f"Written on host {won[0]}."))
        await until(lambda: _true(f"Written on host {won[0]}." in git.read_text()))


async def _true(value: bool) -> bool:
    return value


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
        # An edit where the files are not: refused, the editor's text given back.
        far_mod = fake.add_member(by_shard[1], username="far-mod", permissions=MANAGE_GUILD)
        shown = await edit_preview(started[1][1], far_mod, "Typed while it was down.")
        refused = await (await started[1][1].click("authoring:save", message=shown.message,
                                                   member=far_mod)).wait_edit()
        (embed,) = refused["embeds"]
        assert embed["title"] == "Not saved" and "Try again in a moment" in embed["description"]
        assert "Typed while it was down." in embed["description"]

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
