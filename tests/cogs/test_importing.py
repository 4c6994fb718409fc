"""/glossary import through the fake Discord: an attached file, the CLI's preview, Import.

The file goes up as Discord sends a slash command's attachment (resolved, on the fake's
CDN), and the bot downloads it with ``Attachment.read()``.
"""

from __future__ import annotations

import pytest

from bot.import_sources import MAX_ROWS, MAX_SOURCE_BYTES
from tests.cogs.conftest import reload_ok
from tests.support.fake_discord import FakeUpload

SHEET = ("Term,Definition,Aliases\r\n"
         "Docker,\"Docker runs apps in containers, one per service.\",containers\r\n"
         "Git,Git keeps every version.,\"version control\nversion control system\nVCS\"\r\n")


async def import_file(h, name, data, member=None, content_type="text/csv"):
    reply = await h.slash("glossary", "import", member=member or h.moderator,
                          options={"file": FakeUpload(name, data, content_type)})
    if reply.type == 5:  # deferred: the preview follows
        await reply.wait_followup()
    assert reply.ephemeral
    return reply


def downloads(h):
    return h.requests("GET", r"/ephemeral-attachments/.*")


async def test_preview_then_import_writes_reloads_and_records_history(h, content_dir):
    git_before = (content_dir / "git.yaml").read_text()
    reply = await import_file(h, "terms.csv", SHEET.encode())
    (embed,) = reply.embeds
    assert embed["title"] == "Import preview: terms.csv"
    assert "1 added, 1 changed, 0 unchanged, 0 error(s)" in embed["description"]
    assert "Docker (docker)" in embed["description"]
    assert "Git (git): definition" in embed["description"]
    assert [b["label"] for b in reply.buttons] == ["Import", "Cancel"]
    assert not (content_dir / "docker.yaml").exists()  # a preview writes nothing
    assert (content_dir / "git.yaml").read_text() == git_before
    assert len(downloads(h)) == 1

    done = await (await h.click("import:confirm", message=reply.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Imported terms.csv: 1 added, 1 changed")
    assert done["embeds"][0]["title"] == "Glossary reloaded"
    assert done["components"] == []
    card = await h.slash("define", term="containers")
    assert card.embeds[0]["title"] == "Docker"
    assert card.embeds[0]["description"] == "Docker runs apps in containers, one per service."
    git = await h.slash("define", term="git")
    assert git.embeds[0]["description"] == "Git keeps every version."
    glossary_id = h.bot.glossary_for(h.guild.id).id
    [added] = await h.bot.store.history.recent("docker", glossary_id=glossary_id)
    [changed] = await h.bot.store.history.recent("git", glossary_id=glossary_id)
    assert (added.source, added.before, added.actor_id) == ("import", None, h.moderator.id)
    assert changed.sections == ("definition",) and changed.actor_name == "Moderator"
    assert changed.before.definition.startswith("Git is a version control system")


async def test_cancel_imports_nothing(h, content_dir):
    reply = await import_file(h, "terms.csv", SHEET.encode())
    cancelled = await h.click("import:cancel", message=reply.message, member=h.moderator)
    assert cancelled.content == "Nothing was imported."
    assert not (content_dir / "docker.yaml").exists()


async def test_a_quizlet_export_imports_with_a_definition_only(h, content_dir):
    reply = await import_file(h, "flashcards.txt",
                              b"Kubernetes\tRuns containers across many machines.\n",
                              content_type="text/plain; charset=utf-8")
    assert "1 added" in reply.embeds[0]["description"]
    await (await h.click("import:confirm", message=reply.message,
                         member=h.moderator)).wait_edit()
    card = await h.slash("define", term="kubernetes")
    assert card.embeds[0]["description"] == "Runs containers across many machines."


@pytest.mark.parametrize(("name", "data", "problem"), [
    ("terms.csv", b"Term,Aliases\nDocker,containers\n",
     "terms.csv:1: definition: no such column"),
    ("terms.csv", "Term,Definition\nCaf\u00e9,Coffee.\n".encode("latin-1"),
     "terms.csv:2: file: is not UTF-8 text"),
    ("terms.csv", "Term,Definition\nDocker,Boxes.\n".encode("utf-16"),
     "terms.csv:1: file: is UTF-16 text"),
    ("terms.xlsx", b"PK\x03\x04\x00\x00binary", "terms.xlsx:1: file: is binary, not text"),
    ("terms.csv", b"Term,Definition\nDocker,Boxes.\ndocker,Crates.\n",
     "terms.csv:3: slug: 'docker' is also the slug of terms.csv:2"),
    ("terms.csv", b"Term,Definition,Aliases\nDocker,Boxes.,Git\n",
     "terms.csv:2: aliases: 'Git' collides with term 'git'"),
    ("terms.csv", b"Term,Definition\nDocker,\n", "terms.csv:2: definition: is empty"),
])
async def test_bad_files_get_the_clis_problems_and_no_import_button(h, content_dir, name,
                                                                    data, problem):
    reply = await import_file(h, name, data)
    description = reply.embeds[0]["description"]
    assert problem in description, description
    assert "Nothing was changed" in description
    assert reply.buttons == []
    assert not (content_dir / "docker.yaml").exists()


async def test_over_10000_rows_is_refused(h, content_dir):
    rows = "".join(f"Term {n},Definition {n}.\n" for n in range(MAX_ROWS + 1))
    reply = await import_file(h, "big.csv", ("Term,Definition\n" + rows).encode())
    assert "has 10,001 rows; an import takes at most 10,000" in reply.embeds[0]["description"]
    assert reply.buttons == []


async def test_over_5_mb_is_refused_before_it_is_downloaded(h):
    data = b"Term,Definition\n" + b"x" * MAX_SOURCE_BYTES
    reply = await import_file(h, "huge.csv", data)
    (embed,) = reply.embeds
    assert embed["title"] == "Too big to import"
    assert "an import takes at most 5,242,880" in embed["description"]
    assert downloads(h) == []


async def test_confirm_after_the_glossary_changed_shows_the_new_preview(h, content_dir):
    reply = await import_file(h, "terms.csv", SHEET.encode())
    git = content_dir / "git.yaml"  # someone edits git meanwhile, and reloads
    git.write_text(git.read_text().replace("category: tools", "category: workflow"))
    await reload_ok(h)
    stale = await (await h.click("import:confirm", message=reply.message,
                                 member=h.moderator)).wait_edit()
    description = stale["embeds"][0]["description"]
    assert description.startswith("The glossary changed since the preview")
    assert "1 added, 1 changed" in description
    assert not (content_dir / "docker.yaml").exists()  # the stale preview was not applied
    assert [b["label"] for b in reply.buttons] == ["Import", "Cancel"]  # a fresh preview
    done = await (await h.click("import:confirm", message=reply.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Imported terms.csv")
    assert "category: workflow" in git.read_text()  # the meanwhile edit is kept
    assert (content_dir / "docker.yaml").exists()


async def test_confirm_when_the_file_no_longer_changes_anything(h, content_dir):
    reply = await import_file(h, "terms.csv", SHEET.encode())
    first = await h.slash("glossary", "import", member=h.moderator,
                          options={"file": FakeUpload("terms.csv", SHEET.encode())})
    await first.wait_followup()
    await (await h.click("import:confirm", message=first.message,
                         member=h.moderator)).wait_edit()
    stale = await (await h.click("import:confirm", message=reply.message,
                                 member=h.moderator)).wait_edit()
    description = stale["embeds"][0]["description"]
    assert "0 added, 0 changed, 2 unchanged" in description
    assert stale["components"] == []


async def test_a_reload_that_refuses_the_result_puts_every_file_back(h, content_dir):
    git_before = (content_dir / "git.yaml").read_text()
    (content_dir / "broken.yaml").write_text("title: [unclosed\n")  # not reloaded yet
    reply = await import_file(h, "terms.csv", SHEET.encode())
    assert [b["label"] for b in reply.buttons] == ["Import", "Cancel"]
    done = await (await h.click("import:confirm", message=reply.message,
                                member=h.moderator)).wait_edit()
    assert [e["title"] for e in done["embeds"]] == ["Not imported", "Reload refused"]
    assert not (content_dir / "docker.yaml").exists()
    assert (content_dir / "git.yaml").read_text() == git_before
    card = await h.slash("define", term="git")
    assert card.embeds[0]["description"].startswith("Git is a version control system")
    assert await h.bot.store.history.recent("docker") == []


async def test_students_may_not_import(h, content_dir):
    reply = await h.slash("glossary", "import", member=h.student,
                          options={"file": FakeUpload("terms.csv", SHEET.encode())})
    assert reply.embeds[0]["title"] == "Moderators only"
    assert downloads(h) == []
    assert not (content_dir / "docker.yaml").exists()


async def test_a_database_only_glossary_imports_every_row_in_one_apply(db_bot, monkeypatch):
    h = db_bot
    reloader = h.bot.store.reloader("default")
    applied: list[dict] = []
    real_apply = reloader.apply

    async def counted(edits, expected, **options):
        applied.append(dict(expected))
        return await real_apply(edits, expected, **options)

    monkeypatch.setattr(reloader, "apply", counted)
    reply = await import_file(h, "terms.csv", SHEET.encode())
    (embed,) = reply.embeds
    assert "1 added, 1 changed, 0 unchanged, 0 error(s)" in embed["description"]
    assert [b["label"] for b in reply.buttons] == ["Import", "Cancel"]
    assert applied == []  # a preview writes nothing
    before = await h.slash("define", term="git")
    assert before.embeds[0]["description"] == "Git tracks versions."

    done = await (await h.click("import:confirm", message=reply.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Imported terms.csv: 1 added, 1 changed")
    assert done["embeds"][0]["title"] == "Glossary reloaded"
    # ONE apply for every row; the changed term's stored fingerprint is checked, the new
    # one must not exist yet.
    [expected] = applied
    assert expected["docker.yaml"] is None and expected["git.yaml"] is not None
    card = await h.slash("define", term="containers")
    assert card.embeds[0]["title"] == "Docker"
    git = await h.slash("define", term="git")
    assert git.embeds[0]["description"] == "Git keeps every version."
    [added] = await h.bot.store.history.recent("docker")
    [changed] = await h.bot.store.history.recent("git")
    assert (added.source, added.before, added.actor_id) == ("import", None, h.moderator.id)
    assert changed.sections == ("aliases", "definition")  # the sheet gives both
    assert changed.before.definition == "Git tracks versions."


async def test_a_database_only_import_after_an_edit_shows_the_new_preview(db_bot):
    h = db_bot
    reply = await import_file(h, "terms.csv", SHEET.encode())
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": "git", "section": "category"})
    shown = await h.submit_modal(form, {"text": "workflow"}, member=h.moderator)
    await (await h.click("authoring:save", message=shown.message,
                         member=h.moderator)).wait_edit()
    stale = await (await h.click("import:confirm", message=reply.message,
                                 member=h.moderator)).wait_edit()
    assert stale["embeds"][0]["description"].startswith("The glossary changed since")
    assert (await h.slash("define", term="docker")).embeds[0]["title"] == "Term not found"
    done = await (await h.click("import:confirm", message=reply.message,
                                member=h.moderator)).wait_edit()
    assert done["content"].startswith("Imported terms.csv")
    term = await h.bot.glossary_for(h.guild.id).term("git")
    assert term.category == "workflow" and term.definition == "Git keeps every version."
