"""/glossary export through the fake Discord: the file attached, and who may have it."""

from __future__ import annotations

import pytest

from bot.content import read_term_file
from bot.export import export
from tests.conftest import BUNDLED_TERMS


@pytest.mark.parametrize("fmt", ["csv", "json", "md", "apkg", "yaml"])
async def test_export_attaches_the_file_the_terminal_writes(h, fmt):
    reply = await h.slash("glossary", "export", member=h.moderator, options={"format": fmt})
    await reply.wait_followup()
    assert reply.ephemeral
    [attachment] = reply.message["attachments"]
    suffix = {"yaml": "zip", "apkg": "apkg"}.get(fmt, fmt)
    assert attachment["filename"] == f"glossary.{suffix}"
    terms = [read_term_file(p).term for p in BUNDLED_TERMS.glob("*.yaml")]
    if fmt not in ("apkg", "yaml"):  # those hold timestamps or compression: sizes vary
        assert attachment["size"] == len(export(terms, fmt, "VCA"))
    assert f"{len(terms)} terms" in reply.content


async def test_export_defaults_to_a_spreadsheet(h):
    reply = await h.slash("glossary", "export", member=h.moderator)
    await reply.wait_followup()
    assert reply.message["attachments"][0]["filename"] == "glossary.csv"


async def test_students_may_not_export(h):
    reply = await h.slash("glossary", "export", member=h.student)
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "Moderators only"
    assert not reply.message.get("attachments")


# --- /glossary edit ----------------------------------------------------------------------

CALLBACK_MODAL = 9


async def open_form(h, term="git", part="definition", member=None):
    form = await h.slash("glossary", "edit", member=member or h.moderator,
                         options={"term": term, "section": part})
    assert form.type == CALLBACK_MODAL, form.embeds
    return form


async def preview(h, text, **kwargs):
    form = await open_form(h, **kwargs)
    shown = await h.submit_modal(form, {"text": text}, member=h.moderator)
    assert shown.ephemeral
    return shown


async def test_edit_previews_then_saves_keeping_the_files_comment(h, content_dir):
    git = content_dir / "git.yaml"
    git.write_text("# Checked by the course team.\n" + git.read_text())
    form = await open_form(h)
    assert form.data["title"] == "Edit Git"
    shown = await h.submit_modal(form, {"text": "Git keeps every version."},
                                 member=h.moderator)
    assert shown.embeds[0]["description"] == "Git keeps every version."
    assert "Git keeps every version." not in git.read_text()  # a preview saves nothing
    saved = await h.click("authoring:save", message=shown.message, member=h.moderator)
    edit = await saved.wait_edit()
    assert edit["content"] == "Saved: Definition of **Git**."
    assert edit["embeds"][0]["fields"][0]["name"] == "Changed (1)"  # the reload's report
    assert edit["components"] == []
    text = git.read_text()
    assert text.startswith("# Checked by the course team.\n")
    assert "Git keeps every version." in text
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Git keeps every version."
    [change] = await h.bot.store.history.recent("git")
    assert change.sections == ("definition",) and change.actor_id == int(h.moderator.id)
    assert change.after.definition == "Git keeps every version."


async def test_a_file_changed_after_the_form_opened_is_not_overwritten(h, content_dir):
    shown = await preview(h, "My new definition.")
    git = content_dir / "git.yaml"
    git.write_text(git.read_text().replace("title: Git", "title: Git VCS"))
    refused = await h.click("authoring:save", message=shown.message, member=h.moderator)
    edit = await refused.wait_edit()
    (embed,) = edit["embeds"]
    assert embed["title"] == "Not saved"
    assert "git.yaml changed after you opened it" in embed["description"]
    assert "My new definition." in embed["description"]  # the editor's text comes back
    assert "Git VCS" in git.read_text() and "My new definition." not in git.read_text()


