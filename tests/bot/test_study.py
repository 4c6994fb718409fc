"""The study domain (FSRS scheduling) and its storage, on both backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime

from bot.store import Store
from bot.study import QUIZ, Rating, schedule

NOW = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)


def test_better_ratings_come_back_later_and_state_carries_on() -> None:
    dues = [schedule(None, rating, NOW).due for rating in Rating]
    assert dues == sorted(dues) and len(set(dues)) == 4
    first = schedule(None, Rating.GOOD, NOW)
    later = datetime.datetime.fromtimestamp(first.due, datetime.UTC)
    second = schedule(first.fsrs, Rating.GOOD, later)
    assert second.due - later.timestamp() > first.due - NOW.timestamp()


async def test_due_cards_come_in_order_and_ratings_count_once(shared_store: Store) -> None:
    study, t = shared_store.study, NOW.timestamp()
    await study.enqueue(1, "git", QUIZ, t - 10)
    await study.enqueue(1, "mysql", QUIZ, t - 20)
    await study.enqueue(2, "git", QUIZ, t)
    first = await study.first_card(1, t)
    assert (first.slug, first.due_count) == ("mysql", 2)
    results = await asyncio.gather(*(study.rate(1, "mysql", 0, Rating.GOOD, NOW)
                                     for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert (await study.first_card(1, t)).slug == "git"
    assert (await study.first_card(2, t)).due_count == 1


async def test_a_wrong_quiz_answer_makes_a_scheduled_card_due_again(shared_store: Store) -> None:
    study, t = shared_store.study, NOW.timestamp()
    await study.enqueue(1, "git", QUIZ, t)
    assert await study.rate(1, "git", 0, Rating.EASY, NOW)
    assert not (await study.first_card(1, t)).is_due(t)
    await study.enqueue(1, "git", QUIZ, t + 5)
    assert (await study.first_card(1, t + 5)).is_due(t + 5)


async def test_class_figures_sum_quiz_misses_and_agains_per_term(
    bundled_shared_store: Store,
) -> None:
    store, t = bundled_shared_store, NOW.timestamp()
    for user in (1, 2, 3):
        quiz = await store.records.create_quiz(10, "git", ("git", "mysql", "prisma", "nodejs"),
                                               "definition")
        await store.records.answer_quiz(quiz.id, user, "git" if user == 1 else "mysql")
    await store.study.enqueue(4, "mysql", QUIZ, t)
    await store.study.rate(4, "mysql", 0, Rating.AGAIN, NOW)
    figures = (await store.study.class_figures()).hardest
    by_slug = {f.slug: f for f in figures}
    assert (by_slug["git"].wrong, by_slug["git"].answered, by_slug["git"].correct) == (2, 3, 1)
    assert by_slug["mysql"].wrong == 1 and by_slug["mysql"].answered == 0
    assert figures[0].slug == "git"
