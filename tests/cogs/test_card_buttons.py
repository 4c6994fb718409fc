"""The buttons any message may carry (a term, Back, Suggest a fix): the bot registers them,
so they work whichever cogs are loaded, and old messages' custom_ids keep working."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

from bot.client import GlossaryBot
from bot.config import Config
from bot.content import dump_term
from bot.store import Store
from tests.conftest import FIXED_NOW, make_term
from tests.support.harness import BotHarness, running_bot

CALLBACK_MESSAGE, CALLBACK_UPDATE, CALLBACK_MODAL = 4, 7, 9


@contextlib.asynccontextmanager
async def bot_with(config: Config, extensions: Sequence[str]) -> AsyncIterator[BotHarness]:
    async with await Store.open(config.database) as store:
        bot = GlossaryBot(config, store, extensions=extensions, clock=lambda: FIXED_NOW)
        async with running_bot(bot) as harness:
            yield harness


async def take_suggestions(h: BotHarness) -> None:
    """Name the moderators' channel without the moderation cog (it may not be loaded)."""
    await h.bot.store.records.update_guild_settings(h.guild.id, mod_channel_id=int(h.channel["id"]))


async def suggest(h: BotHarness, card_message: dict, problem: str = "Unclear.") -> dict:
    """Click Suggest a fix on a card, submit the form, and return what moderators got."""
    button = next(b for b in buttons_of(card_message) if b["label"] == "Suggest a fix")
    form = await h.click(button["custom_id"], message=card_message)
    assert form.type == CALLBACK_MODAL
    thanks = await h.submit_modal(form, {"section": "", "problem": problem, "proposal": ""})
    await thanks.wait_followup()
    assert "Thank you" in thanks.content
    (embed,) = h.channel_messages()[-1]["embeds"]
    return embed


def buttons_of(message: dict) -> list[dict]:
    return [b for row in message.get("components", []) for b in row["components"]]


async def test_term_buttons_on_search_results_need_only_the_bot(config: Config):
    """Only /search is loaded: its result buttons, the related and Back buttons of the
    card they open, and Suggest a fix all work through the bot's own registration."""
    async with bot_with(config, ["cogs.search"]) as h:
        await take_suggestions(h)
        results = await h.slash("search", query="migration history")
        opened = await h.click(results.buttons[0]["custom_id"], message=results.message)
        assert opened.type == CALLBACK_MESSAGE and opened.ephemeral
        assert opened.embeds[0]["title"] == "Migrations"
        related = next(b for b in opened.buttons if not b.get("disabled")
                       and b["label"] not in ("Back", "Suggest a fix"))
        moved = await h.click(related["custom_id"], message=opened.message)
        assert moved.type == CALLBACK_UPDATE and moved.embeds[0]["title"] == related["label"]
        back = next(b for b in moved.buttons if b["label"] == "Back")
        returned = await h.click(back["custom_id"], message=moved.message)
        assert returned.embeds[0]["title"] == "Migrations"
        embed = await suggest(h, returned.message)
        assert embed["title"] == "Suggested fix: Migrations"
        assert h.logged_errors == []


async def test_term_buttons_keep_working_when_the_define_cog_is_unloaded(start_bot):
    """They used to be registered (and removed) by /define although others send them."""
    async with start_bot() as h:
        card = await h.slash("define", term="backend", private=True)
        await h.bot.unload_extension("cogs.define")
        git = next(b for b in card.buttons if b["label"] == "Git")
        moved = await h.click(git["custom_id"], message=card.message)
        assert moved.type == CALLBACK_UPDATE and moved.embeds[0]["title"] == "Git"


async def test_custom_ids_of_old_messages_still_open_their_terms(h):
    """Written out by hand, not built by the code under test: a message posted by any
    earlier version carries exactly these, and must keep working after an upgrade."""
    new_private = await h.click("gl:n:git", message=None)
    assert new_private.type == CALLBACK_MESSAGE and new_private.ephemeral
    assert new_private.embeds[0]["title"] == "Git"
    from_public = await h.click("gl:t:prisma:backend", message=None)
    assert from_public.ephemeral and from_public.embeds[0]["title"] == "Prisma"
    back = await h.click("gl:b:backend", message=None)
    assert back.embeds[0]["title"] == "backend"
    page = await h.click("gl:s:0:database", message=None)
    assert page.type == CALLBACK_UPDATE
    assert page.embeds[0]["footer"]["text"].startswith("Results 1–")
    await take_suggestions(h)
    form = await h.click("gl:f:git", message=None)
    assert form.type == CALLBACK_MODAL and form.data["custom_id"].startswith("gl:fm:git:")


async def test_suggestions_name_the_real_file_in_a_custom_content_dir(tmp_path: Path,
                                                                      config: Config):
    """A ``.yml`` file under a content directory of the course's own naming: the
    moderators are told that file, not ``data/terms/<slug>.yaml``."""
    content = tmp_path / "course glossary"
    content.mkdir()
    (content / "docker.yml").write_text(dump_term(make_term("docker")), encoding="utf-8")
    (content / "kubernetes.yaml").write_text(
        dump_term(make_term("kubernetes", related=("docker",))), encoding="utf-8")
    async with bot_with(replace(config, content_dir=content), ["cogs.define"]) as h:
        await take_suggestions(h)
        card = await h.slash("define", term="Docker")
        embed = await suggest(h, card.message)
        assert embed["description"] == f"File: `{content / 'docker.yml'}`"
        card = await h.slash("define", term="kubernetes")
        embed = await suggest(h, card.message)
        assert re.fullmatch(r"File: `.*/course glossary/kubernetes\.yaml`", embed["description"])
