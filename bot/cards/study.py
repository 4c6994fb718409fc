"""What the study companion looks like: the saved list, review cards, a student's data.

Buttons are DynamicItems whose custom_id carries the action, the term and, for a review,
the card's rating count: a click after a restart, a day later or twice at once is
answered from the student's state at the time of the click (see ``Study.rate``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from bot.cards.buttons import _SLUG, DynamicView, RelatedTermButton, _cog, _Reported
from bot.cards.embeds import echo
from bot.study import ClassFigures, Rating, SavedTerm, StudentData

MYLIST_BUTTONS = 10  # two rows to open, two to remove, one for Clear
RATING_LABELS = {Rating.AGAIN: "Again", Rating.HARD: "Hard", Rating.GOOD: "Good",
                 Rating.EASY: "Easy"}
_RATING_STYLES = {Rating.AGAIN: discord.ButtonStyle.danger,
                  Rating.HARD: discord.ButtonStyle.secondary,
                  Rating.GOOD: discord.ButtonStyle.success,
                  Rating.EASY: discord.ButtonStyle.primary}


class StudyActions(Protocol):
    async def list_action(self, interaction: discord.Interaction, action: str,
                          slug: str | None) -> None: ...

    async def data_action(self, interaction: discord.Interaction, action: str) -> None: ...


class ReviewActions(Protocol):
    async def review_action(self, interaction: discord.Interaction, action: str, slug: str,
                            reviews: int) -> None: ...


class MyListButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:ml:(?P<action>[rcy])(?::(?P<slug>{_SLUG}))?",
):
    """``r`` removes one saved term, ``c`` asks to clear the list, ``y`` clears it."""

    def __init__(self, action: str, slug: str | None = None, *, label: str = "",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        custom_id = f"gl:ml:{action}" + (f":{slug}" if slug else "")
        super().__init__(discord.ui.Button(label=label[:80] or action, custom_id=custom_id,
                                           style=style))
        self.action = action
        self.slug = slug

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> MyListButton:
        return cls(match["action"], match["slug"], label=item.label or "")

    async def run(self, interaction: discord.Interaction) -> None:
        study: StudyActions = _cog(interaction, "Study")
        await study.list_action(interaction, self.action, self.slug)


class MyDataButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"gl:md:(?P<action>[yn])",
):
    """Confirm (``y``) or cancel (``n``) deleting everything about the clicker."""

    def __init__(self, action: str) -> None:
        yes = action == "y"
        super().__init__(discord.ui.Button(
            label="Delete everything" if yes else "Cancel", custom_id=f"gl:md:{action}",
            style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> MyDataButton:
        return cls(match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        study: StudyActions = _cog(interaction, "Study")
        await study.data_action(interaction, self.action)


class ReviewButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:rv:(?P<action>[s1-4n]):(?P<slug>{_SLUG}):(?P<reviews>\d{{1,9}})",
):
    """``s`` shows the answer, ``1``-``4`` rate it (Again .. Easy), ``n`` shows what is
    due now; ``reviews`` is the card's rating count when the button was drawn."""

    def __init__(self, action: str, slug: str, reviews: int, *, label: str,
                 style: discord.ButtonStyle = discord.ButtonStyle.primary) -> None:
        super().__init__(discord.ui.Button(
            label=label, custom_id=f"gl:rv:{action}:{slug}:{reviews}", style=style))
        self.action = action
        self.slug = slug
        self.reviews = reviews

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ReviewButton:
        return cls(match["action"], match["slug"], int(match["reviews"]),
                   label=item.label or match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        review: ReviewActions = _cog(interaction, "Review")
        await review.review_action(interaction, self.action, self.slug, self.reviews)


STUDY_BUTTONS = (MyListButton, MyDataButton)


def mylist_message(saved: Sequence[SavedTerm], colour: int, note: str | None = None
                   ) -> dict[str, Any]:
    embed = discord.Embed(title="🔖 Your saved terms", colour=colour)
    if saved:
        lines = [f"{n}. {echo(term.title)}" for n, term in enumerate(saved, start=1)]
        embed.description = "\n".join(lines)[:4000]
        embed.set_footer(text="Saved terms come back in /review. Only you see this list.")
    else:
        embed.description = "Nothing saved yet: press 🔖 Save on any card."
    if note:
        embed.add_field(name="Note", value=note[:1024], inline=False)
    view = DynamicView()
    shown = list(saved)[:MYLIST_BUTTONS]
    for term in shown:
        view.add_item(RelatedTermButton(term.slug, label=term.title, mode="n"))
    for term in shown:
        view.add_item(MyListButton("r", term.slug, label=f"✖ {term.title}"))
    if saved:
        view.add_item(MyListButton("c", label="Clear the list", style=discord.ButtonStyle.danger))
    return {"embed": embed, "view": view}


def clear_confirm_message(count: int) -> dict[str, Any]:
    view = DynamicView()
    view.add_item(MyListButton("y", label=f"Yes, remove all {count}",
                               style=discord.ButtonStyle.danger))
    embed = discord.Embed(title="Clear your saved terms?",
                          description="Your review keeps terms quizzes put there.")
    return {"embed": embed, "view": view}


def question_message(title: str, slug: str, reviews: int, due_count: int, colour: int,
                     note: str | None = None) -> dict[str, Any]:
    """The term only: the student recalls what it means before looking."""
    embed = discord.Embed(title=f"🧠 Review · {due_count} due", colour=colour,
                          description=f"## {echo(title, 200)}\nWhat does it mean? Think, then "
                                      "show the answer.")
    if note:
        embed.set_footer(text=note)
    view = DynamicView()
    view.add_item(ReviewButton("s", slug, reviews, label="Show answer"))
    return {"embed": embed, "view": view}


def answer_view(slug: str, reviews: int) -> DynamicView:
    view = DynamicView()
    for rating, label in RATING_LABELS.items():
        view.add_item(ReviewButton(str(int(rating)), slug, reviews, label=label,
                                   style=_RATING_STYLES[rating]))
    return view


def nothing_due_message(next_due: float | None, colour: int, note: str | None = None
                        ) -> dict[str, Any]:
    if next_due is None:
        text = ("Your review is empty. Press 🔖 Save on a card, or answer a quiz: terms you "
                "save or miss come back here.")
    else:
        when = datetime.datetime.fromtimestamp(next_due, datetime.UTC)
        text = f"All done for now. The next card is due {discord.utils.format_dt(when, 'R')}."
    embed = discord.Embed(title="🧠 Review", description=text, colour=colour)
    if note:
        embed.set_footer(text=note)
    return {"embed": embed, "view": DynamicView()}


def data_embed(data: StudentData, colour: int, timezone: str) -> discord.Embed:
    settings = data.settings
    reminder = (f"daily at {settings.reminder_hour}:00 ({timezone})"
                if settings.reminder_hour is not None else "off")
    embed = discord.Embed(title="Your data", colour=colour, description=(
        "This is everything the bot keeps about you. Nobody else sees it; moderators see "
        "only totals over the whole class. `/mydata delete` removes all of it."))
    saved = ", ".join(echo(t.title, 60) for t in data.saved) or "none"
    embed.add_field(name=f"Saved terms ({len(data.saved)})", value=saved[:1024], inline=False)
    embed.add_field(name="Review", value=f"{data.review_cards} cards, {data.due_now} due now, "
                    f"{data.ratings} ratings given")
    embed.add_field(name="Lookups counted", value=str(data.lookups) + (
        "" if settings.track_lookups else " (counting is off)"))
    embed.add_field(name="Quiz answers", value=str(data.quiz_answers))
    embed.add_field(name="Suggested fixes", value=str(data.suggestions))
    embed.add_field(name="Reminder", value=reminder)
    return embed


def delete_confirm_message() -> dict[str, Any]:
    view = DynamicView()
    view.add_item(MyDataButton("y"))
    view.add_item(MyDataButton("n"))
    embed = discord.Embed(title="Delete everything about you?", description=(
        "Your saved terms, review cards and ratings, counted lookups, reminder settings, "
        "quiz answers and leaderboard score; fixes you suggested stay, without your name. "
        "This cannot be undone."))
    return {"embed": embed, "view": view}


def add_class_figures(embed: discord.Embed, figures: ClassFigures) -> discord.Embed:
    """The hardest terms for the class, for ``/glossary stats`` (sums, never a student)."""
    if figures.hardest:
        lines = []
        for f in figures.hardest:
            accuracy = (f" · quiz {round(100 * f.correct / f.answered)}% right of {f.answered}"
                        if f.answered else "")
            lines.append(f"**{echo(f.title, 80)}**: missed or “Again” {f.wrong}×{accuracy}")
        embed.add_field(name="Hardest for the class", value="\n".join(lines)[:1024],
                        inline=False)
    return embed
