"""Save for later and /mylist, from every place a student may be."""

from __future__ import annotations

import pytest

from tests.cogs.study_support import PLACES, button, click_in, settled, slash_in
from tests.support.harness import BotHarness


async def saved_titles(h: BotHarness, where: str = "server") -> list[str]:
    reply = await slash_in(h, where, "mylist")
    await reply.wait_followup()
    (embed,) = reply.embeds
    text = embed.get("description", "")
    return [] if text.startswith("Nothing saved") else [
        line.split(". ", 1)[1] for line in text.splitlines()]


@pytest.mark.parametrize("where", PLACES)
async def test_save_toggles_privately_and_lists_the_term(h: BotHarness, where: str) -> None:
    card = await slash_in(h, where, "define", term="backend")
    saved = await click_in(h, where, button(card, "Save"), card.message)
    await saved.wait_followup()
    assert saved.ephemeral and "Saved" in saved.message["content"]
    assert await saved_titles(h, where) == ["backend"]
    unsaved = await click_in(h, where, button(card, "Save"), card.message)
    await unsaved.wait_followup()
    assert "Removed" in unsaved.message["content"]
    assert await saved_titles(h, where) == []


async def test_one_students_save_is_not_anothers(h: BotHarness) -> None:
    card = await h.slash("define", term="backend")
    await (await h.click(button(card, "Save"), message=card.message)).wait_followup()
    other = h.member(username="other")
    reply = await slash_in(h, "server", "mylist", member=other)
    await reply.wait_followup()
    assert reply.embeds[0]["description"].startswith("Nothing saved")


async def test_mylist_opens_removes_and_clears(h: BotHarness) -> None:
    for term in ("backend", "git", "mysql"):
        card = await h.slash("define", term=term)
        await (await h.click(button(card, "Save"), message=card.message)).wait_followup()
    message = await settled(await h.slash("mylist"))
    opened = await h.click(button(message, "Git"), message=message)
    assert opened.embeds[0]["title"] == "Git" and opened.ephemeral
    message = await settled(await h.click(button(message, "✖ Git"), message=message))
    assert "Git" not in message["embeds"][0]["description"]
    assert await saved_titles(h) == ["backend", "MySQL"]
    message = await settled(await h.click(button(message, "Clear the list"), message=message))
    message = await settled(await h.click(button(message, "Yes, remove all"), message=message))
    assert message["embeds"][0]["description"].startswith("Nothing saved")
    assert await saved_titles(h) == []


async def test_a_saved_term_that_left_the_glossary_says_so_and_leaves_the_list(
    h: BotHarness,
) -> None:
    card = await h.slash("define", term="backend")
    await (await h.click(button(card, "Save"), message=card.message)).wait_followup()
    await h.bot.store.study.toggle_saved(h.student.id, "ghost-term", "Ghost Term", 0.0)
    reply = await h.slash("mylist")
    await reply.wait_followup()
    (embed,) = reply.embeds
    assert "Ghost Term** was removed" in embed["fields"][0]["value"]
    assert await saved_titles(h) == ["backend"]  # and it is gone the next time


async def test_the_save_button_of_an_old_card_works_after_a_restart(start_bot) -> None:
    async with start_bot() as h:
        saved = await h.click("gl:sv:git")  # a message the bot never sent (before a restart)
        await saved.wait_followup()
        assert "Saved" in saved.message["content"]
        assert await saved_titles(h) == ["Git"]


async def test_a_saved_term_that_was_renamed_names_its_new_title_and_leaves(
    h: BotHarness,
) -> None:
    # "node" was a term of its own once; it is now an alias of NodeJS.
    await h.bot.store.study.toggle_saved(h.student.id, "node", "Node", 0.0)
    message = await settled(await h.slash("mylist"))
    (field,) = message["embeds"][0]["fields"]
    assert "**Node** is now called **NodeJS**" in field["value"]
    assert await saved_titles(h) == []
