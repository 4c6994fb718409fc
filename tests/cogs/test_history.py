"""/glossary history through the fake Discord: recent changes, pages, and restoring."""

from __future__ import annotations

from bot.storage.history import HistoryEntry
from tests.cogs.test_authoring import preview
from tests.cogs.test_glossaries import classes, now  # noqa: F401 - two servers' fixtures
from tests.conftest import make_term
from tests.support.fake_discord import FakeUpload

ORIGINAL = "Git is a version control system"


async def edit_git(h, text="Git keeps every version."):
    shown = await preview(h, text)
    saved = await (await h.click("authoring:save", message=shown.message,
                                 member=h.moderator)).wait_edit()
    assert saved["content"].startswith("Saved"), saved


async def open_history(h, term="git", member=None):
    reply = await h.slash("glossary", "history", member=member or h.moderator,
                          options={"term": term})
    assert reply.ephemeral
    return reply


def restore_choices(reply) -> list[dict]:
    [select] = [c for row in reply.components for c in row["components"] if c["type"] == 3]
    return select["options"]


async def test_history_lists_an_edit_and_restores_the_version_it_replaced(h, content_dir):
    git = content_dir / "git.yaml"
    git.write_text("# Checked by the course team.\n" + git.read_text())
    await edit_git(h)
    listed = await open_history(h)
    (embed,) = listed.embeds
    assert embed["title"] == "History of Git"
    [line] = embed["description"].splitlines()
    assert "**Moderator** · edit · definition" in line
    [choice] = restore_choices(listed)
    assert choice["label"].startswith("Before #")

    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[choice["value"]])
    assert shown.ephemeral
    assert shown.embeds[0]["description"].startswith(ORIGINAL)
    assert "Git keeps every version." in git.read_text()  # a preview saves nothing
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Restored **Git** to the version before #")
    assert done["embeds"][0]["fields"][0]["name"] == "Changed (1)"
    text = git.read_text()
    assert text.startswith("# Checked by the course team.\n")  # the same path as an edit
    assert ORIGINAL in text and "Git keeps every version." not in text
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"].startswith(ORIGINAL)
    restored, edited = await h.bot.store.history.recent(
        "git", glossary_id=h.bot.glossary_for(h.guild.id).id)
    assert (restored.source, restored.actor_id) == ("restore", h.moderator.id)
    assert restored.before == edited.after and restored.after == edited.before


async def test_a_removed_term_is_found_and_restoring_recreates_it(h, content_dir):
    confirm = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    await (await h.click("authoring:remove", message=confirm.message,
                         member=h.moderator)).wait_edit()
    choices = await h.autocomplete("glossary", "history", focused="term", member=h.moderator,
                                   term="gi")
    assert {"name": "Git (removed)", "value": "git"} in choices
    student = await h.autocomplete("glossary", "history", focused="term", member=h.student,
                                   term="gi")
    assert "Git (removed)" not in [c["name"] for c in student]
    listed = await open_history(h, "git")
    assert listed.embeds[0]["title"] == "History of Git (removed)"
    assert "· removed" in listed.embeds[0]["description"]
    [choice] = restore_choices(listed)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[choice["value"]])
    assert "Save brings it back" in str(shown.embeds[0])
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Restored **Git**")
    assert (content_dir / "git.yaml").exists()
    card = await h.slash("define", term="vcs")
    assert card.embeds[0]["title"] == "Git"
    [restored, _] = await h.bot.store.history.recent("git")
    assert restored.source == "restore" and restored.before is None


async def test_a_file_changed_after_the_preview_is_not_overwritten(h, content_dir):
    await edit_git(h)
    listed = await open_history(h)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    git = content_dir / "git.yaml"
    git.write_text(git.read_text().replace("category: tools", "category: workflow"))
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    (embed,) = done["embeds"]
    assert embed["title"] == "Not restored"
    assert "git.yaml changed after you opened it" in embed["description"]
    assert "category: workflow" in git.read_text()
    assert "Git keeps every version." in git.read_text()


async def test_cancel_restores_nothing(h, content_dir):
    await edit_git(h)
    listed = await open_history(h)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    cancelled = await h.click("history:cancel", message=shown.message, member=h.moderator)
    assert cancelled.content == "Nothing was restored."
    assert "Git keeps every version." in (content_dir / "git.yaml").read_text()


