"""/glossary related: related terms chosen from the glossary (autocomplete), not typed
slugs, saved through the same preview and save path as every edit; typed slugs in the
section form are checked, with "did you mean"."""

from __future__ import annotations

import yaml

from bot.content import read_term_file

CALLBACK_MODAL = 9


async def related(h, member=None, **options):
    return await h.slash("glossary", "related", member=member or h.moderator,
                         options=options)


async def save(h, shown):
    return await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()


async def test_add_offers_glossary_terms_and_saves_after_a_preview(h, content_dir):
    git = content_dir / "git.yaml"
    git.write_text("# Checked by the course team.\n" + git.read_text())
    offered = await h.autocomplete("glossary", "related", focused="add",
                                   member=h.moderator, options={"term": "git", "add": "api"})
    assert "api" in [c["value"] for c in offered]
    shown = await related(h, term="git", add="api")
    assert shown.ephemeral and shown.embeds[0]["title"] == "Git"
    assert "api" not in yaml.safe_load(git.read_text())["related"]  # a preview saves nothing
    edit = await save(h, shown)
    assert edit["content"] == "Saved: related terms of **Git** (added `api`)."
    text = git.read_text()
    assert text.startswith("# Checked by the course team.\n")
    assert yaml.safe_load(text)["related"][-1] == "api"
    [change] = await h.bot.store.history.recent("git")
    assert change.sections == ("related",) and "api" in change.after.related


async def test_a_title_typed_in_add_is_saved_as_its_terms_slug(h, content_dir):
    title = read_term_file(content_dir / "api-key.yaml").term.title
    edit = await save(h, await related(h, term="git", add=title))
    assert "added `api-key`" in edit["content"]
    assert "api-key" in yaml.safe_load((content_dir / "git.yaml").read_text())["related"]


async def test_remove_offers_only_the_terms_current_related(h, content_dir):
    current = read_term_file(content_dir / "git.yaml").term.related
    offered = await h.autocomplete("glossary", "related", focused="remove",
                                   member=h.moderator, options={"term": "git"})
    assert [c["value"] for c in offered] == list(current)
    narrowed = await h.autocomplete("glossary", "related", focused="remove",
                                    member=h.moderator,
                                    options={"term": "git", "remove": "term"})
    assert [c["value"] for c in narrowed] == ["terminal"]
    edit = await save(h, await related(h, term="git", remove="terminal"))
    assert "removed `terminal`" in edit["content"]
    after = read_term_file(content_dir / "git.yaml").term.related
    assert after == tuple(s for s in current if s != "terminal")


async def test_an_unknown_term_is_refused_with_did_you_mean(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    reply = await related(h, term="git", add="brnach")
    (embed,) = reply.embeds
    assert embed["title"] == "Not in the glossary"
    assert "`brnach`" in embed["description"] and "did you mean" in embed["description"]
    assert "`branch`" in embed["description"]
    assert (content_dir / "git.yaml").read_text() == before


async def test_already_related_itself_or_not_listed_is_refused(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    assert (await related(h, term="git", add="branch")).embeds[0]["title"] == (
        "Already related")
    assert "this term itself" in (await related(h, term="git", add="git")).embeds[0][
        "description"]
    assert (await related(h, term="git", remove="api")).embeds[0]["title"] == (
        "Not one of its related terms")
    assert (await related(h, term="git")).embeds[0]["title"] == "Nothing to change"
    assert (content_dir / "git.yaml").read_text() == before


async def test_students_may_not_change_related_terms(h):
    reply = await related(h, member=h.student, term="git", add="api")
    assert reply.embeds[0]["title"] == "Moderators only"


async def test_typed_slugs_in_the_section_form_are_checked(h, content_dir):
    before = (content_dir / "git.yaml").read_text()
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "related"})
    assert form.type == CALLBACK_MODAL
    refused = await h.submit_modal(form, {"text": "branch\nbrnach\nnothing-like-this-xyz"},
                                   member=h.moderator)
    (embed,) = refused.embeds
    assert embed["title"] == "Not in the glossary"
    assert "`brnach`" in embed["description"] and "`branch`" in embed["description"]
    assert "nothing-like-this-xyz" in embed["description"]
    assert "branch\nbrnach" in embed["description"]  # the editor's text comes back
    assert (content_dir / "git.yaml").read_text() == before
    title = read_term_file(content_dir / "api-key.yaml").term.title
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "related"})
    shown = await h.submit_modal(form, {"text": f"branch\n{title}"}, member=h.moderator)
    await save(h, shown)
    assert read_term_file(content_dir / "git.yaml").term.related == ("branch", "api-key")


async def test_a_database_only_glossary_gets_its_related_terms_in_the_database(db_bot):
    h = db_bot
    offered = await h.autocomplete("glossary", "related", focused="add",
                                   member=h.moderator, options={"term": "git", "add": "bra"})
    assert [c["value"] for c in offered][:1] == ["branch"]
    edit = await save(h, await related(h, term="git", add="branch"))
    assert edit["content"] == "Saved: related terms of **Git** (added `branch`)."
    card = await h.slash("define", term="git")
    assert "Branch" in str(card.message["components"])  # the related term's button
    [change] = await h.bot.store.history.recent("git")
    assert change.after.related == ("branch",)
    edit = await save(h, await related(h, term="git", remove="branch"))
    assert "removed `branch`" in edit["content"]
    assert (await h.bot.glossary_for(None).term("git")).related == ()
