"""/quiz: public questions, one private answer per member, scores, and restarts."""

from __future__ import annotations

import random
import re
import sqlite3

from bot.errors import NotEnoughTerms
from tests.support.fake_discord import EPHEMERAL, FakeDiscord
from tests.support.harness import BotHarness

QUIZ_ID = re.compile(r"gl:q:(\d+):([a-z0-9-]+)")


async def ask(h: BotHarness, seed: int, **options: str):
    h.bot.get_cog("Quiz").rng = random.Random(seed)
    reply = await h.slash("quiz", "ask", **options)
    await reply.wait_followup()
    return reply


def answer_of(database, custom_id: str) -> str:
    quiz_id = int(QUIZ_ID.fullmatch(custom_id)[1])
    with sqlite3.connect(database) as raw:
        return raw.execute("SELECT answer FROM quizzes WHERE id = ?", (quiz_id,)).fetchone()[0]


async def test_quiz_is_public_and_each_member_answers_once(h, config):
    quiz = await ask(h, seed=1)
    assert not quiz.ephemeral
    ids = [b["custom_id"] for b in quiz.buttons]
    slugs = [QUIZ_ID.fullmatch(i)[2] for i in ids]
    assert len(ids) == 4 and len(set(slugs)) == 4
    answer = answer_of(config.database, ids[0])
    assert answer in slugs
    right = next(i for i in ids if i.endswith(f":{answer}"))
    wrong = next(i for i in ids if not i.endswith(f":{answer}"))

    first = await h.click(right, message=quiz.message, member=h.student)
    await first.wait_followup()
    assert first.ephemeral
    result, card = first.embeds
    assert result["title"] == "✅ Correct!"
    assert card["description"]  # the correct card comes with it
    again = await h.click(wrong, message=quiz.message, member=h.student)
    await again.wait_followup()
    assert again.embeds[0]["title"] == "You already answered this one"
    classmate = h.member(username="sam")
    other = await h.click(wrong, message=quiz.message, member=classmate)
    await other.wait_followup()
    assert other.embeds[0]["title"] == "❌ Not quite"

    board = await h.slash("quiz", "leaderboard")
    lines = board.embeds[0]["description"].splitlines()
    assert lines == [f"🥇 <@{h.student.id}> — 1 right of 1", f"🥈 <@{classmate.id}> — 0 right of 1"]
    assert board.allowed_mentions == {"parse": []}


async def test_questions_hide_the_answer_and_use_the_category(h, config):
    for seed in range(6):
        quiz = await ask(h, seed=seed, category="databases")
        ids = [b["custom_id"] for b in quiz.buttons]
        slugs = {QUIZ_ID.fullmatch(i)[2] for i in ids}
        assert len(slugs) == 4
        assert {(await h.bot.store.glossary.term(s)).category for s in slugs} == {"databases"}
        answer = answer_of(config.database, ids[0])
        term = await h.bot.store.glossary.term(answer)
        text = " ".join([quiz.embeds[0].get("description", "")] +
                        [f["value"] for f in quiz.embeds[0].get("fields", [])])
        assert term.title.casefold() not in text.casefold() or quiz.embeds[0]["title"].endswith(
            f"“{term.title}” mean?")


async def test_unknown_category_is_a_friendly_error(h):
    reply = await h.slash("quiz", "ask", category="astronomy")
    assert reply.ephemeral
    assert "no terms in the category" in reply.embeds[0]["description"]


async def test_quiz_buttons_work_after_a_restart(start_bot, config):
    async with FakeDiscord() as fake:
        async with start_bot(fake) as first:
            quiz = await ask(first, seed=3)
            ids = [b["custom_id"] for b in quiz.buttons]
        answer = answer_of(config.database, ids[0])
        async with start_bot(fake) as second:
            clicked = await second.click(next(i for i in ids if i.endswith(f":{answer}")),
                                         message=None)
            await clicked.wait_followup()
            assert clicked.embeds[0]["title"] == "✅ Correct!"


async def test_an_error_after_the_public_defer_is_shown_only_to_the_asker(h, monkeypatch):
    async def refuse(*args, **kwargs):
        raise NotEnoughTerms("The quiz could not be saved; try again.")

    monkeypatch.setattr(h.bot.store.records, "create_quiz", refuse)
    reply = await h.slash("quiz", "ask")
    await reply.wait_followup()
    assert reply.original_deleted  # the public "thinking…" message is gone
    [error] = reply.followup_messages
    assert int(error.get("flags") or 0) & EPHEMERAL
    assert error["embeds"][0]["description"] == "The quiz could not be saved; try again."
    public = [m for m in h.channel_messages() if not int(m.get("flags") or 0) & EPHEMERAL]
    assert not any("could not be saved" in str(m.get("embeds")) for m in public)


async def test_answer_on_a_long_card_fits_one_message(h, content_dir):
    """The verdict and the answer's full card go in one message: together they must stay
    within Discord's 6,000 characters, or the student sees "Something went wrong"."""
    from bot.content import dump_term
    from tests.cogs.conftest import reload_ok
    from tests.conftest import make_term

    prose = " ".join(["explanation"] * 600)
    (content_dir / "huge.yaml").write_text(dump_term(make_term(
        "huge", definition=prose, why_it_matters=prose, course_example=prose,
        real_world_example=prose, common_mistakes=(prose[:900],),
    )))
    await reload_ok(h)
    choices = ("huge", "git", "nodejs", "mysql")
    quiz = await h.bot.store.records.create_quiz(h.guild.id, "huge", choices, "name")
    reply = await h.click(f"gl:q:{quiz.id}:huge", member=h.student)
    await reply.wait_followup()
    result, card = reply.embeds
    assert result["title"] == "✅ Correct!"
    total = sum(len(e.get("title", "")) + len(e.get("description", ""))
                + len((e.get("footer") or {}).get("text", ""))
                + sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", []))
                for e in (result, card))
    assert 5000 < total <= 6000
    again = await h.slash("define", term="huge")  # the cached card itself is not cut
    assert len(again.embeds[0]["description"]) > len(card["description"]) or (
        len(again.embeds[0]["fields"][0]["value"]) > len(card["fields"][0]["value"]))
