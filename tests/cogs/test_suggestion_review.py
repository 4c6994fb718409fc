"""Suggestions close the loop: Apply / Edit first / Dismiss under the post in the
moderators' channel, for the glossary's editors, each decided at most once."""

from __future__ import annotations

import asyncio
import copy
import logging

import pytest

from bot.suggestion_review import resolve_section
from tests.cogs.test_glossaries import classes, now  # noqa: F401 - two servers' fixtures
from tests.support.fake_discord import MANAGE_GUILD, FakeDiscord

CALLBACK_MODAL, DEFERRED_UPDATE = 9, 6
NEW_TEXT = "Git keeps every version of your files."


@pytest.fixture
async def k(start_bot, caplog):
    """A running bot whose moderators' channel is #mods; students ask in #general."""
    fake = FakeDiscord()
    mods = fake.add_channel("mods")
    with caplog.at_level(logging.WARNING, logger="bot"):
        async with fake, start_bot(fake) as h:
            reply = await h.slash("glossary", "settings", member=h.moderator,
                                  moderators_channel=mods)
            await reply.wait_followup()
            h.mods = mods
            yield h
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR
                and r.name.startswith(("bot", "cogs"))]


async def suggest(h, *, section="Definition", proposal=NEW_TEXT, member=None) -> dict:
    """A student suggests a fix for Git from #general; returns the post in #mods."""
    student = member or h.student
    form = await h.click("gl:f:git", member=student)
    thanks = await h.submit_modal(form, {"section": section, "problem": "Too vague.",
                                         "proposal": proposal}, member=student)
    await thanks.wait_followup()
    assert "sent to the moderators" in thanks.followup_messages[0]["content"]
    return h.channel_messages(h.mods)[-1]


def post_now(h, post: dict) -> dict:
    return h.fake.messages[int(post["id"])]


def outcome(h, post: dict) -> str:
    fields = {f["name"]: f["value"] for f in post_now(h, post)["embeds"][0]["fields"]}
    return fields.get("Outcome", "")


def dms_to(h, member) -> list[dict]:
    channel = h.fake.dm_channel(member)
    return [h.fake.messages[i] for i in h.fake.channel_messages[int(channel["id"])]
            if i in h.fake.messages]


async def test_the_post_carries_three_distinct_persistent_buttons(k):
    post = await suggest(k)
    ids = [c["custom_id"] for row in post["components"] for c in row["components"]]
    labels = [c["label"] for row in post["components"] for c in row["components"]]
    assert labels == ["Apply", "Edit first", "Dismiss"]
    assert len(set(ids)) == 3 and all(len(i) <= 100 for i in ids)
    assert all(i.startswith("gl:sg:") for i in ids)


async def test_apply_writes_the_proposal_closes_the_post_and_tells_the_student(
        k, content_dir):
    post = await suggest(k)
    click = await k.click(post["components"][0]["components"][0]["custom_id"],
                          message=post, member=k.moderator)
    assert click.type == DEFERRED_UPDATE
    said = await click.wait_followup()
    assert said["flags"] & 64 and "Applied to Definition of **Git**" in said["content"]
    assert "told by DM" in said["content"]
    assert NEW_TEXT in (content_dir / "git.yaml").read_text()
    card = await k.slash("define", term="git")
    assert card.embeds[0]["description"] == NEW_TEXT
    assert outcome(k, post) == f"✅ Applied by <@{k.moderator.id}>."
    assert post_now(k, post)["components"] == []
    [change] = await k.bot.store.history.recent("git")
    assert change.source == "suggestion" and change.sections == ("definition",)
    assert change.actor_id == int(k.moderator.id)
    assert change.credited_id == int(k.student.id)
    assert "was applied" in dms_to(k, k.student)[-1]["content"]
    fix = (await k.bot.store.suggestions.latest(k.guild.id))[0]
    assert fix.status == "applied" and fix.decided_by == int(k.moderator.id)


