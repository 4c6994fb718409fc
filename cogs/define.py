"""/define: the card for a term, with autocomplete while the student types."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import card_message
from bot.client import GlossaryBot, lookup_cooldown
from bot.contexts import anywhere, class_server_id, glossary_for
from bot.text import shorten

log = logging.getLogger(__name__)
CHOICE_LIMIT = 100


async def term_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggestions for any term option; a failure here must not break typing.

    Discord asks on nearly every keystroke and a class types the same prefixes, so the
    rendered choices are remembered per text until the glossary changes.
    """
    text = current[:CHOICE_LIMIT]
    memo_key = ("autocomplete", text)
    try:
        glossary = glossary_for(interaction)
        choices = glossary.recall(memo_key)
        if choices is not None:
            return choices  # type: ignore[return-value]
        suggestions = await glossary.autocomplete(text)
    except Exception:
        log.exception("Autocomplete failed for %r", text)
        return []
    choices = [
        app_commands.Choice(name=shorten(s.title, CHOICE_LIMIT), value=s.slug)
        for s in suggestions[:25]
    ]
    glossary.remember(memo_key, choices)
    return choices


class Define(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    @app_commands.command(name="define", description="Show the glossary card for a term")
    @app_commands.describe(
        term="The term to look up (start typing for suggestions)",
        private="Only you see the card (default: as the server's moderators chose)",
    )
    @app_commands.autocomplete(term=term_autocomplete)
    @lookup_cooldown()
    @anywhere()
    async def define(
        self,
        interaction: discord.Interaction,
        term: app_commands.Range[str, 1, 100],
        private: bool | None = None,
    ) -> None:
        card = await glossary_for(interaction).card(term)
        server_id = class_server_id(interaction)
        if private is None and server_id:
            settings = await self.bot.store.records.guild_settings(server_id)
            private = settings.define_private
        elif private is None:  # a server only the student installed the app in, or a DM
            private = interaction.guild_id is not None
        reply = await card_message(self.bot, card, server_id)
        await interaction.response.send_message(**reply, ephemeral=bool(private))
        self.bot.store.records.record_lookup(card.term.slug, server_id, card.glossary_id)
        study = self.bot.get_cog("Study")  # absent when the extension is not loaded
        if study is not None:
            study.looked_up(interaction.user.id, card.term.slug)  # type: ignore[attr-defined]


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Define(bot))
