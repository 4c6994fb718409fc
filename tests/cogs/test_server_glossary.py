"""/glossary create: a server's own database-only glossary, when the operator allows it,
and the operator's ``glossary-bot glossaries list|export|remove``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.content import read_term_file
from tests.conftest import BUNDLED_COUNT
from tests.support.fake_discord import FakeDiscord

CALLBACK_MODAL = 9


async def create(h, name, start="copy", member=None):
    reply = await h.slash("glossary", "create", member=member or h.moderator,
                          options={"name": name, "start": start})
    if reply.loading or not reply.embeds:
        await reply.wait_followup()
    return reply


def said(reply) -> str:
    followups = reply.followup_messages
    body = followups[-1] if followups else {"content": reply.content, "embeds": reply.embeds}
    return (body.get("content") or "") + " ".join(
        (e.get("title") or "") + " " + (e.get("description") or "") for e in body.get(
            "embeds") or [])


async def test_refused_unless_the_operator_allows_it(h):
    reply = await create(h, "mine")
    assert reply.ephemeral and "has not allowed" in said(reply)
    assert await h.bot.store.server_glossaries.all() == []


async def test_a_copy_is_edited_in_the_database_and_the_files_stay_as_they_were(
        start_bot, content_dir):
    before = (content_dir / "git.yaml").read_text()
    async with start_bot(allow_server_glossaries=True) as h:
        reply = await create(h, "web-2026")
        assert f"a copy of **default** ({BUNDLED_COUNT} terms)" in said(reply)
        card = await h.slash("define", term="git")
        assert card.embeds[0]["title"] == "Git"
        assert h.bot.glossary_for(h.guild.id).name == "web-2026"
        form = await h.slash("glossary", "edit", member=h.moderator,
                             options={"term": "git", "section": "definition"})
        assert form.type == CALLBACK_MODAL
        shown = await h.submit_modal(form, {"text": "Our own words for git."},
                                     member=h.moderator)
        saved = await (await h.click("authoring:save", message=shown.message,
                                     member=h.moderator)).wait_edit()
        assert saved["content"] == "Saved: Definition of **Git**."
        card = await h.slash("define", term="git")
        assert card.embeds[0]["description"] == "Our own words for git."
        found = await h.slash("search", query="own words")
        assert "Git" in str(found.embeds)  # the copy's full-text index follows the edit
    assert (content_dir / "git.yaml").read_text() == before
    assert "Our own words" not in before


async def test_an_empty_one_starts_empty_and_survives_a_restart(start_bot):
    async with FakeDiscord() as fake:
        async with start_bot(fake, allow_server_glossaries=True) as h:
            reply = await create(h, "fresh", start="empty")
            assert "empty" in said(reply)
            gone = await h.slash("define", term="git")
            assert gone.embeds[0]["title"] == "Term not found"
            form = await h.slash("glossary", "add", member=h.moderator)
            shown = await h.submit_modal(form, {
                "title": "Kettle", "definition": "A kettle boils water.",
                "why_it_matters": "", "category": "", "aliases": ""}, member=h.moderator)
            await (await h.click("authoring:save", message=shown.message,
                                 member=h.moderator)).wait_edit()
        async with start_bot(fake) as again:  # allowed or not, it is the server's now
            card = await again.slash("define", term="kettle")
            assert card.embeds[0]["title"] == "Kettle"
            assert (await again.slash("define", term="git")).embeds[0]["title"] == (
                "Term not found")


async def test_friendly_refusals(start_bot):
    async with start_bot(allow_server_glossaries=True) as h:
        assert "taken" in said(await create(h, "default"))
        assert "1-32 letters" in said(await create(h, "no spaces"))
        student = await create(h, "mine", member=h.student)
        assert student.embeds[0]["title"] == "Moderators only"
        assert "a copy of" in said(await create(h, "mine"))
        second = said(await create(h, "another"))
        assert "has its own glossary already: **mine**" in second
        assert [g.name for g in await h.bot.store.server_glossaries.all()] == ["mine"]


def titles(reply) -> list[str]:
    followups = reply.followup_messages
    embeds = (followups[-1] if followups else {"embeds": reply.embeds}).get("embeds") or []
    return [e.get("title") for e in embeds]


async def test_each_refusal_has_its_own_title_and_says_nothing_changed(start_bot):
    async with start_bot() as h:
        off = await create(h, "mine")
        assert titles(off) == ["Not allowed on this bot"]
        assert "Nothing was created" in said(off)
    async with start_bot(allow_server_glossaries=True) as allowed:
        assert titles(await create(allowed, "default")) == ["That name is taken"]
        assert titles(await create(allowed, "no spaces")) == ["Choose another name"]
        await create(allowed, "mine")
        second = await create(allowed, "another")  # refused inside the store's transaction
        assert titles(second) == ["This server has its own glossary"]
        assert second.ephemeral and "That did not work" not in said(second)


def test_the_operator_lists_exports_and_removes_them(start_bot, config, tmp_path, capsys):
    import asyncio

    async def make() -> int:
        async with start_bot(allow_server_glossaries=True) as h:
            await create(h, "school-a")
            return h.guild.id

    guild_id = asyncio.run(make())
    path = tmp_path / "config.toml"
    path.write_text(f'content_dir = "{config.content_dir}"\ndatabase = "{config.database}"\n')
    assert load_config(path).database == config.database
    assert main(["glossaries", "list", "--config", str(path)]) == 0
    listed = capsys.readouterr().out
    assert f"school-a: {BUNDLED_COUNT} term(s); database only, made in server {guild_id}" in (
        listed)
    out = tmp_path / "exported"
    out.mkdir()
    assert main(["glossaries", "export", "school-a", "--out", str(out),
                 "--config", str(path)]) == 0
    files = sorted(out.glob("*.yaml"))
    assert len(files) == BUNDLED_COUNT
    assert not read_term_file(out / "git.yaml").problems
    assert main(["glossaries", "remove", "school-a", "--config", str(path)]) == 0
    assert "Nothing was removed" in capsys.readouterr().out  # no --yes, no terminal
    assert main(["glossaries", "remove", "school-a", "--yes", "--config", str(path)]) == 0
    assert "Removed glossary 'school-a'" in capsys.readouterr().out
    assert main(["glossaries", "--config", str(path)]) == 0
    assert "school-a" not in capsys.readouterr().out
    assert main(["glossaries", "remove", "school-a", "--yes", "--config", str(path)]) == 2


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_env_overrides_switch_them_on(tmp_path: Path, value: str):
    path = tmp_path / "config.toml"
    path.write_text("allow_server_glossaries = false\ncommit_edits = true\n")
    assert load_config(path, environ={}).commit_edits is True
    config = load_config(path, environ={
        "GLOSSARY_ALLOW_SERVER_GLOSSARIES": value, "GLOSSARY_COMMIT_EDITS": "false"})
    assert config.allow_server_glossaries is True and config.commit_edits is False


def test_a_wrong_env_value_is_a_clear_error(tmp_path: Path):
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="GLOSSARY_COMMIT_EDITS must be true or false"):
        load_config(None, environ={"GLOSSARY_COMMIT_EDITS": "maybe"})
