"""/glossary reload and /glossary stats: moderators only, checked in code."""

from __future__ import annotations

from bot.content import dump_term
from tests.cogs.conftest import reload_ok
from tests.conftest import BUNDLED_COUNT, make_term
from tests.support.fake_discord import MANAGE_GUILD


async def test_reload_reports_added_changed_removed(h, content_dir):
    before = await h.slash("define", term="backend")  # rendered and cached before the edit
    assert "Git" in [b["label"] for b in before.buttons]
    (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
    git = content_dir / "git.yaml"
    git.write_text(git.read_text().replace("title: Git", "title: Git VCS"))
    embed = await reload_ok(h)
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Added (1)": "docker", "Changed (1)": "git"}
    assert f"{BUNDLED_COUNT + 1} terms" in embed["description"]
    card = await h.slash("define", term="git vcs")
    assert card.embeds[0]["title"] == "Git VCS"
    after = await h.slash("define", term="backend")  # a related title changed: new buttons
    assert "Git VCS" in [b["label"] for b in after.buttons]
    again = await reload_ok(h)
    assert again["description"].startswith("Nothing changed")


async def test_bad_file_is_reported_and_old_card_keeps_serving(h, content_dir):
    (content_dir / "git.yaml").write_text("title: Git\ndefinition: [unclosed\n")
    (content_dir / "extra.yaml").write_text("title: Extra\ndefinition: x\nwhy_it_matters: y\n"
                                            "colour: red\n")
    reply = await h.slash("glossary", "reload", member=h.moderator)
    await reply.wait_followup()
    (embed,) = reply.embeds
    assert reply.ephemeral
    assert embed["title"] == "Reload refused"
    assert "git.yaml:2: yaml:" in embed["description"]
    assert "extra.yaml:4: colour: unknown section" in embed["description"]
    card = await h.slash("define", term="git")
    assert card.embeds[0]["title"] == "Git"
    assert card.embeds[0]["description"].startswith("Git is")


async def test_students_are_refused_even_when_discord_lets_them_through(h, content_dir):
    (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
    for path in (("reload",), ("stats",)):
        reply = await h.slash("glossary", *path, member=h.student)
        assert reply.ephemeral
        assert reply.embeds[0]["title"] == "Moderators only"
    student_define = await h.slash("define", term="docker")
    assert student_define.embeds[0]["title"] == "Term not found"  # nothing was reloaded


async def test_configured_role_counts_as_moderator(start_bot, content_dir):
    from tests.support.fake_discord import FakeDiscord

    fake = FakeDiscord()
    await fake.start()
    try:
        fake.add_role("Mentors")
        async with start_bot(fake, moderator_role="Mentors") as h:
            mentor = h.member(username="mentor", roles=["Mentors"], permissions=0)
            await h.slash("define", term="nope-nope")
            reply = await h.slash("glossary", "stats", member=mentor)
            await reply.wait_followup()
            assert reply.embeds[0]["title"] == "Glossary stats"
            refused = await h.slash("glossary", "reload", member=h.student)
            assert "**Mentors** role" in refused.embeds[0]["description"]
    finally:
        await fake.stop()


async def test_the_refusal_names_the_role_this_server_chose(h):
    await h.bot.store.records.update_guild_settings(h.guild.id, moderator_role_id=4242)
    refused = await h.slash("glossary", "reload", member=h.student)
    assert refused.ephemeral
    assert "Manage Server permission or the <@&4242> role" in refused.embeds[0]["description"]
    assert refused.data.get("allowed_mentions") == {"parse": []}  # a mention that never pings


async def test_stats_show_top_terms_and_content_gaps(h):
    for _ in range(3):
        await h.slash("define", term="git")
    await h.slash("define", term="backend")
    await h.slash("define", term="kubernetes")
    await h.slash("define", term="kubernetes")
    reply = await h.slash("glossary", "stats", member=h.member(permissions=MANAGE_GUILD))
    await reply.wait_followup()
    (embed,) = reply.embeds
    assert reply.ephemeral
    assert embed["description"].startswith(f"**{BUNDLED_COUNT}** terms")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Most looked up"].splitlines()[:2] == ["3 × Git", "1 × backend"]
    assert fields["Asked for but missing"] == "2 × kubernetes"


async def test_commands_declare_manage_server_by_default(h):
    synced = {c["name"]: c for c in h.fake.synced_commands(None)}
    assert str(synced["glossary"]["default_member_permissions"]) == str(MANAGE_GUILD)
    assert synced["define"].get("default_member_permissions") is None


async def test_stats_answer_in_time_while_a_reload_holds_the_writer(h):
    """Stats first save the buffered counts, a write that waits for a running reload:
    it must not make the moderator miss Discord's 3-second window."""
    h.bot.store.records.record_lookup("git")
    async with h.bot.store.db._write_lock:  # a reload writing, as seen from stats
        reply = await h.slash("glossary", "stats", member=h.moderator)
        assert reply.loading  # acknowledged in time; the fake enforces the 3 s deadline
    await reply.wait_followup()
    assert reply.embeds[0]["title"] == "Glossary stats"
