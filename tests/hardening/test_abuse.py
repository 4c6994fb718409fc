"""Permissions and abuse: moderator commands, cooldown bursts, and the token in logs.

* Every moderator command (``/glossary reload``, ``stats``, ``settings``) is refused for
  members without Manage Server or the moderator role, also when the interaction is
  forged past Discord's ``default_member_permissions`` (the fake delivers whatever it is
  given), and a refused command changes nothing. The same commands succeed for the
  moderator, an administrator and a member with the configured role, so the refusals
  are the bot's doing.
* Cooldowns hold under a burst: 20 concurrent ``/define`` from one student with
  ``cooldown_uses=5`` serve exactly 5 cards (and count 5 lookups), while other students
  are served in the same moment.
* The token never appears in any log line or error: the bot run in-process with a
  token-shaped token and every logger at DEBUG, through a failing command, a 429, a 500
  and a rejected login; and ``python -m bot`` as a subprocess with ``log_level = DEBUG``
  against the fake Discord, through broken content, a failing callback and a late one.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.client import GlossaryBot
from bot.content import dump_term
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, make_term
from tests.hardening._support import acknowledgements, captured_logs
from tests.support.fake_discord import ADMINISTRATOR, MANAGE_GUILD, FakeDiscord
from tests.support.harness import bot_process, running_bot

# A fake token, joined here so that no token-shaped literal sits in the source.
TOKEN = ".".join(("MTE5ODc2NTQzMjEwOTg3NjU0Mw", "GhJkLm",
                 "s3cr3t-t0ken-f0r-hardening-tests-0nly-AbCdEf"))
TOKEN_PARTS = TOKEN.split(".")


def token_leaks(text: str) -> list[str]:
    """Any of the token, its id part or its secret part, in ``text``."""
    return [part for part in (TOKEN, TOKEN_PARTS[0], TOKEN_PARTS[2]) if part in text]


# -- moderator commands ------------------------------------------------------------------

MODERATOR_COMMANDS = [("reload",), ("stats",), ("settings",)]


async def test_moderator_commands_refuse_everyone_else(start_bot, content_dir):
    fake = FakeDiscord()
    fake.add_role("Mentors")
    async with fake, start_bot(fake, moderator_role="Mentors") as h:
        synced = {c["name"]: c for c in fake.synced_commands(None)}
        assert str(synced["glossary"]["default_member_permissions"]) == str(MANAGE_GUILD)
        outsiders = {
            "student": h.student,
            "no permissions at all": h.member(username="nobody", permissions=0),
            "a role called Moderators, no permission": h.member(
                username="fake-mod", roles=["Moderators"], permissions=0),
            "every permission but Manage Server": h.member(
                username="almost", permissions=(1 << 41) - 1 & ~MANAGE_GUILD & ~ADMINISTRATOR),
        }
        insiders = {"moderator": h.moderator,
                    "administrator": h.member(username="admin", permissions=ADMINISTRATOR),
                    "configured role": h.member(username="mentor", roles=["Mentors"],
                                                permissions=0)}
        (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
        before = await h.bot.store.glossary.all_terms()
        refusals = 0
        for who, member in outsiders.items():
            for path in MODERATOR_COMMANDS:
                options = {"define_visibility": "private"} if path == ("settings",) else {}
                reply = await h.slash("glossary", *path, member=member, options=options)
                assert reply.ephemeral, (who, path)
                assert reply.embeds[0]["title"] == "Moderators only", (who, path, reply.embeds)
                assert "**Mentors** role" in reply.embeds[0]["description"]
                refusals += 1
        assert await h.bot.store.glossary.all_terms() == before  # nothing was reloaded
        assert not (await h.bot.store.records.guild_settings(h.guild.id)).define_private
        card = await h.slash("define", term="git")
        assert not card.ephemeral  # the forged /glossary settings changed nothing
        for who, member in insiders.items():
            stats = await h.slash("glossary", "stats", member=member)
            await stats.wait_followup()
            assert stats.embeds[0]["title"] == "Glossary stats", (who, stats.embeds)
        reply = await h.slash("glossary", "reload", member=insiders["configured role"])
        await reply.wait_followup()
        assert reply.embeds[0]["title"] == "Glossary reloaded"
        assert len(await h.bot.store.glossary.all_terms()) == len(before) + 1
        assert all(n == 1 for n in acknowledgements(fake).values())
    print(f"\npermissions: {refusals} forged moderator commands refused, "
          f"{len(insiders) + 1} allowed")


# -- cooldowns --------------------------------------------------------------------------


async def burst(start_bot, flood: int, uses: int, others: int) -> dict[str, int]:
    async with start_bot(cooldown_uses=uses, cooldown_seconds=60.0) as h:
        flooder = h.member(username="flooder")
        bystanders = [h.member(username=f"bystander{i}") for i in range(others)]
        replies = await asyncio.gather(
            *[h.slash("define", term="git", member=flooder) for _ in range(flood)],
            *[h.slash("define", term="backend", member=b) for b in bystanders],
        )
        flooded, served_others = replies[:flood], replies[flood:]
        titles = [r.embeds[0]["title"] for r in flooded]
        assert titles.count("Git") == uses, titles
        assert titles.count("Slow down a little") == flood - uses, titles
        assert all(r.ephemeral for r in flooded if r.embeds[0]["title"] != "Git")
        assert [r.embeds[0]["title"] for r in served_others] == ["backend"] * others
        again = await h.slash("search", query="server", member=flooder)
        assert again.embeds[0]["title"].startswith("Search"), "cooldowns are per command"
        stats = await h.slash("glossary", "stats", member=h.moderator)
        await stats.wait_followup()
        looked_up = stats.embeds[0]["fields"][0]["value"].splitlines()
        assert f"{uses} × Git" in looked_up, looked_up  # refused cards are not counted
        assert all(n == 1 for n in acknowledgements(h.fake).values())
        return {"sent": flood, "served": titles.count("Git"), "others_served": others}


async def test_cooldown_holds_under_a_concurrent_burst(start_bot):
    figures = await burst(start_bot, flood=20, uses=5, others=5)
    print(f"\ncooldown burst: {figures}")


@pytest.mark.slow
async def test_cooldown_holds_under_a_large_burst(start_bot):
    await burst(start_bot, flood=200, uses=5, others=50)


# -- the token ----------------------------------------------------------------------------


async def test_token_never_logged_in_process(config, caplog):
    """Every logger at DEBUG; errors of every kind; the token must appear nowhere."""
    seen: list[str] = []
    fake = FakeDiscord(expected_token=TOKEN)
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.DEBUG)
    try:
        with captured_logs(logging.DEBUG) as logs, caplog.at_level(logging.DEBUG):
            async with fake, await Store.open(config.database) as store:
                bot = GlossaryBot(config, store)
                async with running_bot(bot, fake, token=TOKEN) as h:
                    assert (await h.slash("define", term="git")).embeds[0]["title"] == "Git"

                    async def broken(query: str) -> None:
                        raise RuntimeError(f"store exploded looking up {query!r}")

                    real_card = store.glossary.card
                    store.glossary.card = broken  # type: ignore[method-assign]
                    failed = await h.slash("define", term="git")
                    store.glossary.card = real_card  # type: ignore[method-assign]
                    assert failed.embeds[0]["title"] == "Something went wrong"
                    fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=429)
                    await h.slash("define", term="backend")
                    fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=500)
                    await h.slash("define", term="backend")
                    await h.slash("define", term="no-such-term")
                assert any("Unexpected error" in line for line in logs.errors())
                # A rejected token: the login fails, and says so without the token.
                wrong = FakeDiscord(expected_token="another-token")
                async with wrong, await Store.open(config.database.with_name("b.db")) as s2:
                    with pytest.raises(AssertionError) as failure:
                        async with running_bot(GlossaryBot(config, s2), wrong, token=TOKEN):
                            pass
                    seen.append(repr(failure.value) + str(failure.value.__cause__))
            seen += logs.lines + [r.getMessage() for r in caplog.records]
            seen += fake.logged_errors
    finally:
        root.setLevel(saved)
    text = "\n".join(seen)
    assert "Improper token" in text or "401" in text, text[-2000:]
    assert len(seen) > 100  # DEBUG really was captured
    assert not token_leaks(text), [line for line in seen if token_leaks(line)][:5]
    print(f"\ntoken: {len(seen)} log lines and errors scanned in-process, no token")


async def test_token_never_logged_by_the_bot_process(tmp_path, content_dir):
    database = tmp_path / "proc.sqlite3"
    async with await Store.open(database) as store:
        await store.reloads.reload(content_dir)  # a good glossary served before...
    (content_dir / "broken.yaml").write_text("title: [\n")  # ...then a broken file
    async with FakeDiscord(expected_token=TOKEN) as fake:
        async with bot_process(fake, tmp_path, content_dir, token=TOKEN, database=database,
                               extra_config='log_level = "DEBUG"\n') as bot:
            assert (await fake.slash("define", term="git")).embeds[0]["title"] == "Git"
            fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=500)
            await fake.slash("define", term="backend")
            fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=401,
                           body={"message": "401: Unauthorized", "code": 0})
            await fake.slash("define", term="backend")
            reload = await fake.slash("glossary", "reload", member=fake.moderator)
            await reload.wait_followup()
            assert reload.embeds[0]["title"] == "Reload refused"
    text = bot.output
    assert bot.returncode == 0, text[-3000:]
    assert "broken.yaml:1: yaml:" in text  # the content error was logged
    assert f"serving the {BUNDLED_COUNT} terms from the last good load" in text
    assert "401" in text  # and so was the failed callback
    assert "DEBUG" in text and text.count("\n") > 100, text[-2000:]
    assert not token_leaks(text), [line for line in text.splitlines() if token_leaks(line)][:5]
    print(f"\ntoken: {text.count(chr(10))} lines from python -m bot at DEBUG, no token")


def test_token_in_a_log_record_is_hidden_by_the_process_filter():
    """The subprocess is protected by TokenRedactor on the root handlers; prove it acts."""
    from bot.client import TokenRedactor

    record = logging.LogRecord("discord.http", logging.ERROR, __file__, 1,
                               "request failed with %s", (f"Bot {TOKEN}",), None)
    assert TokenRedactor(TOKEN).filter(record)
    assert not token_leaks(record.getMessage())


def test_token_parts_are_checked():
    assert token_leaks(f"header Authorization: Bot {TOKEN}")
    assert token_leaks(f"id {TOKEN_PARTS[0]}")
    assert not token_leaks("nothing here")