async def test_a_long_history_is_paged(h):
    glossary_id = h.bot.glossary_for(h.guild.id).id
    versions = [make_term("git", title="Git", definition=f"Version {n}.") for n in range(8)]
    await h.bot.store.history.record([
        HistoryEntry("git", "import", before, after, actor_name=f"Editor {n}",
                     at=1_700_000_000.0 + n, glossary_id=glossary_id)
        for n, (before, after) in enumerate(zip(versions, versions[1:], strict=False))])
    first = await open_history(h)
    lines = first.embeds[0]["description"].splitlines()
    assert len(lines) == 5 and "Editor 6" in lines[0] and "Editor 2" in lines[-1]
    assert first.embeds[0]["footer"]["text"].startswith("Page 1 of 2 · 7 change(s)")
    labels = {b["label"]: b for b in first.buttons}
    assert labels["Newer"].get("disabled") and not labels["Older"].get("disabled")
    older = await h.click("history:older", message=first.message, member=h.moderator)
    lines = older.embeds[0]["description"].splitlines()
    assert len(lines) == 2 and "Editor 0" in lines[-1]
    assert older.embeds[0]["footer"]["text"].startswith("Page 2 of 2")
    newer = await h.click("history:newer", message=older.message, member=h.moderator)
    assert "Editor 6" in newer.embeds[0]["description"].splitlines()[0]


async def test_only_this_servers_glossary_history_is_shown_or_restored(h):
    ours = h.bot.glossary_for(h.guild.id).id
    theirs = ours + 100  # another glossary with a term of the same slug
    await h.bot.store.history.record([
        HistoryEntry("git", "edit", make_term("git"), make_term("git", definition="Ours."),
                     actor_name="Our editor", glossary_id=ours),
        HistoryEntry("git", "edit", make_term("git"), make_term("git", definition="Theirs."),
                     actor_name="Their editor", glossary_id=theirs)])
    listed = await open_history(h)
    assert "Our editor" in listed.embeds[0]["description"]
    assert "Their editor" not in listed.embeds[0]["description"]
    [other] = await h.bot.store.history.recent("git", glossary_id=theirs)
    refused = await h.click("history:restore", message=listed.message, member=h.moderator,
                            values=[str(other.id)])
    assert refused.embeds[0]["title"] == "Not in this glossary's history"


async def test_a_term_without_history_says_so(h):
    listed = await open_history(h, "backend")
    assert listed.embeds[0]["description"].startswith("No changes are recorded")
    assert listed.components == []


async def test_an_unknown_term_without_history_is_not_found(h):
    listed = await open_history(h, "no-such-term-anywhere")
    assert listed.embeds[0]["title"] == "Term not found"


async def test_students_may_not_see_history(h):
    reply = await h.slash("glossary", "history", member=h.student, options={"term": "git"})
    assert reply.embeds[0]["title"] == "Moderators only"


async def test_a_version_the_glossary_refuses_now_is_put_back(h, content_dir):
    glossary_id = h.bot.glossary_for(h.guild.id).id
    current = await h.bot.glossary_for(h.guild.id).term("git")
    clashing = make_term("git", title="Git", aliases=("backend",))  # another term's name now
    await h.bot.store.history.record([HistoryEntry("git", "edit", clashing, current,
                                                   glossary_id=glossary_id)])
    before = (content_dir / "git.yaml").read_text()
    listed = await open_history(h)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert [e["title"] for e in done["embeds"]] == ["Not restored", "Reload refused"]
    assert (content_dir / "git.yaml").read_text() == before
    assert [e.source for e in await h.bot.store.history.recent(
        "git", glossary_id=glossary_id)] == ["edit"]


async def test_restoring_the_version_served_now_changes_nothing(h):
    glossary_id = h.bot.glossary_for(h.guild.id).id
    current = await h.bot.glossary_for(h.guild.id).term("git")
    await h.bot.store.history.record([HistoryEntry(
        "git", "edit", current, make_term("git", title="Git"), glossary_id=glossary_id)])
    listed = await open_history(h)
    same = await h.click("history:restore", message=listed.message, member=h.moderator,
                         values=[restore_choices(listed)[0]["value"]])
    assert "nothing to restore" in same.content
    assert same.buttons == []


# --- Two glossaries with a term of the same slug ----------------------------------------

