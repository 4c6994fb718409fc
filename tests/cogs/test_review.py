"""/review with FSRS, through the fake, from every place; a clock the test moves."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.cogs.study_support import (
    PLACES,
    MovableClock,
    button,
    click_in,
    lookups_counted,
    settled,
    slash_in,
)
from tests.conftest import FIXED_NOW, StartBot
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness

RATING = re.compile(r"gl:rv:(\w):([a-z0-9-]+):(\d+)")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(FIXED_NOW)


@pytest.fixture
async def h(start_bot: StartBot, clock: MovableClock, caplog: pytest.LogCaptureFixture
            ) -> AsyncIterator[BotHarness]:
    with caplog.at_level(logging.INFO, logger="cogs"):
        async with start_bot(clock=clock) as harness:
            yield harness
    unexpected = [r for r in caplog.records
                  if r.name.startswith(("bot", "cogs")) and r.levelno >= logging.ERROR]
    assert not unexpected, [r.getMessage() for r in unexpected]


def ratings(database: Any, user_id: int) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as raw:
        return raw.execute("SELECT slug, rating FROM study_ratings WHERE user_id = ? "
                           "ORDER BY rowid", (user_id,)).fetchall()


async def save(h: BotHarness, term: str, where: str = "server") -> None:
    card = await slash_in(h, where, "define", term=term)
    await settled(await click_in(h, where, button(card, "Save"), card.message))


async def review(h: BotHarness, where: str = "server") -> dict[str, Any]:
    return await settled(await slash_in(h, where, "review"))


@pytest.mark.parametrize("where", PLACES)
async def test_review_shows_the_term_then_the_answer_then_schedules(
    h: BotHarness, where: str, config: Any, clock: MovableClock,
) -> None:
    await save(h, "git", where)
    question = await review(h, where)
    (embed,) = question["embeds"]
    assert "Git" in embed["description"] and "1 due" in embed["title"]
    assert "fields" not in embed  # the answer is not shown yet
    answer = await settled(await click_in(h, where, button(question, "Show answer"), question))
    assert answer["embeds"][0]["title"] == "Git"
    assert [b["label"] for r in answer["components"] for b in r["components"]] == [
        "Again", "Hard", "Good", "Easy"]
    done = await settled(await click_in(h, where, button(answer, "Good"), answer))
    assert "All done for now" in done["embeds"][0]["description"]
    assert ratings(config.database, h.student.id) == [("git", 3)]
    clock.advance(minutes=11)  # FSRS's second learning step is ten minutes
    again = await review(h, where)
    assert "Git" in again["embeds"][0]["description"]


async def test_two_clicks_at_once_on_a_rating_count_once(h: BotHarness, config: Any) -> None:
    await save(h, "git")
    question = await review(h)
    answer = copy.deepcopy(await settled(
        await h.click(button(question, "Show answer"), message=question)))
    good = button(answer, "Good")
    clicks = await asyncio.gather(*(h.click(good, message=answer) for _ in range(2)))
    await asyncio.gather(*(settled(c) for c in clicks))
    assert ratings(config.database, h.student.id) == [("git", 3)]
    notes = [c.message["embeds"][0].get("footer", {}).get("text") for c in clicks]
    assert "That rating was already counted." in notes


async def test_a_review_button_from_yesterday_answers_for_today(
    h: BotHarness, config: Any, clock: MovableClock,
) -> None:
    await save(h, "git")
    question = copy.deepcopy(await review(h))  # the same message is edited in place
    answer = copy.deepcopy(await settled(
        await h.click(button(question, "Show answer"), message=question)))
    await settled(await h.click(button(answer, "Again"), message=answer))
    clock.advance(days=1)
    stale = await settled(await h.click(button(answer, "Easy"), message=answer))
    assert ratings(config.database, h.student.id) == [("git", 1)]  # Easy did not count
    (embed,) = stale["embeds"]
    assert embed["footer"]["text"] == "That rating was already counted."
    action, slug, reviews = RATING.fullmatch(button(stale, "Show answer")).groups()
    assert (slug, reviews) == ("git", "1")  # today's card, its state after Again
    old_show = await settled(await h.click(button(question, "Show answer"), message=question))
    assert old_show["embeds"][0]["footer"]["text"].startswith("That card was already reviewed")


async def test_review_buttons_keep_working_after_a_restart(
    start_bot: StartBot, clock: MovableClock, config: Any,
) -> None:
    async with FakeDiscord() as fake:
        async with start_bot(fake, clock=clock) as h:
            await save(h, "mysql")
            question = await review(h)
            show = button(question, "Show answer")
        async with start_bot(fake, clock=clock) as h:
            answer = await settled(await h.click(show))  # the old message, after a restart
            assert answer["embeds"][0]["title"] == "MySQL"
            await settled(await h.click(button(answer, "Hard"), message=answer))
            assert ratings(config.database, h.student.id) == [("mysql", 2)]


async def test_a_term_gone_from_the_glossary_leaves_the_review_with_a_note(
    h: BotHarness,
) -> None:
    now = FIXED_NOW.timestamp()
    await h.bot.store.study.enqueue(h.student.id, "ghost-term", "quiz", now - 60)
    await save(h, "git")
    question = await review(h)
    (embed,) = question["embeds"]
    assert "Git" in embed["description"]
    assert "“ghost-term” is no longer in the glossary" in embed["footer"]["text"]
    assert await h.bot.store.study.card(h.student.id, "ghost-term") is None


async def test_a_wrong_quiz_answer_joins_the_review_and_a_right_one_does_not(
    h: BotHarness, config: Any,
) -> None:
    quiz = await h.slash("quiz", "ask")
    await quiz.wait_followup()
    ids = [b["custom_id"] for b in quiz.buttons]
    with sqlite3.connect(config.database) as raw:
        (answer,) = raw.execute("SELECT answer FROM quizzes").fetchone()
    wrong = next(i for i in ids if not i.endswith(f":{answer}"))
    right = next(i for i in ids if i.endswith(f":{answer}"))
    await (await h.click(wrong, message=quiz.message)).wait_followup()
    other = h.member(username="other")
    await (await h.click(right, message=quiz.message, member=other)).wait_followup()
    term = await h.bot.store.glossary.term(answer)
    assert term.title in (await review(h))["embeds"][0]["description"]
    nothing = await settled(await slash_in(h, "server", "review", member=other))
    assert "empty" in nothing["embeds"][0]["description"]


@pytest.mark.parametrize("opted_in", [True, False])
async def test_terms_looked_up_twice_join_the_review_only_when_opted_in(
    h: BotHarness, opted_in: bool,
) -> None:
    if opted_in:
        await settled(await h.slash("study", "lookups", enabled=True))
    for _ in range(2):
        await slash_in(h, "dm", "define", term="prisma")
    if opted_in:
        await lookups_counted(h, h.student, "prisma", 2)
    else:
        await asyncio.sleep(0.2)  # time enough for a (wrong) count to land
    text = (await review(h))["embeds"][0]["description"]
    assert ("Prisma" in text) == opted_in


def dms_to(h: BotHarness, member: Any) -> list[dict[str, Any]]:
    channel = h.fake.dm_channel(member)
    return [h.fake.messages[i] for i in h.fake.channel_messages[int(channel["id"])]
            if i in h.fake.messages]


async def test_the_daily_reminder_comes_once_at_the_chosen_hour_when_cards_are_due(
    h: BotHarness, clock: MovableClock,
) -> None:
    reminders = h.bot.get_cog("Review")
    await settled(await slash_in(h, "dm", "study", "reminder", hour=9))
    clock.advance(hours=9, minutes=30)
    assert await reminders.send_reminders() == (0, 0)  # nothing due: no DM
    await save(h, "git", "dm")
    clock.advance(hours=-1)
    assert await reminders.send_reminders() == (0, 0)  # 08:30, not yet
    clock.advance(hours=1)
    assert await reminders.send_reminders() == (1, 0)
    assert "1 glossary card due" in dms_to(h, h.student)[-1]["content"]
    clock.advance(hours=2)
    assert await reminders.send_reminders() == (0, 0)  # once a day
    clock.advance(days=1)
    assert await reminders.send_reminders() == (1, 0)


async def test_a_student_who_blocks_dms_gets_one_try_a_day_then_none(
    h: BotHarness, clock: MovableClock, caplog: pytest.LogCaptureFixture,
) -> None:
    reminders = h.bot.get_cog("Review")
    await save(h, "git")
    await settled(await h.slash("study", "reminder", hour=0))
    h.fake.fail_next("POST", r"/channels/\d+/messages", status=403, times=100,
                     body={"message": "Cannot send messages to this user", "code": 50007})
    posts = len(h.requests("POST", r"/channels/\d+/messages"))
    for _day in range(3):
        assert await reminders.send_reminders() == (0, 1)
        for _minute in range(5):  # the loop ticks every minute: no retry today
            clock.advance(minutes=1)
            assert await reminders.send_reminders() == (0, 0)
        clock.advance(days=1)
    assert await reminders.send_reminders() == (0, 0)  # three failed days: stopped
    assert len(h.requests("POST", r"/channels/\d+/messages")) - posts <= 3
    assert (await h.bot.store.study.settings(h.student.id)).reminder_hour is None
    shown = await settled(await h.slash("mydata", "show"))
    assert "off" in {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}["Reminder"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith("cogs")]
