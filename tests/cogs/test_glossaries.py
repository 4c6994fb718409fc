"""Per-server glossaries end to end, through the fake with two and three servers.

Server A uses the default glossary (web terms); servers B and C share the "data"
glossary, which B owns. Both glossaries have a term ``cache`` that means different things.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.content import dump_term
from bot.glossaries import GlossarySpec
from bot.sandbox.fake.world import FakeGuild, FakeMember
from tests.conftest import FIXED_NOW, StartBot, make_term
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness

WEB = {"cache": "A browser cache keeps copies of pages.", "server": "A server answers.",
       "router": "A router picks the page.", "cookie": "A cookie remembers you.",
       "session": "A session lasts a visit."}
DATA = {"cache": "A data cache keeps query results in memory.", "pandas": "A table library.",
        "dataframe": "A table of rows.", "notebook": "Cells of code and text.",
        "pipeline": "Steps data flows through."}


def write_glossary(directory: Path, definitions: dict[str, str], category: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for slug, definition in definitions.items():
        related = ("cache",) if slug != "cache" else ()
        (directory / f"{slug}.yaml").write_text(dump_term(make_term(
            slug, definition=definition, category=category, related=related)), encoding="utf-8")
    return directory


@dataclass
class Classes:
    h: BotHarness
    a: FakeGuild  # default glossary
    b: FakeGuild  # data glossary, its owner
    c: FakeGuild  # data glossary, a user of it only

    def moderator(self, guild: FakeGuild) -> FakeMember:
        return next(m for m in guild.members if m.username == "moderator")

    def student(self, guild: FakeGuild) -> FakeMember:
        return next(m for m in guild.members if m.username == "student")


@pytest.fixture
def now() -> list[datetime.datetime]:
    return [FIXED_NOW]


@pytest.fixture
def classes(start_bot: StartBot, tmp_path: Path, now: list[datetime.datetime]):
    @contextlib.asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[Classes]:
        web = write_glossary(tmp_path / "web", WEB, "web")
        data = write_glossary(tmp_path / "data", DATA, "data")
        async with FakeDiscord() as fake:
            a = fake.guild
            b = fake.add_guild("Data class B")
            c = fake.add_guild("Data class C")
            spec = GlossarySpec("data", "Data Course", data, servers=(b.id, c.id), owners=(b.id,))
            async with start_bot(fake, content_dir=web, glossaries=(spec,),
                                 clock=lambda: now[0], **overrides) as h:
                yield Classes(h, a, b, c)

    return start


def field(embed: dict, name_start: str) -> str:
    return next(f["value"] for f in embed["fields"] if f["name"].startswith(name_start))


def custom_ids(reply) -> list[str]:
    return [c["custom_id"] for row in reply.components for c in row["components"]]


async def test_same_slug_means_different_things_in_two_glossaries(classes):
    async with classes() as k:
        in_a = await k.h.slash("define", term="cache", member=k.student(k.a))
        in_b = await k.h.slash("define", term="cache", member=k.student(k.b))
        assert "browser cache" in in_a.embeds[0]["description"] + str(in_a.embeds[0])
        assert "data cache" in str(in_b.embeds[0]) and "browser" not in str(in_b.embeds[0])
        assert any(f["name"].endswith("Example in Data Course") for f in in_b.embeds[0]["fields"])
        assert any(f["name"].endswith("Example in VCA") for f in in_a.embeds[0]["fields"])
        # Autocomplete and did-you-mean offer only the server's own glossary.
        a_choices = {c["value"] for c in await k.h.autocomplete(
            "define", focused="term", term="", member=k.student(k.a))}
        b_choices = {c["value"] for c in await k.h.autocomplete(
            "define", focused="term", term="", member=k.student(k.b))}
        assert a_choices == set(WEB) and b_choices == set(DATA)
        missing = await k.h.slash("define", term="pandaz", member=k.student(k.c))
        assert "Pandas" in str(missing.components)
        assert "gl:t:pandas@" in str(missing.components)
        missing_in_a = await k.h.slash("define", term="pandaz", member=k.student(k.a))
        assert "Pandas" not in str(missing_in_a.components)
        # Search, share and Explain terms stay inside the glossary too.
        found = await k.h.slash("search", query="cache", member=k.student(k.b))
        assert "query results" in str(found.embeds[0]) and "browser" not in str(found.embeds[0])
        assert found.embeds[0]["footer"]["text"] == "Results 1–1 of 1"
        shared = await k.h.slash("share", term="cache", member=k.moderator(k.c))
        assert "data cache" in str(shared.embeds[0])


async def test_buttons_open_the_card_from_the_glossary_they_came_from(classes):
    async with classes() as k:
        card = await k.h.slash("define", term="pandas", member=k.student(k.b))
        (related,) = [i for i in custom_ids(card) if i.startswith("gl:t:")]
        assert re.fullmatch(r"gl:t:cache:pandas@[0-9a-z]+", related)
        # Clicked in server A, whose own glossary has another "cache": still the data one.
        opened = await k.h.click(related, message=card.message, member=k.student(k.a))
        assert "data cache" in str(opened.embeds[0])
        # A button from before glossaries (no glossary in its custom_id) is the default's.
        old = await k.h.click("gl:t:cache", member=k.student(k.b))
        assert "browser cache" in str(old.embeds[0])
        # Default-glossary cards keep the old custom_ids.
        web_card = await k.h.slash("define", term="server", member=k.student(k.a))
        assert "gl:t:cache:server" in custom_ids(web_card)
        # A glossary taken out of the config: said so, never another glossary's card.
        gone = await k.h.click("gl:t:cache@zz", member=k.student(k.b))
        assert "no longer serves" in str(gone.embeds[0]) and "cache keeps" not in str(gone.embeds)


async def test_explain_terms_finds_the_servers_own_terms(classes):
    async with classes() as k:
        member = k.student(k.b)
        synced = next(c for c in k.h.fake.synced_commands(None) if c["name"] == "Explain terms")
        message = {
            "id": str(k.h.fake.snowflake()), "type": 0, "channel_id": k.b.text_channel["id"],
            "author": member.user_payload(), "content": "my pandas dataframe and a cookie",
            "timestamp": "2026-11-23T10:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "components": [], "pinned": False, "flags": 0,
        }
        data = {"id": synced["id"], "name": "Explain terms", "type": 3,
                "target_id": message["id"], "resolved": {"messages": {message["id"]: message}}}
        payload = k.h.fake.interaction_payload(2, data, member=member)
        reply = await (await k.h.fake.inject(payload, "Explain terms", 5)).wait_callback(5)
        ids = custom_ids(reply)
        assert [i.split(":")[2].split("@")[0] for i in ids] == ["pandas", "dataframe"]
        assert all("@" in i for i in ids)  # cookie is the web glossary's


async def test_a_suggested_fix_names_the_file_in_its_glossarys_directory(classes):
    async with classes() as k:
        moderators = k.c.text_channel
        settings = await k.h.slash("glossary", "settings", member=k.moderator(k.c),
                                   moderators_channel=moderators)
        await settings.wait_followup()
        card = await k.h.slash("define", term="cache", member=k.student(k.c))
        (fix,) = [i for i in custom_ids(card) if i.startswith("gl:f:")]
        form = await k.h.click(fix, message=card.message, member=k.student(k.c))
        sent = await k.h.submit_modal(form, {"problem": "unclear"}, member=k.student(k.c))
        await sent.wait_followup()
        (posted,) = [m for m in k.h.channel_messages(moderators)
                     if m["embeds"] and m["embeds"][0]["title"].startswith("Suggested fix")]
        assert "data/cache.yaml" in str(posted["embeds"][0])
        assert "web/cache.yaml" not in str(posted["embeds"][0])


async def test_a_shared_glossary_is_reloaded_by_its_owners_only(classes):
    async with classes() as k:
        owner = await k.h.slash("glossary", "reload", member=k.moderator(k.b))
        await owner.wait_followup()
        assert owner.embeds[0]["title"] == "Glossary reloaded"
        user = await k.h.slash("glossary", "reload", member=k.moderator(k.c))
        (embed,) = user.embeds
        assert embed["title"] == "This glossary is shared"
        assert "Data class B" in embed["description"]
        student = await k.h.slash("glossary", "reload", member=k.student(k.b))
        assert student.embeds[0]["title"] == "Moderators only"
        # The default glossary, which the config gives no owners, stays its server's.
        web = await k.h.slash("glossary", "reload", member=k.moderator(k.a))
        await web.wait_followup()
        assert web.embeds[0]["title"] == "Glossary reloaded"
        # Settings stay every server's own moderators'.
        settings = await k.h.slash("glossary", "settings", member=k.moderator(k.c),
                                   define_visibility="private")
        await settings.wait_followup()
        assert (await k.h.bot.store.records.guild_settings(k.c.id)).define_private


async def test_a_listed_editor_may_reload_from_a_server_using_the_glossary(
        start_bot, tmp_path):
    data = write_glossary(tmp_path / "data", DATA, "data")
    async with FakeDiscord() as fake:
        b = fake.add_guild("B")
        teacher = fake.add_member(username="teacher", roles=["Students"], guild=b)
        spec = GlossarySpec("data", "Data", data, servers=(b.id,), owners=(), editors=(teacher.id,))
        async with start_bot(fake, glossaries=(spec,)) as h:
            reply = await h.slash("glossary", "reload", member=teacher)
            await reply.wait_followup()
            assert reply.embeds[0]["title"] == "Glossary reloaded"
            moderator = next(m for m in b.members if m.username == "moderator")
            refused = await h.slash("glossary", "reload", member=moderator)
            assert refused.embeds[0]["title"] == "This glossary is shared"


async def test_stats_and_misses_stay_in_their_server(classes):
    async with classes() as k:
        await k.h.slash("define", term="my teachers phone number", member=k.student(k.b))
        await k.h.slash("define", term="cache", member=k.student(k.b))
        await k.h.slash("define", term="kubernetes", member=k.student(k.a))
        await k.h.slash("define", term="cookie", member=k.student(k.a))
        in_b = await k.h.slash("glossary", "stats", member=k.moderator(k.b))
        await in_b.wait_followup()
        in_a = await k.h.slash("glossary", "stats", member=k.moderator(k.a))
        await in_a.wait_followup()
        in_c = await k.h.slash("glossary", "stats", member=k.moderator(k.c))
        await in_c.wait_followup()
        b_text, a_text, c_text = (str(r.embeds[0]) for r in (in_b, in_a, in_c))
        assert "phone" in b_text and "phone" not in a_text and "phone" not in c_text
        assert "kubernetes" in a_text and "kubernetes" not in b_text
        assert "Cookie" in field(in_a.embeds[0], "Most looked up")
        assert "Cookie" not in b_text and "No lookups yet." in c_text


async def test_an_interaction_from_a_server_the_bot_is_not_in_has_no_moderator_power(classes):
    async with classes() as k:
        fake = k.h.fake
        elsewhere = fake.add_guild("Not joined")  # after connecting: the bot never hears of it
        owner = next(m for m in elsewhere.members if m.username == "owner")  # administrator
        defs, scope = k.h._command_defs("glossary", owner.guild_id)
        data = fake.command_data("glossary", ("stats",), {}, guild_id=scope,
                                 command_defs=defs, member=owner)
        payload = fake.interaction_payload(2, data, member=owner, user_install=True)
        reply = await (await fake.inject(payload, "/glossary stats", 5)).wait_callback(5)
        # Refused before any moderator check: server-only commands answer only in a class
        # server (bot.contexts); is_moderator refuses there too (the bot is not a member).
        assert reply.embeds[0]["title"] == "Servers only"
        assert "Glossary stats" not in str(reply.embeds)


async def test_term_of_the_day_and_quizzes_per_server(classes):
    async with classes() as k:
        for guild in (k.a, k.b):
            reply = await k.h.slash("glossary", "settings", member=k.moderator(guild),
                                    daily_channel=guild.text_channel, daily_hour=0)
            await reply.wait_followup()
        daily = k.h.bot.get_cog("TermOfTheDay")
        for day in range(1, 6):
            await daily.post_due(datetime.datetime(2026, 3, day, 1, tzinfo=datetime.UTC))
        titles = {guild.id: {m["embeds"][0]["title"] for m in k.h.channel_messages(
            guild.text_channel) if m["content"].startswith("📅")} for guild in (k.a, k.b)}
        assert titles[k.a.id] == {make_term(s).title for s in WEB}
        assert titles[k.b.id] == {make_term(s).title for s in DATA}
        # A quiz in B asks about data terms; its answer opens the data glossary's card.
        quiz = await k.h.slash("quiz", "ask", member=k.student(k.b),
                               channel=k.b.text_channel)
        await quiz.wait_followup()
        (posted,) = quiz.followup_messages
        choices = [c["custom_id"] for row in posted["components"] for c in row["components"]]
        assert {i.rsplit(":", 1)[1] for i in choices} <= set(DATA)
        answered = await k.h.click(choices[0], message=posted, member=k.student(k.b))
        await answered.wait_followup()
        assert any("Data Course" in str(e) for e in answered.followup_messages[0]["embeds"])
        board_b = await k.h.slash("quiz", "leaderboard", member=k.student(k.b))
        board_c = await k.h.slash("quiz", "leaderboard", member=k.student(k.c))
        assert str(k.student(k.b).id) in str(board_b.embeds[0])
        assert str(k.student(k.b).id) not in str(board_c.embeds[0])


async def test_retention_forgets_old_misses_and_quizzes_on_the_bots_clock(classes, now):
    async with classes(miss_retention_days=30, quiz_retention_days=90) as k:
        await k.h.slash("define", term="kubernetes", member=k.student(k.a))
        quiz = await k.h.slash("quiz", "ask", member=k.student(k.a))
        await quiz.wait_followup()
        retention = k.h.bot.get_cog("Retention")
        assert await retention.prune() == (0, 0)
        now[0] = FIXED_NOW + datetime.timedelta(days=29)
        await k.h.slash("define", term="docker", member=k.student(k.a))
        now[0] = FIXED_NOW + datetime.timedelta(days=31)
        assert await retention.prune() == (1, 0)  # kubernetes went; docker is 2 days old
        stats = await k.h.bot.store.records.stats(k.a.id)
        assert [m.name for m in stats.top_misses] == ["docker"]
        now[0] = FIXED_NOW + datetime.timedelta(days=91)
        assert await retention.prune() == (1, 1)
        (posted,) = quiz.followup_messages
        choice = posted["components"][0]["components"][0]["custom_id"]
        late = await k.h.click(choice, message=posted, member=k.student(k.a))
        await late.wait_followup()
        assert "no longer available" in str(late.followup_messages[0])


async def test_a_saved_file_reloads_its_glossary_and_tells_its_servers_only(classes, tmp_path):
    async with classes(auto_reload=True) as k:
        for guild in (k.a, k.b):
            reply = await k.h.slash("glossary", "settings", member=k.moderator(guild),
                                    moderators_channel=guild.text_channel)
            await reply.wait_followup()
        await asyncio.sleep(0.5)  # let the watchers start watching
        (tmp_path / "data" / "numpy.yaml").write_text(dump_term(make_term("numpy")))

        def reports(guild: FakeGuild) -> list[dict]:
            return [m for m in k.h.channel_messages(guild.text_channel) if m["embeds"]
                    and m["embeds"][0].get("author", {}).get("name", "").startswith("Automatic")]

        for _ in range(300):
            if reports(k.b):
                break
            await asyncio.sleep(0.05)
        (report,) = reports(k.b)
        assert report["embeds"][0]["fields"][0]["value"] == "numpy"
        assert reports(k.a) == []
        found = await k.h.slash("define", term="numpy", member=k.student(k.c))
        assert found.embeds[0]["title"] == "Numpy"
        missing = await k.h.slash("define", term="numpy", member=k.student(k.a))
        assert missing.embeds[0]["title"] == "Term not found"


async def test_outside_a_class_server_a_student_gets_their_class_glossary_or_their_choice(
        classes):
    from tests.cogs.study_support import settled, slash_in

    async with classes() as k:
        student = k.student(k.b)
        fresh = await settled(await slash_in(k.h, "dm", "define", member=student, term="cache"))
        assert "browser cache" in str(fresh["embeds"])  # never in a class yet: the default
        await k.h.slash("define", term="pandas", member=student)  # in class B (data)
        await asyncio.sleep(0.05)  # the remembered glossary is written in the background
        in_dm = await settled(await slash_in(k.h, "dm", "define", member=student, term="cache"))
        assert "data cache" in str(in_dm["embeds"])
        chose = await settled(await slash_in(k.h, "dm", "study", "glossary", member=student,
                                             use="default"))
        assert "**default** glossary" in str(chose)
        saved = await k.h.bot.store.study.glossary_choices()  # kept across restarts
        assert saved[student.id] == ("default", True)
        await k.h.slash("define", term="pandas", member=student)  # a choice outlasts class use
        again = await settled(await slash_in(k.h, "dm", "define", member=student, term="cache"))
        assert "browser cache" in str(again["embeds"])
        wrong = await settled(await slash_in(k.h, "dm", "study", "glossary", member=student,
                                             use="nope"))
        assert "There is no glossary called" in str(wrong)
        back = await settled(await slash_in(k.h, "dm", "study", "glossary", member=student))
        assert "last used" in str(back)
        assert k.h.bot.student_glossaries.get(student.id) is None
