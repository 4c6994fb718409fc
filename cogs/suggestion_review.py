"""Apply / Edit first / Dismiss: the glossary's editors decide a suggested fix from its post.

The post in the moderators' channel (``bot.card_actions``) carries the three persistent
buttons (``bot.cards.review``), registered here when this cog loads and removed when it
unloads. Only the glossary's editors may use them (``cogs.authoring.can_edit``); anyone
else gets a private refusal from the tree's one error handler.

*Apply* writes the student's proposed text into the section they named, through exactly
the path an edit takes (``cogs.authoring.save_change``: the file rewritten and reloaded,
or the database-only glossary changed, with conflicts refused, the history naming the
editor and crediting the student, and a git commit when asked for). *Edit first* opens the
edit form prefilled with the proposal, then the usual preview and Save. *Dismiss* closes
it. A suggestion is decided at most once: the status moves by compare-and-set
(``Suggestions.claim``), so of two moderators clicking at once one wins and the other is
told. The post is then edited to say who decided it, without its buttons, and the student
is told by DM, or in the channel where they asked when their DMs are closed (pinging
them and nobody else).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets

import discord
from discord.ext import commands

from bot.cards import error_embed
from bot.cards.review import ReviewButton, decided_embed
from bot.client import GlossaryBot, NotModerator
from bot.export import cell_text
from bot.glossaries import GlossarySpec
from bot.models import Card, SuggestedFix
from bot.sections import SECTIONS, Section
from bot.suggestion_review import outcome_line, resolve_section
from cogs.authoring import (
    MODAL_TEXT_LIMIT,
    Change,
    Draft,
    EditForm,
    Opened,
    can_edit,
    edited_term,
    open_card,
    require_editor,
    save_change,
)

log = logging.getLogger(__name__)


def _name(user: discord.abc.User) -> str:
    return getattr(user, "display_name", None) or user.name


async def _tell(interaction: discord.Interaction, title: str, text: str,
                *details: discord.Embed) -> None:
    """A private answer to the editor who clicked, whether or not the click was deferred."""
    embeds = [error_embed(title, text), *details]
    if interaction.response.is_done():
        await interaction.followup.send(embeds=embeds, ephemeral=True)
    else:
        await interaction.response.send_message(embeds=embeds, ephemeral=True)


class SectionPicker(discord.ui.View):
    """For a suggestion that names no one section: which one Edit first opens."""

    def __init__(self, review: SuggestionReview, fix: SuggestedFix, card: Card,
                 opened: Opened) -> None:
        super().__init__(timeout=15 * 60)
        self.review, self.fix, self.card, self.opened = review, fix, card, opened
        select = discord.ui.Select(
            custom_id=f"gl:sgp:{fix.id}", placeholder="Which section does it change?",
            options=[discord.SelectOption(label=s.heading.replace("{course}", "the course"),
                                          value=s.key) for s in SECTIONS])
        select.callback = self.picked  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        spec = bot.glossary_map.named(self.opened.glossary) if self.opened.glossary else None
        return await require_editor(interaction, spec)

    async def picked(self, interaction: discord.Interaction) -> None:
        part = next(s for s in SECTIONS if s.key == self.select.values[0])
        self.stop()
        await interaction.response.send_modal(
            self.review.form(self.fix, self.card, self.opened, part))


class SuggestionReview(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReviewButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReviewButton)

    async def decide(self, interaction: discord.Interaction, action: str,
                     suggestion_id: int) -> None:
        """A click on Apply (``a``), Edit first (``e``) or Dismiss (``d``): in the server
        the student asked in, or in an owner server of the glossary it is for (where
        ``bot.card_actions`` posts a shared glossary's suggestions)."""
        fix = await self.bot.store.suggestions.get(suggestion_id)
        if fix is None:
            if not await can_edit(interaction):
                raise NotModerator("editors only")
            await _tell(interaction, "Not found", "This suggestion is no longer kept.")
            return
        here = interaction.guild_id
        in_student_server = fix.guild_id == here
        if in_student_server:
            spec = self.bot.spec_for(here)
            glossary = self.bot.glossary_for(here)
        else:
            glossary = self.bot.glossary_by_id(fix.glossary_id)  # GlossaryGone: said
            spec = self.bot.spec_of(glossary)
        # NotEditor for a moderator of a server that only uses a shared glossary.
        if not await can_edit(interaction, spec):
            raise NotModerator("editors only")
        if not in_student_server and here not in (spec.owner_servers or ()):
            await _tell(interaction, "Not found", "This suggestion is no longer kept.")
            return
        if fix.status != "open":
            await self._already(interaction, fix)
            return
        if action == "d":
            await self._dismiss(interaction, fix)
            return
        if fix.glossary_id is not None and fix.glossary_id != glossary.id:
            await _tell(interaction, "Another glossary", "This suggestion was made for a "
                        "glossary this server no longer uses, so it cannot be applied here; "
                        "Dismiss it, or make the change by hand.")
            return
        card = await glossary.card(fix.slug)  # TermNotFound: "no longer in the glossary"
        if action == "e":
            await self._edit_first(interaction, fix, card, spec)
        else:
            await self._apply(interaction, fix, card, spec)

    async def _already(self, interaction: discord.Interaction, fix: SuggestedFix) -> None:
        line = outcome_line(fix.status, fix.decided_by_name, fix.decided_by)
        await _tell(interaction, "Already decided", f"Someone was quicker: {line}")

    async def _claim(self, interaction: discord.Interaction, fix: SuggestedFix,
                     status: str) -> bool:
        """True for the one editor whose decision counts; the others are told."""
        if await self.bot.store.suggestions.claim(fix.id, status, interaction.user.id,
                                                  _name(interaction.user)):
            return True
        await self._already(interaction, await self.bot.store.suggestions.get(fix.id) or fix)
        return False

    async def _dismiss(self, interaction: discord.Interaction, fix: SuggestedFix) -> None:
        await interaction.response.defer()
        if not await self._claim(interaction, fix, "dismissed"):
            return
        await self._close_post(interaction, fix, outcome_line(
            "dismissed", _name(interaction.user), interaction.user.id))

    async def _apply(self, interaction: discord.Interaction, fix: SuggestedFix,
                     card: Card, spec: GlossarySpec) -> None:
        part = resolve_section(fix.section)
        if part is None or not fix.proposal.strip():
            why = ("names no one section of the card" if part is None
                   else "proposes no new text")
            await _tell(interaction, "Use Edit first", f"This suggestion {why}, so it "
                        "cannot be applied as it is: **Edit first** lets you write it.")
            return
        await interaction.response.defer()  # a save and a reload may take a while
        opened = await open_card(self.bot, interaction.guild_id, card, spec)
        after, changes = edited_term(opened, card.term, part, fix.proposal)
        if not await self._claim(interaction, fix, "applying"):
            return
        outcome = await save_change(self.bot, interaction.guild_id, interaction.user,
                                    self._credited(opened.edit(card.term, after, changes),
                                                   fix))
        if not outcome.saved:
            await self.bot.store.suggestions.release(fix.id)
            await _tell(interaction, "Not applied", f"{outcome.reason}\n\nThe suggestion "
                        "is still open: try **Edit first**.", *outcome.embeds)
            return
        told = await self._settled(interaction, fix, card.term.title)
        await interaction.followup.send(
            f"Applied to {part.heading.replace('{course}', 'the course')} of "
            f"**{card.term.title}**. {told}{outcome.note}", embeds=list(outcome.embeds),
            ephemeral=True)

    @staticmethod
    def _credited(change: Change, fix: SuggestedFix) -> Change:
        """The change as the student's: the history credits them, the commit says so."""
        return dataclasses.replace(change, source="suggestion", credited_id=fix.author_id,
                                   what="apply a suggestion to")

    async def _edit_first(self, interaction: discord.Interaction, fix: SuggestedFix,
                          card: Card, spec: GlossarySpec) -> None:
        opened = await open_card(self.bot, interaction.guild_id, card, spec)
        part = resolve_section(fix.section)
        if part is None:
            await interaction.response.send_message(
                f"Which section of **{card.term.title}** does this suggestion change?",
                view=SectionPicker(self, fix, card, opened), ephemeral=True)
            return
        await interaction.response.send_modal(self.form(fix, card, opened, part))

    def form(self, fix: SuggestedFix, card: Card, opened: Opened, part: Section) -> EditForm:
        """The edit form with the student's proposal in it (or the section as it is, when
        they proposed no text); Save claims the suggestion, as Apply does."""
        text = fix.proposal.strip() or cell_text(part, opened.values.get(part.key,
                                                                          part.default))

        async def claim(interaction: discord.Interaction) -> str | None:
            if await self.bot.store.suggestions.claim(fix.id, "applying", interaction.user.id,
                                                      _name(interaction.user)):
                return None
            now = await self.bot.store.suggestions.get(fix.id) or fix
            return ("This suggestion was decided meanwhile: "
                    + outcome_line(now.status, now.decided_by_name, now.decided_by))

        async def settled(interaction: discord.Interaction, saved: bool) -> None:
            if saved:
                await self._settled(interaction, fix, card.term.title)
            else:
                await self.bot.store.suggestions.release(fix.id)

        def adapt(draft: Draft) -> Draft:
            return dataclasses.replace(
                draft, change=self._credited(draft.change, fix), claim=claim,
                settled=settled,
                done=f"Applied {discord.utils.escape_markdown(fix.author_name)}'s suggestion "
                f"to {draft.done.removeprefix('Saved: ')}")

        return EditForm(opened, card.term, part, text[:MODAL_TEXT_LIMIT],
                        custom_id=f"gl:sgm:{fix.id}:{secrets.token_hex(4)}", draft=adapt)

    async def _settled(self, interaction: discord.Interaction, fix: SuggestedFix,
                       title: str) -> str:
        """An applied suggestion: for good in the database, the post closed, the student
        told; returns what the editor is told about the student."""
        await self.bot.store.suggestions.settle(fix.id)
        await self._close_post(interaction, fix, outcome_line(
            "applied", _name(interaction.user), interaction.user.id))
        return await self._tell_student(fix, title, self.bot.get_guild(fix.guild_id))

    async def _close_post(self, interaction: discord.Interaction, fix: SuggestedFix,
                          line: str) -> None:
        """The post says who decided it, and loses its buttons."""
        message = interaction.message
        on_post = message is not None and message.id == fix.post_message_id
        try:
            if not on_post:  # Edit first's Save: the click was on the private preview
                if not (fix.post_channel_id and fix.post_message_id):
                    return
                channel = self.bot.get_channel(fix.post_channel_id) or (
                    await self.bot.fetch_channel(fix.post_channel_id))
                message = await channel.fetch_message(fix.post_message_id)  # type: ignore[union-attr]
            assert message is not None
            posted = message.embeds[0] if message.embeds else discord.Embed(
                title=f"Suggested fix: {fix.title}")
            embed = decided_embed(posted, line)
            if on_post:
                await interaction.edit_original_response(embed=embed, view=None)
            else:
                await message.edit(embed=embed, view=None)
        except discord.HTTPException as exc:
            log.warning("Suggestion %d decided, but its post could not be updated: %s",
                        fix.id, exc)

    async def _tell_student(self, fix: SuggestedFix, title: str,
                            guild: discord.Guild | None) -> str:
        where = f" in **{guild.name}**" if guild else ""
        text = (f"Your suggested fix for **{title}**{where} was applied to the glossary. "
                "Thank you!")
        try:
            dm = await self.bot.create_dm(discord.Object(fix.author_id))
            await dm.send(text)
            return "The student was told by DM."
        except discord.HTTPException as exc:
            log.info("Could not DM the author of suggestion %d: %s", fix.id, exc)
        if fix.channel_id:
            with contextlib.suppress(discord.HTTPException):
                channel = self.bot.get_channel(fix.channel_id) or (
                    await self.bot.fetch_channel(fix.channel_id))
                await channel.send(  # type: ignore[union-attr]
                    f"<@{fix.author_id}> {text}", allowed_mentions=discord.AllowedMentions(
                        everyone=False, roles=False,
                        users=[discord.Object(fix.author_id)]))
                return f"Their DMs are closed, so they were told in <#{fix.channel_id}>."
        log.warning("Suggestion %d applied; its author could not be told", fix.id)
        return "The student could not be told (DMs closed, and the channel is out of reach)."


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(SuggestionReview(bot))