async def test_an_edit_that_would_not_load_is_refused_with_the_text_back(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    shown = await preview(h, "backend", part="aliases")  # backend is another term's name
    refused = await h.click("authoring:save", message=shown.message, member=h.moderator)
    edit = await refused.wait_edit()
    mine, reload = edit["embeds"]
    assert mine["title"] == "Not saved" and "backend" in mine["description"]
    assert reload["title"] == "Reload refused" and "collides" in reload["description"]
    assert (content_dir / "git.yaml").read_text() == before  # put back
    card = await h.slash("define", term="backend")
    assert card.embeds[0]["title"].lower() == "backend"


async def test_cancel_changes_nothing(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    shown = await preview(h, "Never saved.")
    cancelled = await h.click("authoring:cancel", message=shown.message, member=h.moderator)
    assert cancelled.content == "Nothing was changed."
    assert (content_dir / "git.yaml").read_text() == before


async def test_keep_editing_reopens_the_form_with_the_editors_text(h):
    shown = await preview(h, "Half-written thought")
    again = await h.click("authoring:again", message=shown.message, member=h.moderator)
    assert again.type == CALLBACK_MODAL
    assert "Half-written thought" in str(again.data["components"])


async def test_students_may_not_edit(h):
    reply = await h.slash("glossary", "edit", member=h.student,
                          options={"term": "git", "section": "definition"})
    assert reply.embeds[0]["title"] == "Moderators only"


# --- /glossary add -----------------------------------------------------------------------

DOCKER = {"title": "Docker", "definition": "Docker runs apps in containers.",
          "why_it_matters": "", "category": "tools", "aliases": "containers\ndocker engine"}


async def add_preview(h, typed):
    form = await h.slash("glossary", "add", member=h.moderator)
    assert form.type == CALLBACK_MODAL and form.data["title"] == "Add a term"
    shown = await h.submit_modal(form, typed, member=h.moderator)
    assert shown.ephemeral
    return shown


async def test_add_previews_then_writes_a_new_term(h, content_dir):
    shown = await add_preview(h, DOCKER)
    assert shown.embeds[0]["title"] == "Docker"
    assert not (content_dir / "docker.yaml").exists()
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["content"] == "Added **Docker** (docker.yaml)."
    assert "docker engine" in (content_dir / "docker.yaml").read_text()
    card = await h.slash("define", term="containers")
    assert card.embeds[0]["title"] == "Docker"


async def test_adding_an_existing_term_overwrites_nothing(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    shown = await add_preview(h, {**DOCKER, "title": "Git", "aliases": ""})
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert edit["embeds"][0]["title"] == "Not saved"
    assert "exists already" in edit["embeds"][0]["description"]
    assert "Docker runs apps in containers." in edit["embeds"][0]["description"]
    assert (content_dir / "git.yaml").read_text() == before


async def test_a_new_term_whose_name_clashes_is_removed_again(h, content_dir):
    shown = await add_preview(h, {**DOCKER, "aliases": "git"})
    edit = await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert [e["title"] for e in edit["embeds"]] == ["Not saved", "Reload refused"]
    assert not (content_dir / "docker.yaml").exists()


async def test_students_may_not_add(h):
    reply = await h.slash("glossary", "add", member=h.student)
    assert reply.embeds[0]["title"] == "Moderators only"


# --- /glossary remove --------------------------------------------------------------------

async def test_remove_shows_the_card_then_deletes_the_term(h, content_dir):
    confirm = await h.slash("glossary", "remove", member=h.moderator,
                            options={"term": "git"})
    assert confirm.ephemeral and confirm.embeds[0]["title"] == "Git"
    assert (content_dir / "git.yaml").exists()
    edit = await (await h.click("authoring:remove", message=confirm.message,
                                member=h.moderator)).wait_edit()
    assert edit["content"] == "Removed **Git**."
    assert not (content_dir / "git.yaml").exists()
    card = await h.slash("define", term="git")
    assert card.embeds[0]["title"] == "Term not found"
    [change] = await h.bot.store.history.recent("git")
    assert change.before.title == "Git" and change.after is None


async def test_remove_refuses_a_file_changed_meanwhile_and_cancel_keeps_it(h, content_dir):
    git = content_dir / "git.yaml"
    confirm = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    git.write_text(git.read_text() + "# edited meanwhile\n")
    edit = await (await h.click("authoring:remove", message=confirm.message,
                                member=h.moderator)).wait_edit()
    assert edit["embeds"][0]["title"] == "Not removed"
    assert git.exists()
    again = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    kept = await h.click("authoring:keep", message=again.message, member=h.moderator)
    assert kept.content == "Nothing was removed." and git.exists()


async def test_students_may_not_remove(h, content_dir):
    reply = await h.slash("glossary", "remove", member=h.student, options={"term": "git"})
    assert reply.embeds[0]["title"] == "Moderators only"
    assert (content_dir / "git.yaml").exists()
