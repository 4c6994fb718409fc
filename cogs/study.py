"""The study companion: saved terms (/mylist), a student's settings (/study) and data
(/mydata), and the hooks that bring quiz misses and repeated lookups into the review.

Everything here answers the student alone and works wherever they are (a class server,
the bot's DMs, a group DM, a server only they installed the app in), so nothing assumes
a guild or a Member: only ``interaction.user.id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards.buttons import SaveButton
from bot.cards.embeds import echo
from bot.cards.study import (
    STUDY_BUTTONS,
    clear_confirm_message,
    data_embed,
    delete_confirm_message,
    mylist_message,
)
from bot.client import GlossaryBot
from bot.contexts import ANY_CONTEXTS, ANY_INSTALLS, anywhere, glossary_for
from bot.errors import SharedStateUnavailable, UnknownGlossary
from bot.models import QuizOutcome, name_key
from bot.study import QUIZ, SavedTerm

log = logging.getLogger(__name__)

# With PostgreSQL another process may take a student's opt-in: the set of students whose
# lookups count is read again this often (one indexed query), so it takes effect here
# within this many seconds rather than at the next restart.
TRACKING_REFRESH_SECONDS = 30.0


async def glossary_names(interaction: discord.Interaction, current: str
                         ) -> list[app_commands.Choice[str]]:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    wanted = current.casefold()
    return [app_commands.Choice(name=spec.name[:100], value=spec.name[:100])
            for spec in bot.glossary_map.specs if wanted in spec.name.casefold()][:25]


class Study(commands.Cog):
    study = app_commands.Group(name="study", description="Your study settings",
                               allowed_contexts=ANY_CONTEXTS, allowed_installs=ANY_INSTALLS)
    mydata = app_commands.Group(name="mydata", description="What the bot keeps about you",
                                allowed_contexts=ANY_CONTEXTS, allowed_installs=ANY_INSTALLS)

    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.tracking: set[int] = set()  # students who opted in to counting lookups
        self.refresh_seconds = TRACKING_REFRESH_SECONDS
        self._refreshing: asyncio.Task[None] | None = None
        # Opt-ins changed here while a refresh reads the set: kept over what it read.
        self._changed: dict[int, bool] | None = None
        self._counting: set[asyncio.Task[None]] = set()  # looked_up's writes in flight

    async def cog_load(self) -> None:
        self.tracking = await self.bot.store.study.tracking_lookups()
        await self.bot.student_glossaries.load()
        if self.bot.store.shared.remote:  # other processes change opt-ins too
            self.start_refreshing()

    def start_refreshing(self, seconds: float | None = None) -> None:
        """Re-read the opt-ins every ``seconds`` (default TRACKING_REFRESH_SECONDS)."""
        if self._refreshing is not None:
            self._refreshing.cancel()
        self.refresh_seconds = seconds or self.refresh_seconds
        self._refreshing = asyncio.create_task(self._refresh_forever(),
                                               name="study-tracking-refresh")

    async def cog_unload(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
            self._refreshing = None

    def _set_tracking(self, user_id: int, enabled: bool) -> None:
        (self.tracking.add if enabled else self.tracking.discard)(user_id)
        if self._changed is not None:
            self._changed[user_id] = enabled

    async def refresh_tracking(self) -> None:
        """Read the opted-in students again (PostgreSQL: opt-ins made in any process); a
        change made here meanwhile wins over the read that started before it."""
        self._changed = {}
        try:
            fresh = await self.bot.store.study.tracking_lookups()
            for user_id, enabled in self._changed.items():
                (fresh.add if enabled else fresh.discard)(user_id)
            self.tracking = fresh
        finally:
            self._changed = None

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh_tracking()
            except SharedStateUnavailable as exc:  # keep the set we have; try again
                log.debug("Could not refresh the lookup opt-ins: %s", exc)
            except Exception:
                log.exception("Refreshing the lookup opt-ins failed; trying again")

    def _now(self) -> float:
        return self.bot.clock().timestamp()

    def _colour(self) -> int:
        return self.bot.config.embed_colour

    # ----- Save on every card ---------------------------------------------------------

    async def toggle_saved(self, interaction: discord.Interaction, slug: str) -> None:
        """SaveButton: save or unsave, and say which, privately."""
        card = await glossary_for(interaction).card(slug)
        await interaction.response.defer(ephemeral=True, thinking=True)
        saved = await self.bot.store.study.toggle_saved(
            interaction.user.id, card.term.slug, card.term.title, self._now())
        title = discord.utils.escape_markdown(card.term.title)
        text = (f"🔖 Saved **{title}**. It is in `/mylist` and comes back in `/review`."
                if saved else f"Removed **{title}** from your saved terms (press Save "
                "again to put it back).")
        await interaction.followup.send(text, ephemeral=True)

    # ----- /mylist --------------------------------------------------------------------

    @app_commands.command(name="mylist", description="Your saved terms")
    @anywhere()
    async def mylist(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(**await self._list(interaction), ephemeral=True)

    async def _list(self, interaction: discord.Interaction, note: str | None = None
                    ) -> dict[str, object]:
        """The saved list as it is now: terms removed or renamed since are named once,
        with what they became, and leave the list."""
        user_id = interaction.user.id
        saved = await self.bot.store.study.saved(user_id)
        names = await glossary_for(interaction).names()
        keep: list[SavedTerm] = []
        gone: list[str] = []
        gone_slugs: list[str] = []
        for term in saved:
            known = names.exact(name_key(term.slug))
            if known is not None and known[0] == term.slug:
                keep.append(SavedTerm(term.slug, known[1]))
            elif known is not None:
                gone.append(f"**{discord.utils.escape_markdown(term.title)}** is now called "
                            f"**{discord.utils.escape_markdown(known[1])}**: save it again "
                            "with `/define`.")
            else:
                gone.append(f"**{discord.utils.escape_markdown(term.title)}** was removed "
                            "from the glossary.")
            if not keep or keep[-1].slug != term.slug:
                gone_slugs.append(term.slug)
        if gone:
            await self.bot.store.study.forget_saved(user_id, gone_slugs)
            note = "\n".join([*gone, *([note] if note else [])])
        return mylist_message(keep, self._colour(), note)

    async def list_action(self, interaction: discord.Interaction, action: str,
                          slug: str | None) -> None:
        """MyListButton: remove one, ask to clear, clear."""
        await interaction.response.defer()
        study = self.bot.store.study
        if action == "c":
            count = len(await study.saved(interaction.user.id))
            await interaction.edit_original_response(**clear_confirm_message(count))
            return
        if action == "y":
            count = await study.forget_saved(interaction.user.id)
            note = f"Removed {count} saved term(s)."
        else:
            removed = await study.forget_saved(interaction.user.id, [slug or ""])
            note = "Removed." if removed else "That term was no longer in your list."
        await interaction.edit_original_response(**await self._list(interaction, note))

    # ----- /study ---------------------------------------------------------------------

    @study.command(name="reminder", description="A daily DM when review cards are due")
    @app_commands.describe(hour="Hour of the day (0-23, the class's time zone); leave out "
                           "to turn reminders off")
    async def reminder(self, interaction: discord.Interaction,
                       hour: app_commands.Range[int, 0, 23] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.store.study.update_settings(interaction.user.id, reminder_hour=hour)
        zone = self.bot.config.timezone
        text = (f"⏰ I will DM you at {hour}:00 ({zone}) on days when cards are due. Keep "
                "DMs from this app open, or reminders stop after a few failed tries."
                if hour is not None else "Reminders are off.")
        await interaction.followup.send(text, ephemeral=True)

    @study.command(name="lookups", description="Terms you look up twice join your review")
    @app_commands.describe(enabled="Count your /define lookups (only for your review)")
    async def lookups(self, interaction: discord.Interaction, enabled: bool) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.store.study.update_settings(interaction.user.id, track_lookups=enabled)
        self._set_tracking(interaction.user.id, enabled)
        text = ("Terms you look up twice with `/define` now join your review."
                if enabled else "Your lookups are no longer counted.")
        await interaction.followup.send(text, ephemeral=True)

    @study.command(name="glossary", description="Which glossary answers you outside a class "
                   "server (DMs, other servers)")
    @app_commands.describe(use="A glossary of this bot; leave out to follow the class server "
                           "you last used")
    @app_commands.autocomplete(use=glossary_names)
    async def glossary(self, interaction: discord.Interaction, use: str | None = None) -> None:
        name = use
        if name is not None and self.bot.glossary_map.named(name) is None:
            raise UnknownGlossary(f"There is no glossary called “{echo(name)}” on this bot; "
                                  "pick one of the suggestions.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.student_glossaries.choose(interaction.user.id, name)
        text = (f"Outside a class server, `/define` and your study commands now use the "
                f"**{echo(name)}** glossary." if name is not None else "Outside a class "
                "server you now get the glossary of the class server you last used.")
        await interaction.followup.send(text, ephemeral=True)

    # ----- /mydata --------------------------------------------------------------------

    @mydata.command(name="show", description="Everything the bot keeps about you")
    async def show(self, interaction: discord.Interaction) -> None:
        data = await self.bot.store.study.student_data(interaction.user.id, self._now())
        await interaction.response.send_message(
            embed=data_embed(data, self._colour(), self.bot.config.timezone), ephemeral=True)

    @mydata.command(name="delete", description="Delete everything the bot keeps about you")
    async def delete(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(**delete_confirm_message(), ephemeral=True)

    async def data_action(self, interaction: discord.Interaction, action: str) -> None:
        """MyDataButton: delete everything (confirmed), or cancel."""
        if action == "n":
            await interaction.response.edit_message(content="Nothing was deleted.",
                                                    embed=None, view=None)
            return
        await interaction.response.defer()
        await self.bot.store.study.delete_student(interaction.user.id)
        self._set_tracking(interaction.user.id, False)
        await interaction.edit_original_response(
            content="🗑️ Done: everything the bot kept about you is deleted.",
            embed=None, view=None)

    # ----- what brings terms into the review -------------------------------------------

    @commands.Cog.listener()
    async def on_quiz_answered(self, user_id: int, outcome: QuizOutcome) -> None:
        """A quiz answer missed: the right term joins the student's review."""
        if outcome.correct or outcome.already_answered:
            return
        await self.bot.store.study.enqueue(user_id, outcome.quiz.answer, QUIZ, self._now())

    def looked_up(self, user_id: int, slug: str) -> None:
        """A /define answered (the Define cog calls this): a second lookup of a term by a
        student who opted in joins their review. A set in memory keeps this off every
        other student's lookup; a direct call rather than an app_command_completion
        listener, for which discord.py would run a task per command, every student's
        (docs/performance.md, issue 14's targets 1 and 2). Counted in the background,
        as the listener did, a failure logged."""
        if user_id not in self.tracking:
            return
        task = asyncio.create_task(
            self.bot.store.study.count_lookup(user_id, slug, self._now()),
            name="study-count-lookup")
        self._counting.add(task)
        task.add_done_callback(self._counted)

    def _counted(self, task: asyncio.Task[None]) -> None:
        self._counting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Could not count a student's lookup", exc_info=task.exception())


async def setup(bot: GlossaryBot) -> None:
    bot.add_dynamic_items(SaveButton, *STUDY_BUTTONS)
    await bot.add_cog(Study(bot))


async def teardown(bot: GlossaryBot) -> None:
    bot.remove_dynamic_items(SaveButton, *STUDY_BUTTONS)
