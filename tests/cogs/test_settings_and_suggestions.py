"""/glossary settings and the "Suggest a fix" button that depends on them."""

from __future__ import annotations

from bot.sandbox.fake.constants import SEND_MESSAGES
from tests.support.fake_discord import MANAGE_GUILD, FakeDiscord


async def test_settings_are_shown_changed_and_applied_at_once(h):
    shown = await h.slash("glossary", "settings", member=h.moderator)
    await shown.wait_followup()
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["/define answers"].startswith("publicly")
    assert fields["Term of the day"] == "off"
    assert not (await h.slash("define", term="git")).ephemeral

    changed = await h.slash("glossary", "settings", member=h.moderator,
                            define_visibility="private", daily_channel=h.channel, daily_hour=8)
    await changed.wait_followup()
    fields = {f["name"]: f["value"] for f in changed.embeds[0]["fields"]}
    assert fields["/define answers"] == "privately"
    assert fields["Term of the day"] == f"<#{h.channel['id']}> at 08:00 (UTC)"
    assert (await h.slash("define", term="git")).ephemeral
    assert not (await h.slash("define", term="git", private=False)).ephemeral


async def test_settings_survive_a_restart_and_a_reload(start_bot):
    async with FakeDiscord() as fake:  # one server across both runs of the bot
        async with start_bot(fake) as first:
            reply = await first.slash("glossary", "settings", member=first.moderator,
                                      define_visibility="private")
            await reply.wait_followup()
        async with start_bot(fake) as second:
            reload = await second.slash("glossary", "reload", member=second.moderator)
            await reload.wait_followup()
            assert (await second.slash("define", term="git")).ephemeral


async def test_settings_refused_for_students(h):
    reply = await h.slash("glossary", "settings", member=h.student, define_visibility="private")
    assert reply.embeds[0]["title"] == "Moderators only"


async def test_moderator_role_from_settings(h):
    role_holder = h.member(username="ta", permissions=0)
    refused = await h.slash("glossary", "stats", member=role_holder)
    assert refused.embeds[0]["title"] == "Moderators only"
    role = h.guild.roles[0]  # @everyone: every member holds it
    set_role = await h.slash("glossary", "settings", member=h.moderator,
                             moderator_role=role)
    await set_role.wait_followup()
    allowed = await h.slash("glossary", "stats", member=role_holder)
    await allowed.wait_followup()
    assert allowed.embeds[0]["title"] == "Glossary stats"


async def test_suggest_a_fix_appears_only_with_a_moderators_channel(h):
    card = await h.slash("define", term="git")
    assert "Suggest a fix" not in [b["label"] for b in card.buttons]
    setup = await h.slash("glossary", "settings", member=h.member(permissions=MANAGE_GUILD),
                          moderators_channel=h.channel)
    await setup.wait_followup()
    card = await h.slash("define", term="git")
    suggest = next(b for b in card.buttons if b["label"] == "Suggest a fix")
    form = await h.click(suggest["custom_id"], message=card.message)
    assert form.type == 9
    thanks = await h.submit_modal(form, {"section": "Definition",
                                         "problem": "It says @everyone **wrongly**",
                                         "proposal": "Better text."})
    await thanks.wait_followup()
    assert thanks.ephemeral and "Thank you" in thanks.content
    posted = h.channel_messages()[-1]
    (embed,) = posted["embeds"]
    assert embed["title"] == "Suggested fix: Git"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Part"] == "Definition"
    assert "@\u200beveryone" in fields["What is wrong"]
    assert fields["Proposed text"] == "Better text."
    assert f"<@{h.student.id}>" in fields["From"]
    assert posted.get("mentions", []) == []


async def test_two_students_suggesting_for_one_term_both_arrive_with_their_authors(h):
    setup = await h.slash("glossary", "settings", member=h.moderator, moderators_channel=h.channel)
    await setup.wait_followup()
    sam, kim = h.member(username="sam"), h.member(username="kim")
    forms = [await h.click("gl:f:git", member=student) for student in (sam, kim)]
    assert forms[0].data["custom_id"] != forms[1].data["custom_id"]
    for form, student, text in ((forms[1], kim, "Kim's point"), (forms[0], sam, "Sam's point")):
        thanks = await h.submit_modal(form, {"problem": text}, member=student)
        await thanks.wait_followup()
        assert "Thank you" in thanks.content
    posts = [m["embeds"][0] for m in h.channel_messages()
             if m.get("embeds") and m["embeds"][0]["title"] == "Suggested fix: Git"]
    assert len(posts) == 2
    said = {}
    for post in posts:
        fields = {f["name"]: f["value"] for f in post["fields"]}
        said[fields["From"].lower()] = fields["What is wrong"]
    assert said == {f"<@{kim.id}> (kim)": "Kim's point", f"<@{sam.id}> (sam)": "Sam's point"}


