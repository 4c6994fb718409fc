"""The study companion's domain: when a term comes back for review, and what a student has.

Scheduling is FSRS (the ``fsrs`` package, major version 6): each rating moves the card's
memory state and its next due time. Fuzzing is off so that the same ratings give the same
schedule (what a student is told matches what happens, and tests can predict it).
"""

from __future__ import annotations

import datetime
import enum
import json
from dataclasses import dataclass

import fsrs

_SCHEDULER = fsrs.Scheduler(enable_fuzzing=False)

# Why a term entered a student's review: saved, answered wrongly in a quiz, looked up
# twice (only for students who opted in).
SAVED, QUIZ, LOOKUPS = "saved", "quiz", "lookups"
LOOKUPS_TO_REVIEW = 2
FAILED_REMINDERS_TO_STOP = 3  # a student who blocks DMs stops getting tried


class Rating(enum.IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


@dataclass(frozen=True, slots=True)
class Scheduled:
    fsrs: str
    due: float


def schedule(state: str | None, rating: Rating, now: datetime.datetime) -> Scheduled:
    """The card's state after ``rating`` at ``now``; ``state`` None is a new card."""
    card = fsrs.Card.from_dict(json.loads(state)) if state else fsrs.Card(card_id=1, due=now)
    card, _log = _SCHEDULER.review_card(card, fsrs.Rating(int(rating)), review_datetime=now)
    return Scheduled(json.dumps(card.to_dict()), card.due.timestamp())


@dataclass(frozen=True, slots=True)
class DueCard:
    """The first card in a student's review; ``reviews`` identifies this very state."""

    slug: str
    reviews: int
    due: float
    due_count: int  # cards due now, this one included if it is

    def is_due(self, now: float) -> bool:
        return self.due <= now


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder claimed for today."""

    user_id: int
    failed_before: int  # consecutive days the DM could not be delivered
    due_count: int


@dataclass(frozen=True, slots=True)
class SavedTerm:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class StudentSettings:
    reminder_hour: int | None = None
    track_lookups: bool = False
    failed_reminders: int = 0


@dataclass(frozen=True, slots=True)
class StudentData:
    """Everything the bot keeps about one student (``/mydata show``)."""

    settings: StudentSettings
    saved: tuple[SavedTerm, ...]
    review_cards: int
    due_now: int
    ratings: int
    lookups: int
    quiz_answers: int
    suggestions: int  # "Suggest a fix" forms they sent


@dataclass(frozen=True, slots=True)
class TermFigure:
    slug: str
    title: str
    wrong: int  # quiz answers that missed it, plus "Again" ratings
    answered: int  # quiz answers about it
    correct: int


@dataclass(frozen=True, slots=True)
class ClassFigures:
    """Class-level figures for moderators; never one student's."""

    hardest: tuple[TermFigure, ...]
