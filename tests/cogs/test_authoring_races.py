"""Issue 19's bad input that is about timing: a form submitted after its term was
removed, two editors saving the same term at once, a reload while an edit is saved.
The concurrent ones really run at once (asyncio.gather of the interactions)."""

from __future__ import annotations

import asyncio

import yaml

from bot.content import read_term_file

CALLBACK_MODAL = 9
MANAGE_GUILD = 0x20


async def open_form(h, member, term="git", part="definition"):
    form = await h.slash("glossary", "edit", member=member,
                         options={"term": term, "section": part})
    assert form.type == CALLBACK_MODAL, form.embeds
    return form


async def preview(h, member, text, **kwargs):
    form = await open_form(h, member, **kwargs)
    shown = await h.submit_modal(form, {"text": text}, member=member)
    assert shown.embeds[0]["title"] != "Not saved", shown.embeds
    return shown


async def save(h, shown, member):
    return await (await h.click("authoring:save", message=shown.message,
                                member=member)).wait_edit()


async def test_a_form_submitted_after_the_term_was_removed_gives_the_text_back(
        h, content_dir):
    form = await open_form(h, h.moderator)
    confirm = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    await (await h.click("authoring:remove", message=confirm.message,
                         member=h.moderator)).wait_edit()
    refused = await h.submit_modal(form, {"text": "Words I spent a while on."},
                                   member=h.moderator)
    (embed,) = refused.embeds
    assert refused.ephemeral and embed["title"] == "Not saved"
    assert "was removed" in embed["description"]
    assert "Words I spent a while on." in embed["description"]
    assert not (content_dir / "git.yaml").exists()


async def test_a_database_only_form_submitted_after_removal_gives_the_text_back(db_bot):
    h = db_bot
    form = await open_form(h, h.moderator)
    confirm = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    await (await h.click("authoring:remove", message=confirm.message,
                         member=h.moderator)).wait_edit()
    refused = await h.submit_modal(form, {"text": "Kept for me."}, member=h.moderator)
    assert refused.embeds[0]["title"] == "Not saved"
    assert "Kept for me." in refused.embeds[0]["description"]


def _outcomes(edits, texts):
    saved = [t for e, t in zip(edits, texts, strict=True) if e["content"]
             and e["content"].startswith("Saved")]
    refused = [(e, t) for e, t in zip(edits, texts, strict=True) if e["embeds"]
               and e["embeds"][0]["title"] == "Not saved"]
    return saved, refused


async def test_two_editors_saving_the_same_term_at_once_one_wins(h, content_dir):
    other = h.member(username="second-editor", permissions=MANAGE_GUILD)
    texts = ["First editor's definition.", "Second editor's definition."]
    shown = [await preview(h, h.moderator, texts[0]), await preview(h, other, texts[1])]
    clicks = await asyncio.gather(
        h.click("authoring:save", message=shown[0].message, member=h.moderator),
        h.click("authoring:save", message=shown[1].message, member=other))
    edits = await asyncio.gather(*(c.wait_edit() for c in clicks))
    saved, refused = _outcomes(edits, texts)
    assert len(saved) == 1 and len(refused) == 1, edits
    [(embed, lost)] = refused
    assert "changed after you opened it" in embed["embeds"][0]["description"]
    assert lost in embed["embeds"][0]["description"]  # the loser's text comes back
    assert read_term_file(content_dir / "git.yaml").term.definition == saved[0]
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == saved[0]
    assert len(await h.bot.store.history.recent("git")) == 1


async def test_two_editors_of_a_database_only_term_at_once_one_wins(db_bot):
    h = db_bot
    other = h.member(username="second-editor", permissions=MANAGE_GUILD)
    texts = ["First editor's definition.", "Second editor's definition."]
    shown = [await preview(h, h.moderator, texts[0]), await preview(h, other, texts[1])]
    clicks = await asyncio.gather(
        h.click("authoring:save", message=shown[0].message, member=h.moderator),
        h.click("authoring:save", message=shown[1].message, member=other))
    edits = await asyncio.gather(*(c.wait_edit() for c in clicks))
    saved, refused = _outcomes(edits, texts)
    assert len(saved) == 1 and len(refused) == 1, edits
    assert refused[0][1] in refused[0][0]["embeds"][0]["description"]
    assert (await h.bot.glossary_for(None).term("git")).definition == saved[0]


async def test_a_reload_while_an_edit_is_saved_loses_nothing(h, content_dir):
    git = content_dir / "git.yaml"
    before = yaml.safe_load(git.read_text())
    shown = await preview(h, h.moderator, "Saved while a reload runs.")
    click, reload = await asyncio.gather(
        h.click("authoring:save", message=shown.message, member=h.moderator),
        h.slash("glossary", "reload", member=h.moderator))
    edit, _ = await asyncio.gather(click.wait_edit(), reload.wait_followup())
    assert edit["content"] == "Saved: Definition of **Git**.", edit
    assert reload.embeds[0]["title"] == "Glossary reloaded", reload.embeds
    after = yaml.safe_load(git.read_text())
    assert after == {**before, "definition": "Saved while a reload runs."}  # nothing half
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Saved while a reload runs."
    # The edit is in the history once. If the moderator's reload picked the new file up
    # first, that reload's row names the moderator and the edit adds its own; either way
    # no row says anything but this one change of the definition.
    changes = await h.bot.store.history.recent("git")
    assert [c.source for c in changes].count("edit") == 1, changes
    assert all(c.sections == ("definition",) for c in changes), changes
    assert len(changes) <= 2