async def test_each_server_sees_its_own_glossarys_history_of_the_same_slug(classes):  # noqa: F811
    async with classes() as c:
        h = c.h
        a_mod, b_mod = c.moderator(c.a), c.moderator(c.b)
        form = await h.slash("glossary", "edit", member=a_mod,
                             options={"term": "cache", "section": "definition"})
        shown = await h.submit_modal(form, {"text": "Web cache, edited."}, member=a_mod)
        await (await h.click("authoring:save", message=shown.message,
                             member=a_mod)).wait_edit()
        sheet = b"Term,Definition\ncache,Data cache (imported).\n"
        reply = await h.slash("glossary", "import", member=b_mod,
                              options={"file": FakeUpload("data.csv", sheet)})
        await reply.wait_followup()
        await (await h.click("import:confirm", message=reply.message,
                             member=b_mod)).wait_edit()
        in_a = await open_history(h, "cache", member=a_mod)
        in_b = await open_history(h, "cache", member=b_mod)
        [line_a] = in_a.embeds[0]["description"].splitlines()
        [line_b] = in_b.embeds[0]["description"].splitlines()
        assert "· edit ·" in line_a and "· import ·" in line_b
        shown = await h.click("history:restore", message=in_b.message, member=b_mod,
                              values=[restore_choices(in_b)[0]["value"]])
        assert shown.embeds[0]["description"] == "A data cache keeps query results in memory."


# --- A database-only glossary -----------------------------------------------------------

async def save_in_database(h, text: str, part: str = "definition") -> None:
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": part})
    shown = await h.submit_modal(form, {"text": text}, member=h.moderator)
    saved = await (await h.click("authoring:save", message=shown.message,
                                 member=h.moderator)).wait_edit()
    assert saved["content"].startswith("Saved"), saved


async def test_a_database_only_glossary_restores_in_the_database(db_bot):
    h = db_bot
    await save_in_database(h, "Git keeps every version.")
    listed = await open_history(h)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    assert shown.embeds[0]["description"] == "Git tracks versions."
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Restored **Git** to the version before #")
    assert done["embeds"][0]["title"] == "Glossary reloaded"
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Git tracks versions."
    restored, edited = await h.bot.store.history.recent("git")
    assert (restored.source, restored.actor_id) == ("restore", h.moderator.id)
    assert restored.before == edited.after and restored.after == edited.before


async def test_a_database_only_term_changed_after_the_preview_is_not_overwritten(db_bot):
    h = db_bot
    await save_in_database(h, "Git keeps every version.")
    listed = await open_history(h)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    await save_in_database(h, "workflow", "category")  # another editor, meanwhile
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    (embed,) = done["embeds"]
    assert embed["title"] == "Not restored"
    assert "git.yaml changed after you opened it" in embed["description"]
    term = await h.bot.glossary_for(h.guild.id).term("git")
    assert term.category == "workflow" and term.definition == "Git keeps every version."


async def test_a_removed_database_only_term_is_restored(db_bot):
    h = db_bot
    confirm = await h.slash("glossary", "remove", member=h.moderator, options={"term": "git"})
    await (await h.click("authoring:remove", message=confirm.message,
                         member=h.moderator)).wait_edit()
    listed = await open_history(h, "git")
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[restore_choices(listed)[0]["value"]])
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Restored **Git**")
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"] == "Git tracks versions."

async def test_a_file_edited_on_disk_and_reloaded_is_in_the_history_and_undone(
        h, content_dir):
    """A moderator edits git.yaml on the machine and runs /glossary reload: the history
    names them, as a file change, and restoring undoes the edit."""
    git = content_dir / "git.yaml"
    original = git.read_text()
    git.write_text(original.replace(ORIGINAL, "Git, as edited on disk,"))
    reloaded = await (await h.slash("glossary", "reload", member=h.moderator)).wait_followup()
    assert reloaded["embeds"][0]["title"] == "Glossary reloaded"
    listed = await open_history(h)
    [line] = listed.embeds[0]["description"].splitlines()
    assert "**Moderator** · file change · definition" in line
    [choice] = restore_choices(listed)
    shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                          values=[choice["value"]])
    assert shown.embeds[0]["description"].startswith(ORIGINAL)
    done = await (await h.click("history:save", message=shown.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Restored **Git**")
    assert ORIGINAL in git.read_text() and "as edited on disk" not in git.read_text()
    restored, reloaded_entry = await h.bot.store.history.recent(
        "git", glossary_id=h.bot.glossary_for(h.guild.id).id)
    assert (restored.source, reloaded_entry.source) == ("restore", "reload")
    assert reloaded_entry.actor_id == h.moderator.id
    assert restored.after == reloaded_entry.before


async def test_one_edit_is_one_entry_though_its_reload_records_too(h):
    await edit_git(h)
    [entry] = await h.bot.store.history.recent(
        "git", glossary_id=h.bot.glossary_for(h.guild.id).id)
    assert (entry.source, entry.actor_id, entry.sections) == ("edit", h.moderator.id,
                                                              ("definition",))
