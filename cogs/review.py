"""/review: a student's due cards one at a time, scheduled by FSRS; and the daily reminder.

The term comes first; "Show answer" reveals its card; Again / Hard / Good / Easy schedule
it. Every button carries the card's rating count, so a click is answered from the state
at the time of the click: an old button or a second click at once rates nothing and shows
what is due now.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.cards import card_embed
from bot.cards.study import ReviewButton, answer_view, nothing_due_message, question_message
from bot.client import GlossaryBot
from bot.contexts import anywhere, glossary_for
from bot.errors import SharedStateUnavailable, TermNotFound
from bot.study import Rating, Reminder

log = logging.getLogger(__name__)
SKIP_LIMIT = 25  # terms gone from the glossary dropped in one go, at most


class Review(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.zone = ZoneInfo(bot.config.timezone)

    async def cog_load(self) -> None:
        self.remind.start()

    async def cog_unload(self) -> None:
        self.remind.cancel()

    @app_commands.command(name="review", description="Review your due cards (spaced "
                          "repetition)")
    @anywhere()
    async def review(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(**await self._next(interaction), ephemeral=True)

    async def review_action(self, interaction: discord.Interaction, action: str, slug: str,
                            reviews: int) -> None:
        """ReviewButton: show the answer, rate, or show what is due now."""
        await interaction.response.defer()
        study, user_id, now = self.bot.store.study, interaction.user.id, self.bot.clock()
        note = None
        if action == "s":
            card = await study.card(user_id, slug)
            if card is not None and card.reviews == reviews and card.is_due(now.timestamp()):
                await interaction.edit_original_response(**await self._answer(
                    interaction, slug, reviews))
                return
            note = "That card was already reviewed; here is what is due now."
        elif action in "1234":
            counted = await study.rate(user_id, slug, reviews, Rating(int(action)), now)
            note = None if counted else "That rating was already counted."
        await interaction.edit_original_response(**await self._next(interaction, note))

    async def _next(self, interaction: discord.Interaction, note: str | None = None
                    ) -> dict[str, object]:
        """The first due card's question, or when the next one is due; a term that left
        the glossary leaves the review, and the student is told."""
        study, user_id = self.bot.store.study, interaction.user.id
        for _ in range(SKIP_LIMIT):
            now = self.bot.clock().timestamp()
            first = await study.first_card(user_id, now)
            if first is None or not first.is_due(now):
                return nothing_due_message(first.due if first else None,
                                           self.bot.config.embed_colour, note)
            try:
                card = await glossary_for(interaction).card(first.slug)
            except TermNotFound:
                await study.drop_card(user_id, first.slug)
                note = f"“{first.slug}” is no longer in the glossary and left your review."
                continue
            if card.term.slug != first.slug:  # renamed: the old name is now an alias
                await study.drop_card(user_id, first.slug)
                await study.enqueue(user_id, card.term.slug, "renamed", now)
                note = f"“{first.slug}” is now called “{card.term.title}”."
                continue
            return question_message(card.term.title, first.slug, first.reviews,
                                    first.due_count, self.bot.config.embed_colour, note)
        return nothing_due_message(None, self.bot.config.embed_colour, note)

    async def _answer(self, interaction: discord.Interaction, slug: str, reviews: int
                      ) -> dict[str, object]:
        card = await glossary_for(interaction).card(slug)
        config = self.bot.config
        return {"embed": card_embed(card, config.course_name, config.embed_colour),
                "view": answer_view(slug, reviews)}

    # ----- the daily reminder ----------------------------------------------------------

    @tasks.loop(minutes=1)
    async def remind(self) -> None:
        try:
            await self.send_reminders()
        except SharedStateUnavailable as exc:  # PostgreSQL down: the next minute tries again
            log.warning("Study reminders wait for the shared database (%s)", exc)

    @remind.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @remind.error
    async def _remind_failed(self, error: BaseException) -> None:
        log.error("Study reminders stopped after an error; restarting them", exc_info=error)
        self.remind.restart()

    async def send_reminders(self) -> tuple[int, int]:
        """DM every student whose hour has come and who has cards due; (sent, failed).

        Claimed before sending, so a DM that fails is not tried again until tomorrow, and
        a student who blocks DMs costs one quiet log line a day until, after a few days,
        their reminders stop (``/mydata show`` says so)."""
        now = self.bot.clock()
        local = now.astimezone(self.zone)
        study = self.bot.store.study
        sent = failed = 0
        while claimed := await study.claim_reminders(local.hour, local.date().isoformat(),
                                                     now.timestamp()):
            s, f = await self._send(claimed)
            sent, failed = sent + s, failed + f
        return sent, failed

    async def _send(self, claimed: list[Reminder]) -> tuple[int, int]:
        study = self.bot.store.study
        sent = failed = 0
        for reminder in claimed:
            user_id, due = reminder.user_id, reminder.due_count
            try:
                channel = await self.bot.create_dm(discord.Object(user_id))
                await channel.send(
                    f"📚 You have {due} glossary card{'s' if due != 1 else ''} due for "
                    "review. Run `/review` when you have five minutes. (`/study reminder` "
                    "without an hour turns this off.)")
            except discord.HTTPException as exc:
                failed += 1
                stopped = await study.reminder_result(user_id, delivered=False)
                log.info("Study reminder to user %s not delivered (%s)%s", user_id,
                         exc.status, "; reminders stopped" if stopped else "")
                continue
            sent += 1
            if reminder.failed_before:
                await study.reminder_result(user_id, delivered=True)
        return sent, failed


async def setup(bot: GlossaryBot) -> None:
    bot.add_dynamic_items(ReviewButton)
    await bot.add_cog(Review(bot))


async def teardown(bot: GlossaryBot) -> None:
    bot.remove_dynamic_items(ReviewButton)
