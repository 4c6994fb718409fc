"""Store support for class-server features: settings, quizzes, term of the day, mentions."""

from __future__ import annotations

import pytest

from bot.errors import QuizNotFound
from bot.models import GuildSettings
from bot.store import Store

GUILD = 1234


async def test_settings_default_persist_and_survive_a_reopen(tmp_path, write_term, terms_dir,
                                                             backend):
    path = tmp_path / "settings.sqlite3"
    write_term("alpha")
    async with await Store.open(path, database_url=backend) as store:
        assert await store.records.guild_settings(GUILD) == GuildSettings(GUILD)
        await store.records.update_guild_settings(GUILD, define_private=True, daily_channel_id=55)
        updated = await store.records.update_guild_settings(GUILD, daily_hour=7)
        assert (updated.define_private, updated.daily_channel_id, updated.daily_hour) == (
            True, 55, 7)
        await store.reloads.reload(terms_dir)
    async with await Store.open(path, database_url=backend) as reopened:
        assert await reopened.records.guild_settings(GUILD) == updated
        assert [s.guild_id for s in await reopened.records.daily_settings()] == [GUILD]
        assert await reopened.records.guild_settings(999) == GuildSettings(999)


async def test_a_quiz_is_answered_once_per_member(bundled_shared_store):
    store = bundled_shared_store
    quiz = await store.records.create_quiz(
        GUILD, "git", ["git", "mysql", "prisma", "server"], "name")
    first = await store.records.answer_quiz(quiz.id, 1, "mysql")
    assert (first.correct, first.already_answered) == (False, False)
    again = await store.records.answer_quiz(quiz.id, 1, "git")
    assert (again.chosen, again.correct, again.already_answered) == ("mysql", False, True)
    assert (await store.records.answer_quiz(quiz.id, 2, "git")).correct
    second_quiz = await store.records.create_quiz(GUILD, "mysql", ["git", "mysql", "prisma",
                                                                   "server"], "definition")
    await store.records.answer_quiz(second_quiz.id, 2, "mysql")
    board = await store.records.leaderboard(GUILD)
    assert [(s.user_id, s.correct, s.answered) for s in board] == [(2, 2, 2), (1, 0, 1)]
    assert await store.records.leaderboard(GUILD + 1) == []
    with pytest.raises(QuizNotFound):
        await store.records.answer_quiz(10_000, 1, "git")


async def test_quiz_material_prefers_the_category(bundled_store):
    answer, same, others = await bundled_store.glossary.quiz_material("databases")
    assert answer is not None and answer.category == "databases"
    assert same and all(t.category == "databases" and t.slug != answer.slug for t in same)
    assert len(others) >= 4 and answer.slug not in {t.slug for t in others}
    assert "databases" in await bundled_store.glossary.categories()


async def test_without_a_category_the_wrong_choices_share_the_answers(bundled_store):
    """No category asked for: the distractors still come from the answer's category."""
    for _ in range(20):
        answer, same, _others = await bundled_store.glossary.quiz_material(None)
        assert answer is not None
        expected = {t.slug for t in await bundled_store.glossary.all_terms()
                    if t.category == answer.category and t.slug != answer.slug}
        assert {t.slug for t in same} <= expected
        assert len(same) == min(len(expected), 12)  # a sample, never a whole big category


async def test_quiz_material_of_an_unknown_category_is_empty(bundled_store):
    assert await bundled_store.glossary.quiz_material("no such category") == (None, [], [])


async def test_term_of_the_day_never_twice_a_day_and_cycles_through_all(bundled_shared_store):
    store = bundled_shared_store
    count = await store.glossary.term_count()
    posted = []
    for day in range(count):
        slug = await store.records.claim_daily_term(GUILD, f"2026-01-{day + 1:02d}")
        assert slug is not None
        assert await store.records.claim_daily_term(GUILD, f"2026-01-{day + 1:02d}") is None
        posted.append(slug)
    assert len(set(posted)) == count  # every term once before any repeats
    assert await store.records.claim_daily_term(GUILD, "2026-02-01") is not None
    await store.records.release_daily_term(GUILD, "2026-02-01")
    assert await store.records.claim_daily_term(GUILD, "2026-02-01") is not None


async def test_mentions_follow_reloads(store, write_term, terms_dir):
    write_term("api-routes", title="API routes")
    write_term("api", title="API")
    await store.reloads.reload(terms_dir)
    assert await store.glossary.mentioned_terms("the api-routes and the API") == [
        ("api-routes", "API routes"), ("api", "API")]
    write_term("webhook", title="Webhook")
    await store.reloads.reload(terms_dir)
    assert await store.glossary.mentioned_terms("a WebHook!") == [("webhook", "Webhook")]