async def test_two_moderators_clicking_apply_at_once_apply_it_once(k):
    post = await suggest(k)
    other = k.member(username="other-mod", permissions=MANAGE_GUILD)
    apply_id = f"gl:sg:a:{post['components'][0]['components'][0]['custom_id'].split(':')[-1]}"
    clicks = await asyncio.gather(*(k.click(apply_id, message=post, member=m)
                                    for m in (k.moderator, other)))
    said = [await c.wait_followup() for c in clicks]
    texts = sorted(s.get("content") or s["embeds"][0]["title"] for s in said)
    assert texts[0] == "Already decided" and texts[1].startswith("Applied to Definition")
    assert len([e for e in await k.bot.store.history.recent("git")
                if e.source == "suggestion"]) == 1
    assert len([m for m in dms_to(k, k.student) if "was applied" in m["content"]]) == 1


async def test_students_may_not_decide(k):
    post = await suggest(k)
    for custom_id in (c["custom_id"] for c in post["components"][0]["components"]):
        refused = await k.click(custom_id, message=post, member=k.student)
        assert refused.ephemeral and refused.embeds[0]["title"] == "Moderators only"
    assert post_now(k, post)["components"]  # nothing decided
    assert (await k.bot.store.suggestions.latest(k.guild.id))[0].status == "open"


async def test_dismiss_closes_it_and_a_late_apply_is_told(k, content_dir):
    before = (content_dir / "git.yaml").read_text()
    post = await suggest(k)
    old_copy = copy.deepcopy(post)  # as a moderator's client may still show it
    ids = [c["custom_id"] for c in post["components"][0]["components"]]
    dismissed = await k.click(ids[2], message=post, member=k.moderator)
    assert dismissed.type == DEFERRED_UPDATE
    await k.fake.wait_until(lambda: outcome(k, post), 5, "the post's outcome")
    assert outcome(k, post) == f"Dismissed by <@{k.moderator.id}>."
    assert post_now(k, post)["components"] == []
    late = await k.click(ids[0], message=old_copy, member=k.moderator)
    assert late.ephemeral and late.embeds[0]["title"] == "Already decided"
    assert "Dismissed by" in late.embeds[0]["description"]
    assert (content_dir / "git.yaml").read_text() == before
    assert not dms_to(k, k.student)


async def test_edit_first_prefills_the_form_then_saves_through_the_preview(k, content_dir):
    post = await suggest(k)
    form = await k.click(post["components"][0]["components"][1]["custom_id"],
                         message=post, member=k.moderator)
    assert form.type == CALLBACK_MODAL and NEW_TEXT in str(form.data["components"])
    shown = await k.submit_modal(form, {"text": "Git keeps every version, carefully."},
                                 member=k.moderator)
    assert shown.embeds[0]["description"] == "Git keeps every version, carefully."
    assert outcome(k, post) == ""  # a preview decides nothing
    saved = await (await k.click("authoring:save", message=shown.message,
                                 member=k.moderator)).wait_edit()
    fix = (await k.bot.store.suggestions.latest(k.guild.id))[0]
    assert saved["content"].startswith(
        f"Applied {fix.author_name}'s suggestion to Definition of **Git**")
    assert "carefully" in (content_dir / "git.yaml").read_text()
    assert outcome(k, post) == f"✅ Applied by <@{k.moderator.id}>."
    assert post_now(k, post)["components"] == []
    [change] = await k.bot.store.history.recent("git")
    assert change.source == "suggestion" and change.credited_id == int(k.student.id)
    assert "was applied" in dms_to(k, k.student)[-1]["content"]


async def test_edit_first_save_after_someone_applied_it_gives_the_text_back(k):
    post = await suggest(k)
    ids = [c["custom_id"] for c in post["components"][0]["components"]]
    old_copy = copy.deepcopy(post)
    form = await k.click(ids[1], message=old_copy, member=k.moderator)
    shown = await k.submit_modal(form, {"text": "My own words."}, member=k.moderator)
    applied = await k.click(ids[0], message=post, member=k.moderator)
    await applied.wait_followup()
    late = await (await k.click("authoring:save", message=shown.message,
                                member=k.moderator)).wait_edit()
    assert late["embeds"][0]["title"] == "Not saved"
    assert "decided meanwhile" in late["embeds"][0]["description"]
    assert "My own words." in late["embeds"][0]["description"]


