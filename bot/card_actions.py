"""What the buttons any card or list of terms carries do: open a term, go Back, suggest a fix.

Several cogs send these buttons (define, share, explain, search, quiz, the term of the day,
the error handler's "did you mean"), so the actions belong to the bot rather than to one
of them: the bot owns one ``CardActions`` and registers the buttons once
(``CARD_BUTTONS``), whatever extensions are loaded. A click on a public card answers only
the clicker, so one student never changes what the whole class sees.

A "suggest a fix" form's submit is read from the interaction itself (``submitted``,
called from ``GlossaryBot.on_modal_submit``), so one opened before a restart is saved too.
A suggestion goes to moderators who can apply it (``destination``): this server's, or,
for a server that only uses a shared glossary, those of a server that owns it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.cards import error_embed
from bot.cards.buttons import SubmittedFix, SuggestFixModal, card_message, report, submitted_fix
from bot.cards.embeds import suggestion_embed
from bot.cards.review import REVIEW_COG, review_view
from bot.directory import display_path
from bot.errors import GlossaryGone, SharedStateUnavailable, SuggestionsOff, TermNotFound
from bot.models import Card

if TYPE_CHECKING:
    from bot.client import GlossaryBot

log = logging.getLogger(__name__)

FENCE = "`" * 3


class CardActions:
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    async def open_term(
        self, interaction: discord.Interaction, slug: str, *, mode: str, origin: str | None,
        glossary_id: int | None = None,
    ) -> None:
        """``t`` opens a term (in place on a private card, with Back to ``origin``; on a
        public one privately), ``b`` is that Back button, ``n`` always answers privately
        with a new message (search results and "Explain terms" lists stay visible).

        Only a private message is ever edited: a Back button is never sent on a public
        card, but custom_ids can be forged, and an edit there would change what the whole
        class sees.
        """
        card = await self.bot.glossary_by_id(glossary_id).card(slug)
        message = interaction.message
        on_private_card = message is not None and message.flags.ephemeral
        in_place = mode in ("t", "b") and on_private_card
        back_to = origin if mode == "t" and in_place else None
        reply = await card_message(self.bot, card, interaction.guild_id, back_to=back_to)
        if in_place:
            await interaction.response.edit_message(**reply)
        else:
            await interaction.response.send_message(**reply, ephemeral=True)
        self.bot.store.records.record_lookup(card.term.slug, interaction.guild_id,
                                             card.glossary_id)

    async def suggest_fix(self, interaction: discord.Interaction, slug: str,
                          glossary_id: int | None = None) -> None:
        card = await self.bot.glossary_by_id(glossary_id).card(slug)
        await interaction.response.send_modal(SuggestFixModal(card))

    async def submitted(self, interaction: discord.Interaction) -> bool:
        """A "suggest a fix" form submitted (True), whether it was opened in this process
        or before a restart: saved and posted, every failure said through the tree's one
        error handler. False: not such a form."""
        fix = submitted_fix(interaction.data)  # type: ignore[arg-type]
        if fix is None:
            return False
        try:
            await self.send_suggestion(interaction, fix)
        except Exception as error:  # noqa: BLE001 - reported through the tree's handler
            await report(interaction, error)
        return True

    def file_shown(self, card: Card) -> str:
        """The term's file as a moderator finds it: under the configured content
        directory, with the suffix it really has (``.yaml`` or ``.yml``)."""
        directory = self.bot.spec_of(self.bot.glossary_by_id(card.glossary_id)).content_dir
        if directory is None:  # a glossary that lives in the database alone
            return card.file
        return os.path.join(display_path(directory), card.file)

    async def send_suggestion(self, interaction: discord.Interaction, fix: SubmittedFix
                              ) -> None:
        """Save a submitted form, post it to the moderators' channel and thank the student.

        It is saved before it is posted: if the channel is gone or closed to the bot, the
        student is told, and the moderators still read it with ``/glossary suggestions``.
        A term removed since the form opened is refused with the student's text given back.
        """
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.bot.store.records.guild_settings(interaction.guild_id or 0)
        if not settings.mod_channel_id:
            raise SuggestionsOff("This server no longer takes suggestions.")
        try:
            card = await self.bot.glossary_by_id(fix.glossary_id).card(fix.slug)
        except (TermNotFound, GlossaryGone):
            await interaction.followup.send(ephemeral=True, embed=error_embed(
                "No longer in the glossary", "That term was removed or renamed since you "
                "opened the form, so your suggestion was not sent. What you wrote, to "
                f"copy:\n{_fenced(fix)}"))
            return
        term, author = card.term, interaction.user
        try:
            saved = await self.bot.store.suggestions.add(
                interaction.guild_id or 0, term.slug, term.title, author.id,
                author.display_name, fix.section, fix.problem, fix.proposal,
                glossary_id=card.glossary_id, channel_id=interaction.channel_id,
            )
        except SharedStateUnavailable as exc:  # PostgreSQL down: hand the words back
            log.warning("Suggestion for %s not saved: %s", term.slug, exc)
            await interaction.followup.send(ephemeral=True, embed=error_embed(
                "Try again in a moment",
                "The bot cannot reach its shared database right now, so your suggestion was "
                f"not saved. Your text, to copy and send again in a moment:\n{_fenced(fix)}"))
            return
        # Apply / Edit first / Dismiss, when the cog that answers them is loaded.
        extra = ({"view": review_view(saved)} if self.bot.get_cog(REVIEW_COG) is not None
                 else {})
        where = await self.destination(card, interaction.guild_id or 0,
                                       settings.mod_channel_id)
        try:
            channel = self.bot.get_channel(where.channel_id) or (
                await self.bot.fetch_channel(where.channel_id))
            posted = await channel.send(embed=suggestion_embed(  # type: ignore[union-attr]
                term.title, self.file_shown(card), fix.section, fix.problem, fix.proposal,
                author, notes=where.notes,
            ), **extra)
        except discord.HTTPException as exc:
            log.warning("Suggestion %d for %s could not be posted in channel %s: %s",
                        saved, term.slug, where.channel_id, exc)
            await interaction.followup.send(
                "Thank you! The moderators' channel could not be reached just now, so your "
                "suggestion was saved instead: the moderators read it with "
                "`/glossary suggestions`. Nothing you wrote was lost.", ephemeral=True)
            return
        await self.bot.store.suggestions.mark_delivered(saved, posted.channel.id, posted.id)
        await interaction.followup.send(
            f"Thank you! Your suggestion was sent to {where.told}.", ephemeral=True
        )

    async def destination(self, card: Card, guild_id: int, own_channel: int) -> Destination:
        """Where a suggestion goes: this server's moderators' channel when they may apply
        it. A server that only uses a shared glossary cannot, so its students'
        suggestions go to the moderators' channel of a server that owns the glossary
        (whose moderators can Apply); with none, they stay here, saying who can."""
        spec = self.bot.spec_of(self.bot.glossary_by_id(card.glossary_id))
        glossaries = self.bot.glossary_map
        if glossaries.may_edit(spec, 0, guild_id):  # this server's moderators edit it
            return Destination(own_channel, "the moderators")
        here = self.bot.get_guild(guild_id)
        for owner in spec.owner_servers or ():
            server = self.bot.get_guild(owner)
            if server is None:
                continue
            settings = await self.bot.store.records.guild_settings(owner)
            if settings.mod_channel_id:
                asked_in = here.name if here else f"server {guild_id}"
                return Destination(
                    settings.mod_channel_id,
                    f"the moderators of **{discord.utils.escape_markdown(server.name)}**, "
                    "who edit this glossary",
                    (("Asked in", f"{discord.utils.escape_markdown(asked_in)}, which uses "
                      "this glossary"),))
        who = glossaries.who_may_edit(spec, {g.id: g.name for g in self.bot.guilds})
        return Destination(own_channel, "the moderators", ((
            "Who can apply it", f"{who}: this server uses a shared glossary, so its own "
            "moderators cannot change it. Pass it on to them."),))


@dataclass(frozen=True)
class Destination:
    """A suggestion's moderators' channel, what the student is told, and what the post
    adds (where it came from, or who can apply it)."""

    channel_id: int
    told: str
    notes: tuple[tuple[str, str], ...] = ()


def _fenced(fix: SubmittedFix) -> str:
    text = "\n\n".join(part for part in (fix.section, fix.problem, fix.proposal) if part)
    fence = "`" * 3
    return f"{fence}\n{text.replace(fence, '´´´')[:3500]}\n{fence}"
