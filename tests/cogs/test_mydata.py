"""A student's data is theirs: /mydata show and delete; moderators see class sums only."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.cogs.study_support import (
    PLACES,
    button,
    click_in,
    lookups_counted,
    settled,
    slash_in,
)
from tests.support.harness import BotHarness

STUDENT_TABLES = ("study_saved", "study_cards", "study_ratings", "study_lookups",
                  "study_students", "quiz_answers", "quiz_scores")


def rows_about(database: Any, user_id: int) -> dict[str, int]:
    with sqlite3.connect(database) as raw:
        return {table: raw.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?",  # noqa: S608
                                   (user_id,)).fetchone()[0] for table in STUDENT_TABLES}


async def study_a_little(h: BotHarness, member: Any, where: str = "server") -> None:
    """Save a term, rate it Again, opt in to lookups, set a reminder, miss a quiz."""
    card = await slash_in(h, where, "define", term="git", member=member)
    await settled(await click_in(h, where, button(card, "Save"), card.message, member=member))
    await settled(await slash_in(h, where, "study", "lookups", enabled=True, member=member))
    await settled(await slash_in(h, where, "study", "reminder", hour=8, member=member))
    question = await settled(await slash_in(h, where, "review", member=member))
    answer = await settled(await click_in(h, where, button(question, "Show answer"), question,
                                          member=member))
    await settled(await click_in(h, where, button(answer, "Again"), answer, member=member))
    await slash_in(h, where, "define", term="git", member=member)
    await lookups_counted(h, member, "git", 1)


@pytest.mark.parametrize("where", PLACES)
async def test_mydata_shows_everything_and_delete_removes_it_after_confirming(
    h: BotHarness, config: Any, where: str,
) -> None:
    await study_a_little(h, h.student, where)
    other = h.member(username="other")
    await study_a_little(h, other)
    shown = await settled(await slash_in(h, where, "mydata", "show"))
    fields = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
    assert fields["Saved terms (1)"] == "Git"
    assert fields["Review"].startswith("1 cards") and "1 ratings" in fields["Review"]
    assert fields["Reminder"].startswith("daily at 8:00")
    assert fields["Lookups counted"] == "1"
    ask = await slash_in(h, where, "mydata", "delete")
    assert ask.ephemeral and rows_about(config.database, h.student.id)["study_saved"] == 1
    cancelled = await settled(await click_in(h, where, button(ask, "Cancel"), ask.message))
    assert cancelled["content"] == "Nothing was deleted."
    assert rows_about(config.database, h.student.id)["study_cards"] == 1
    await h.bot.store.suggestions.add(int(h.guild.id), "git", "Git", h.student.id, "Student",
                                      "Definition", "A typo.", "")
    ask = await slash_in(h, where, "mydata", "delete")
    done = await settled(await click_in(h, where, button(ask, "Delete everything"),
                                        ask.message))
    assert done["content"].startswith("🗑️ Done")
    assert set(rows_about(config.database, h.student.id).values()) == {0}
    assert rows_about(config.database, other.id)["study_saved"] == 1  # only theirs went
    with sqlite3.connect(config.database) as raw:  # their suggestion stays, nameless
        assert raw.execute("SELECT author_id, author_name FROM suggestions").fetchall() == [
            (0, "a former student")]
    await slash_in(h, where, "define", term="git")  # lookups no longer counted
    assert rows_about(config.database, h.student.id)["study_lookups"] == 0


async def test_moderators_see_the_hardest_terms_as_class_sums(h: BotHarness) -> None:
    for n in range(3):
        await study_a_little(h, h.member(username=f"student{n}"))
    reply = await h.slash("glossary", "stats", member=h.moderator)
    await reply.wait_followup()
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert "**Git**: missed or “Again” 3×" in fields["Hardest for the class"]
    assert "student0" not in str(reply.embeds)
