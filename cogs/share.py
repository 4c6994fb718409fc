"""/share: a mentor posts a card into the channel, optionally for one student."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import card_message
from bot.cards.embeds import echo
from bot.client import GlossaryBot, lookup_cooldown
from cogs.define import term_autocomplete


class Share(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    @app_commands.command(name="share", description="Post a glossary card for the channel")
    @app_commands.describe(
        term="The term to share",
        student="Ping this student (only them) about the card",
        note="A short note shown on the card",
    )
    @app_commands.autocomplete(term=term_autocomplete)
    @lookup_cooldown()
    @app_commands.guild_only()
    async def share(
        self,
        interaction: discord.Interaction,
        term: app_commands.Range[str, 1, 100],
        student: discord.Member | None = None,
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        card = await self.bot.glossary_for(interaction.guild_id).card(term)
        reply = await card_message(self.bot, card, interaction.guild_id,
                                   note=echo(note, 500) if note else None)
        sharer = echo(interaction.user.display_name, 80)
        content = f"📌 Shared by **{sharer}**"
        if student is not None:
            content += f" for {student.mention}"
        await interaction.response.send_message(
            content=content,
            **reply,
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, replied_user=False,
                users=[student] if student is not None else False,
            ),
        )
        self.bot.store.records.record_lookup(card.term.slug, interaction.guild_id,
                                             card.glossary_id)


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Share(bot))
