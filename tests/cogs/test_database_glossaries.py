"""A glossary with no content directory, edited from Discord: /glossary add, edit and
remove change it in the database through the same checks as a reload, record the
history, and ``glossary-bot export`` writes it out as term files."""

from __future__ import annotations

from bot.cli import main
from bot.content import read_term_file
from bot.export import term_file_text
from tests.cogs.conftest import seed
from tests.conftest import make_term

CALLBACK_MODAL = 9


async def test_edit_previews_then_saves_in_the_database(db_bot):
    h = db_bot
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "definition"})
    assert form.type == CALLBACK_MODAL
    assert "Git tracks versions." in str(form.data["components"])
    shown = await h.submit_modal(form, {"text": "Git keeps every version."},
                                 member=h.moderator)
    assert shown.embeds[0]["description"] == "Git keeps every version."
    before = await h.slash("define", term="git")
    assert before.embeds[0]["description"] == "Git tracks versions."  # preview saves nothing
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["content"] == "Saved: Definition of **Git**."
    assert edit["embeds"][0]["title"] == "Glossary reloaded"
    after = await h.slash("define", term="git")
    assert after.embeds[0]["description"] == "Git keeps every version."
    [change] = await h.bot.store.history.recent("git")
    assert change.source == "edit" and change.sections == ("definition",)
    assert change.actor_id == int(h.moderator.id)
    assert change.before.definition == "Git tracks versions."


async def test_add_then_remove_in_the_database(db_bot):
    h = db_bot
    form = await h.slash("glossary", "add", member=h.moderator)
    shown = await h.submit_modal(form, {
        "title": "Docker", "definition": "Docker runs apps in containers.",
        "why_it_matters": "It runs the same everywhere.", "category": "",
        "aliases": "containers"}, member=h.moderator)
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["content"] == "Added **Docker** (docker.yaml)."
    card = await h.slash("define", term="containers")
    assert card.embeds[0]["title"] == "Docker"

    confirm = await h.slash("glossary", "remove", member=h.moderator,
                            options={"term": "docker"})
    assert "deleted from the glossary" in str(confirm.embeds[0])
    removed = await (await h.click("authoring:remove", message=confirm.message,
                                   member=h.moderator)).wait_edit()
    assert removed["content"] == "Removed **Docker**."
    gone = await h.slash("define", term="docker")
    assert gone.embeds[0]["title"] == "Term not found"
    sources = [(e.before is None, e.after is None)
               for e in await h.bot.store.history.recent("docker")]
    assert sources == [(False, True), (True, False)]  # removed, then (older) added


async def test_adding_an_existing_term_overwrites_nothing(db_bot):
    h = db_bot
    form = await h.slash("glossary", "add", member=h.moderator)
    shown = await h.submit_modal(form, {
        "title": "Git", "definition": "Another git.", "why_it_matters": "",
        "category": "", "aliases": ""}, member=h.moderator)
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["embeds"][0]["title"] == "Not saved"
    assert "exists already" in edit["embeds"][0]["description"]
    assert "Another git." in edit["embeds"][0]["description"]  # the text comes back
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Git tracks versions."


async def test_an_edit_the_glossary_refuses_changes_nothing(db_bot):
    h = db_bot
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "aliases"})
    shown = await h.submit_modal(form, {"text": "branch"}, member=h.moderator)  # a clash
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    mine, checks = edit["embeds"]
    assert mine["title"] == "Not saved" and "branch" in mine["description"]
    assert checks["title"] == "Reload refused" and "collides" in checks["description"]
    card = await h.slash("define", term="branch")
    assert card.embeds[0]["title"] == "Branch"
    assert await h.bot.store.history.recent("git") == []


async def test_a_term_changed_after_the_form_opened_is_not_overwritten(db_bot):
    h = db_bot
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "definition"})
    shown = await h.submit_modal(form, {"text": "Mine."}, member=h.moderator)
    other = make_term("git", definition="Someone else's text.")
    await h.bot.store.reloads.apply({"git.yaml": term_file_text(other)},
                                    {"git.yaml": await h.bot.store.reloads.fingerprint(
                                        "git.yaml")})
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["embeds"][0]["title"] == "Not saved"
    assert "git.yaml changed after you opened it" in edit["embeds"][0]["description"]
    assert "Mine." in edit["embeds"][0]["description"]
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Someone else's text."


def test_export_writes_a_database_only_glossary_as_term_files(tmp_path, capsys):
    import asyncio

    database = tmp_path / "bot.sqlite3"
    asyncio.run(seed(database, make_term("git", definition="Git tracks versions."),
                     make_term("branch")))
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{database}"\n[glossaries.default]\nsource = "database"\n')
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "--config", str(config), "--out", str(out)]) == 0
    assert "2 term(s) written" in capsys.readouterr().out
    written = {p.name: read_term_file(p) for p in out.glob("*.yaml")}
    assert sorted(written) == ["branch.yaml", "git.yaml"]
    assert all(not r.problems for r in written.values())
    assert written["git.yaml"].term.definition == "Git tracks versions."


async def test_a_suggestion_is_applied_to_a_database_only_glossary(db_bot):
    h = db_bot
    setup = await h.slash("glossary", "settings", member=h.moderator,
                          moderators_channel=h.channel)
    await setup.wait_followup()
    form = await h.click("gl:f:git", member=h.student)
    thanks = await h.submit_modal(form, {"section": "Why it matters", "problem": "Missing.",
                                         "proposal": "Every team uses it."}, member=h.student)
    await thanks.wait_followup()
    post = h.channel_messages()[-1]
    said = await (await h.click(post["components"][0]["components"][0]["custom_id"],
                                message=post, member=h.moderator)).wait_followup()
    assert said["content"].startswith("Applied to Why it matters of **Git**")
    card = await h.slash("define", term="git")
    assert "Every team uses it." in str(card.embeds[0]["fields"])
    [change] = await h.bot.store.history.recent("git")
    assert change.source == "suggestion" and change.credited_id == int(h.student.id)
    listed = await h.slash("glossary", "suggestions", member=h.moderator)
    assert f"applied by <@{h.moderator.id}>" in listed.embeds[0]["fields"][0]["value"]