async def test_a_forged_back_click_on_a_public_card_never_edits_it(h):
    """Back is only sent on private cards; a forged one on a public message (here the
    fake's stand-in for any public bot message) answers privately instead of editing."""
    forged = await h.click("gl:b:backend", message=None, member=h.student)
    assert forged.type == 4  # a new message, not an update (7) of the public one
    assert forged.ephemeral and forged.embeds[0]["title"] == "backend"


async def _moderators_channel(h, channel: dict):
    reply = await h.slash("glossary", "settings", member=h.moderator, moderators_channel=channel)
    if not reply.embeds:  # deferred: the answer is the followup
        await reply.wait_followup()
    return reply


async def test_settings_refuse_a_channel_the_bot_cannot_post_in(start_bot):
    fake = FakeDiscord()
    mute = fake.add_channel("mods-muted", overwrites=[
        {"id": fake.guild.role("GlossaryBot")["id"], "type": 0, "deny": SEND_MESSAGES}])
    async with fake, start_bot(fake) as h:
        reply = await _moderators_channel(h, mute)
        assert reply.ephemeral
        text = reply.embeds[0]["description"]
        assert f"<#{mute['id']}>" in text and "**Send Messages**" in text
        assert (await h.bot.store.records.guild_settings(h.guild.id)).mod_channel_id is None


async def test_an_undeliverable_suggestion_is_kept_for_the_moderators(start_bot):
    fake = FakeDiscord()
    mods = fake.add_channel("mods")
    async with fake, start_bot(fake) as h:
        await _moderators_channel(h, mods)
        await h.fake.set_overwrites(mods, [{"id": h.guild.role("GlossaryBot")["id"], "type": 0,
                                            "deny": SEND_MESSAGES}])
        form = await h.click("gl:f:git", member=h.student)
        thanks = await h.submit_modal(form, {"section": "Definition", "problem": "A typo here",
                                             "proposal": "Better text."}, member=h.student)
        await thanks.wait_followup()
        assert thanks.ephemeral
        assert "/glossary suggestions" in thanks.content and "Something went wrong" not in (
            str(thanks.embeds))
        listed = await h.slash("glossary", "suggestions", member=h.moderator)
        assert listed.ephemeral
        (embed,) = listed.embeds
        assert embed["description"].startswith("**1** could not be posted")
        (field,) = embed["fields"]
        assert field["name"] == "Git"
        assert "A typo here" in field["value"] and "Better text." in field["value"]
        assert "not posted" in field["value"] and f"<@{h.student.id}>" in field["value"]
        refused = await h.slash("glossary", "suggestions", member=h.student)
        assert refused.embeds[0]["title"] == "Moderators only"


async def test_a_form_opened_before_a_restart_is_saved_after_it(start_bot):
    async with FakeDiscord() as fake:  # one server, one moderators' channel, two runs
        async with start_bot(fake) as first:
            setup = await first.slash("glossary", "settings", member=first.moderator,
                                      moderators_channel=first.channel)
            await setup.wait_followup()
            form = await first.click("gl:f:git", member=first.student)
            assert form.type == 9
        async with start_bot(fake) as second:  # no form object survives: the submit must
            thanks = await second.submit_modal(form, {
                "section": "Definition", "problem": "Typed before the restart.",
                "proposal": "Git keeps every version."}, member=second.student)
            await thanks.wait_followup()
            assert thanks.ephemeral and "Thank you" in thanks.content
            (embed,) = second.channel_messages()[-1]["embeds"]
            assert embed["title"] == "Suggested fix: Git"
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert fields["What is wrong"] == "Typed before the restart."
            assert fields["Proposed text"] == "Git keeps every version."
            [saved] = await second.bot.store.suggestions.latest(second.guild.id)
            assert (saved.problem, saved.author_id) == ("Typed before the restart.",
                                                        second.student.id)


async def test_a_form_is_saved_once_while_the_bot_runs(h):
    setup = await h.slash("glossary", "settings", member=h.moderator, moderators_channel=h.channel)
    await setup.wait_followup()
    form = await h.click("gl:f:git", member=h.student)
    thanks = await h.submit_modal(form, {"problem": "Once."}, member=h.student)
    await thanks.wait_followup()
    assert len(await h.bot.store.suggestions.latest(h.guild.id)) == 1
    assert len([m for m in h.channel_messages() if m.get("embeds") and m["embeds"][0][
        "title"] == "Suggested fix: Git"]) == 1


async def test_a_form_for_a_term_removed_meanwhile_gives_the_text_back(h, content_dir):
    setup = await h.slash("glossary", "settings", member=h.moderator, moderators_channel=h.channel)
    await setup.wait_followup()
    form = await h.click("gl:f:git", member=h.student)
    (content_dir / "git.yaml").unlink()
    reload = await h.slash("glossary", "reload", member=h.moderator)
    await reload.wait_followup()
    refused = await h.submit_modal(form, {"problem": "My careful words."}, member=h.student)
    said = await refused.wait_followup()
    assert said["embeds"][0]["title"] == "No longer in the glossary"
    assert "My careful words." in said["embeds"][0]["description"]