async def test_when_the_dm_fails_the_student_is_told_where_they_asked(k):
    post = await suggest(k)
    dm = k.fake.dm_channel(k.student)
    k.fake.fail_next("POST", rf"/channels/{dm['id']}/messages", status=403,
                     body={"message": "Cannot send messages to this user", "code": 50007})
    click = await k.click(post["components"][0]["components"][0]["custom_id"],
                          message=post, member=k.moderator)
    said = await click.wait_followup()
    assert "DMs are closed" in said["content"]
    [told] = [m for m in k.channel_messages() if "was applied" in (m.get("content") or "")]
    assert told["content"].startswith(f"<@{k.student.id}> ")
    sent = k.requests("POST", rf"/channels/{k.channel['id']}/messages")[-1].json
    assert [str(u) for u in sent["allowed_mentions"]["users"]] == [str(k.student.id)]
    assert sent["allowed_mentions"].get("parse", []) == []


async def test_apply_refused_by_the_glossary_leaves_it_open(k, content_dir):
    before = (content_dir / "git.yaml").read_text()
    post = await suggest(k, section="Also called", proposal="backend")  # another term's name
    click = await k.click(post["components"][0]["components"][0]["custom_id"],
                          message=post, member=k.moderator)
    said = await click.wait_followup()
    assert said["embeds"][0]["title"] == "Not applied"
    assert (content_dir / "git.yaml").read_text() == before
    assert post_now(k, post)["components"]
    assert (await k.bot.store.suggestions.latest(k.guild.id))[0].status == "open"


async def test_a_suggestion_naming_no_section_is_edited_first_after_picking_one(k):
    post = await suggest(k, section="the second sentence")
    ids = [c["custom_id"] for c in post["components"][0]["components"]]
    refused = await k.click(ids[0], message=post, member=k.moderator)
    assert refused.embeds[0]["title"] == "Use Edit first"
    picker = await k.click(ids[1], message=post, member=k.moderator)
    assert picker.ephemeral and "Which section" in picker.content
    [select_id] = [i for i in picker.custom_ids() if i.startswith("gl:sgp:")]
    form = await k.click(select_id, message=picker.message, member=k.moderator,
                         values=["why_it_matters"])
    assert form.type == CALLBACK_MODAL and NEW_TEXT in str(form.data["components"])


@pytest.mark.parametrize(("said", "key"), [
    ("Definition", "definition"), ("the definition:", "definition"),
    ("Common mistakes", "common_mistakes"), ("why it matters", "why_it_matters"),
    ("Example in VCA", "course_example"), ("also called", "aliases"),
    ("", None), ("the second sentence", None),
])
def test_which_section_a_student_named(said, key):
    found = resolve_section(said)
    assert (found.key if found else None) == key


async def test_the_glossarys_editors_decide_not_every_moderator(start_bot, content_dir):
    from bot.glossaries import GlossarySpec

    async with FakeDiscord() as fake:
        teacher = fake.add_member(username="teacher", roles=["Students"])
        spec = GlossarySpec("default", "VCA", content_dir, servers=(fake.guild.id,),
                            owners=(), editors=(teacher.id,))
        async with start_bot(fake, glossaries=(spec,)) as h:
            setup = await h.slash("glossary", "settings", member=h.moderator,
                                  moderators_channel=h.channel)
            await setup.wait_followup()
            h.mods = h.channel
            post = await suggest(h)
            apply_id = post["components"][0]["components"][0]["custom_id"]
            refused = await h.click(apply_id, message=post, member=h.moderator)
            assert refused.ephemeral and refused.embeds[0]["title"] == "This glossary is shared"
            assert f"<@{teacher.id}>" in refused.embeds[0]["description"]
            said = await (await h.click(apply_id, message=post, member=teacher)
                          ).wait_followup()
            assert said["content"].startswith("Applied to Definition of **Git**")
    assert NEW_TEXT in (content_dir / "git.yaml").read_text()


# --- A server that only uses a shared glossary --------------------------------------------

