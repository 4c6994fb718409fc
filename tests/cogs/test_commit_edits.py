"""``commit_edits = true``: each edit saved from Discord is a git commit of that one file,
authored by the editor, in a real temporary repository; a failing git leaves the edit
saved and says so."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from bot.config import load_config
from bot.git_commits import author
from bot.glossaries import GlossarySpec
from tests.cogs.test_history import open_history, restore_choices
from tests.cogs.test_importing import SHEET, import_file

CALLBACK_MODAL = 9


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(content_dir: Path) -> Path:
    """The content directory as a git work tree with everything committed, and no
    identity configured (as on a fresh server)."""
    git(content_dir, "init", "--quiet")
    git(content_dir, "add", "--all")
    git(content_dir, "-c", "user.name=Teacher", "-c", "user.email=teacher@school",
        "commit", "--quiet", "-m", "The glossary")
    return content_dir


async def save_edit(h, text: str, term: str = "git") -> dict:
    form = await h.slash("glossary", "edit", member=h.moderator,
                         options={"term": term, "section": "definition"})
    assert form.type == CALLBACK_MODAL
    shown = await h.submit_modal(form, {"text": text}, member=h.moderator)
    return await (await h.click("authoring:save", message=shown.message,
                                member=h.moderator)).wait_edit()


async def test_an_edit_is_one_commit_of_that_file_by_the_editor(start_bot, repo):
    (repo / "api.yaml").write_text((repo / "api.yaml").read_text() + "# a hand edit\n")
    async with start_bot(commit_edits=True) as h:
        saved = await save_edit(h, "Git keeps every version.")
        assert saved["content"].startswith("Saved: Definition of **Git**.\nCommitted to git as")
        head = git(repo, "rev-parse", "--short", "HEAD")
        assert f"`{head}`" in saved["content"]
    assert git(repo, "log", "-1", "--format=%ae|%s") == (
        f"{h.moderator.id}@discord|Glossary: edit Git (definition)")
    assert git(repo, "log", "-1", "--format=%an") != ""
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "git.yaml"
    assert git(repo, "status", "--porcelain") == "M api.yaml"  # the hand edit stays theirs
    assert "Git keeps every version." in git(repo, "show", "HEAD:git.yaml")


async def test_adding_and_removing_are_commits_too(start_bot, repo):
    async with start_bot(commit_edits=True) as h:
        form = await h.slash("glossary", "add", member=h.moderator)
        shown = await h.submit_modal(form, {
            "title": "Docker", "definition": "Docker runs apps in containers.",
            "why_it_matters": "", "category": "", "aliases": ""}, member=h.moderator)
        added = await (await h.click("authoring:save", message=shown.message,
                                     member=h.moderator)).wait_edit()
        assert "Committed to git" in added["content"]
        confirm = await h.slash("glossary", "remove", member=h.moderator,
                                options={"term": "git"})
        removed = await (await h.click("authoring:remove", message=confirm.message,
                                       member=h.moderator)).wait_edit()
        assert "Committed to git" in removed["content"]
    assert git(repo, "log", "-2", "--format=%s") == (
        "Glossary: remove Git\nGlossary: add Docker")
    assert git(repo, "status", "--porcelain") == ""
    assert "docker.yaml" in git(repo, "ls-files") and "git.yaml" not in git(repo, "ls-files")


async def test_a_failing_git_keeps_the_edit_and_tells_the_editor(start_bot, repo, caplog):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by the course hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = git(repo, "rev-parse", "HEAD")
    with caplog.at_level(logging.WARNING, logger="bot.git_commits"):
        async with start_bot(commit_edits=True) as h:
            saved = await save_edit(h, "Saved anyway.")
            card = await h.slash("define", term="git")
    assert "Saved, but not committed to git" in saved["content"]
    assert "refused by the course hook" in saved["content"]
    assert card.embeds[0]["description"] == "Saved anyway."
    assert "Saved anyway." in (repo / "git.yaml").read_text()
    assert git(repo, "rev-parse", "HEAD") == before
    assert any("not committed" in r.getMessage() for r in caplog.records)


async def test_off_by_default_and_per_glossary(start_bot, repo, tmp_path):
    before = git(repo, "rev-parse", "HEAD")
    async with start_bot() as h:
        assert (await save_edit(h, "Not committed."))["content"] == (
            "Saved: Definition of **Git**.")
    own_say = (GlossarySpec("default", "VCA", repo, commit_edits=False),)
    async with start_bot(commit_edits=True, glossaries=own_say) as h:
        assert (await save_edit(h, "Not committed either."))["content"] == (
            "Saved: Definition of **Git**.")
    assert git(repo, "rev-parse", "HEAD") == before
    path = tmp_path / "config.toml"
    path.write_text(f'content_dir = "{repo}"\ncommit_edits = true\n'
                    '[glossaries.default]\ncommit_edits = false\n')
    loaded = load_config(path, environ={})
    assert loaded.commit_edits is True and loaded.glossary_map.default.commit_edits is False


async def test_a_directory_that_is_not_a_work_tree_just_saves(start_bot, content_dir):
    async with start_bot(commit_edits=True) as h:
        saved = await save_edit(h, "No repository here.")
    assert saved["content"] == "Saved: Definition of **Git**."


def test_author_names_git_can_hold():
    assert author("Ms <Smith>\n", 42) == "Ms Smith <42@discord>"
    assert author("<>", 7) == "7 <7@discord>"


async def test_an_applied_suggestion_is_committed_by_the_editor_who_applied_it(
        start_bot, repo):
    async with start_bot(commit_edits=True) as h:
        setup = await h.slash("glossary", "settings", member=h.moderator,
                              moderators_channel=h.channel)
        await setup.wait_followup()
        form = await h.click("gl:f:git", member=h.student)
        thanks = await h.submit_modal(form, {"section": "Definition", "problem": "Vague.",
                                             "proposal": "Git remembers."}, member=h.student)
        await thanks.wait_followup()
        post = h.channel_messages()[-1]
        apply_id = post["components"][0]["components"][0]["custom_id"]
        said = await (await h.click(apply_id, message=post, member=h.moderator)
                      ).wait_followup()
        assert "Committed to git" in said["content"]
    assert git(repo, "log", "-1", "--format=%ae|%s") == (
        f"{h.moderator.id}@discord|Glossary: apply a suggestion to Git (definition)")


async def test_an_import_is_one_commit_of_every_file_it_wrote(start_bot, repo):
    (repo / "api.yaml").write_text((repo / "api.yaml").read_text() + "# a hand edit\n")
    before = git(repo, "rev-parse", "HEAD")
    async with start_bot(commit_edits=True) as h:
        reply = await import_file(h, "terms.csv", SHEET.encode())
        done = await (await h.click("import:confirm", message=reply.message,
                                    member=h.moderator)).wait_edit()
        assert done["content"].startswith("Imported terms.csv: 1 added, 1 changed")
        assert "Committed to git as" in done["content"]
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert git(repo, "log", "-1", "--format=%ae|%s") == (
        f"{h.moderator.id}@discord|Glossary: import terms.csv (1 added, 1 changed)")
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        "docker.yaml", "git.yaml"]
    assert git(repo, "status", "--porcelain") == "M api.yaml"  # the hand edit stays theirs


async def test_a_restore_is_one_commit_by_the_editor(start_bot, repo):
    async with start_bot(commit_edits=True) as h:
        await save_edit(h, "Git keeps every version.")
        listed = await open_history(h)
        shown = await h.click("history:restore", message=listed.message, member=h.moderator,
                              values=[restore_choices(listed)[0]["value"]])
        done = await (await h.click("history:save", message=shown.message,
                                    member=h.moderator)).wait_edit()
        assert "Committed to git as" in done["content"]
    assert git(repo, "log", "-2", "--format=%ae|%s") == (
        f"{h.moderator.id}@discord|Glossary: restore Git (definition)\n"
        f"{h.moderator.id}@discord|Glossary: edit Git (definition)")
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "git.yaml"
    assert git(repo, "status", "--porcelain") == ""
