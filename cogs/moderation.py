"""/glossary reload and /glossary stats, for moderators."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import reload_embed, stats_embed
from bot.client import GlossaryBot, moderator_only


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Moderation(commands.GroupCog, group_name="glossary",
                 group_description="Manage the glossary (moderators)"):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="reload", description="Reload the term files and show what "
                          "changed (or what is wrong)")
    @moderator_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        # Parsing a large glossary can take longer than Discord's 3-second answer window.
        await interaction.response.defer(ephemeral=True, thinking=True)
        diff = await self.bot.store.reload(self.bot.config.content_dir)
        await interaction.followup.send(embed=reload_embed(diff), ephemeral=True)

    @app_commands.command(name="stats", description="Most looked-up terms and missing terms "
                          "students asked for")
    @moderator_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        stats = await self.bot.store.stats()
        await interaction.response.send_message(
            embed=stats_embed(stats, self.bot.config.embed_colour), ephemeral=True
        )


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Moderation(bot))