async def _take_suggestions(k, guild) -> None:
    reply = await k.h.slash("glossary", "settings", member=k.moderator(guild),
                            moderators_channel=guild.text_channel)
    await reply.wait_followup()


async def _suggest_in(k, guild) -> dict:
    form = await k.h.click("gl:f:cache@" + _suffix(k), member=k.student(guild))
    sent = await k.h.submit_modal(form, {"section": "Definition", "problem": "Vague.",
                                         "proposal": "A data cache keeps results close."},
                                  member=k.student(guild))
    return await sent.wait_followup()


def _suffix(k) -> str:
    from bot.cards.buttons import glossary_suffix

    return glossary_suffix(k.h.bot.store.glossary_named("data").id)[1:]


def _posts(k, guild) -> list[dict]:
    return [m for m in k.h.channel_messages(guild.text_channel)
            if m.get("embeds") and m["embeds"][0]["title"].startswith("Suggested fix")]


async def test_a_shared_glossarys_suggestion_goes_to_its_owners_who_apply_it(classes):  # noqa: F811
    async with classes() as k:
        await _take_suggestions(k, k.b)  # the owner server
        await _take_suggestions(k, k.c)  # uses the data glossary only
        thanks = await _suggest_in(k, k.c)
        assert "moderators of **Data class B**, who edit this glossary" in thanks["content"]
        assert _posts(k, k.c) == []  # its moderators could not apply it
        [post] = _posts(k, k.b)
        fields = {f["name"]: f["value"] for f in post["embeds"][0]["fields"]}
        assert fields["Asked in"].startswith("Data class C")
        apply_id = post["components"][0]["components"][0]["custom_id"]
        said = await (await k.h.click(apply_id, message=post, member=k.moderator(k.b))
                      ).wait_followup()
        assert said["content"].startswith("Applied to Definition of **Cache**"), said
        card = await k.h.slash("define", term="cache", member=k.student(k.c))
        assert card.embeds[0]["description"] == "A data cache keeps results close."
        data_id = k.h.bot.store.glossary_named("data").id
        [change] = await k.h.bot.store.history.recent("cache", glossary_id=data_id)
        assert change.source == "suggestion" and change.credited_id == k.student(k.c).id
        listed = await k.h.slash("glossary", "suggestions", member=k.moderator(k.c))
        assert f"applied by <@{k.moderator(k.b).id}>" in str(listed.embeds)  # kept in C
        web = await k.h.slash("define", term="cache", member=k.student(k.a))
        assert "browser cache" in web.embeds[0]["description"]  # the other glossary: as it was


async def test_without_an_owner_channel_the_post_says_who_can_apply_it(classes):  # noqa: F811
    async with classes() as k:
        await _take_suggestions(k, k.c)
        thanks = await _suggest_in(k, k.c)
        assert thanks["content"] == "Thank you! Your suggestion was sent to the moderators."
        [post] = _posts(k, k.c)
        fields = {f["name"]: f["value"] for f in post["embeds"][0]["fields"]}
        assert "the moderators of **Data class B**" in fields["Who can apply it"]
        apply_id = post["components"][0]["components"][0]["custom_id"]
        refused = await k.h.click(apply_id, message=post, member=k.moderator(k.c))
        assert refused.embeds[0]["title"] == "This glossary is shared"


async def test_an_owner_cannot_decide_another_glossarys_suggestion(classes):  # noqa: F811
    async with classes() as k:
        await _take_suggestions(k, k.a)  # the web glossary's server
        form = await k.h.click("gl:f:cache", member=k.student(k.a))
        sent = await k.h.submit_modal(form, {"problem": "Vague."}, member=k.student(k.a))
        await sent.wait_followup()
        [post] = _posts(k, k.a)
        dismiss_id = post["components"][0]["components"][2]["custom_id"]
        refused = await k.h.click(dismiss_id, message=post, member=k.moderator(k.b))
        assert refused.ephemeral and refused.embeds[0]["title"] == "This glossary is shared"
        assert (await k.h.bot.store.suggestions.get(int(dismiss_id.rsplit(":", 1)[1]))
                ).status == "open"
