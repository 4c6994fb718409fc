"""/search: find a term from a word the student remembers from its explanation."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import SearchPageButton, search_embed, search_view
from bot.cards.buttons import SEARCH_PAGE_SIZE
from bot.client import GlossaryBot, lookup_cooldown
from bot.contexts import anywhere, class_server_id

# The paging buttons carry the query in their custom_id (100 characters in all), so a
# query that fits is the one page 2 searches for too.
MAX_QUERY_CHARS = 80


class Search(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Search every glossary card for words")
    @app_commands.describe(query="Words from the definition, examples or mistakes")
    @lookup_cooldown()
    @anywhere()
    async def search(
        self, interaction: discord.Interaction,
        query: app_commands.Range[str, 1, MAX_QUERY_CHARS],
    ) -> None:
        await interaction.response.send_message(
            **await self._page(class_server_id(interaction), query, 0), ephemeral=True)

    async def show_page(self, interaction: discord.Interaction, query: str, offset: int) -> None:
        """Previous or next (SearchPageButton): the same message shows the other page."""
        await interaction.response.edit_message(
            **await self._page(class_server_id(interaction), query, offset))

    async def _page(self, guild_id: int | None, query: str, offset: int) -> dict[str, object]:
        glossary = self.bot.glossary_for(guild_id)
        page = await glossary.search(query, SEARCH_PAGE_SIZE, offset)
        return {"embed": search_embed(query, page, self.bot.config.embed_colour),
                "view": search_view(query, page, glossary.id)}


async def setup(bot: GlossaryBot) -> None:
    bot.add_dynamic_items(SearchPageButton)
    await bot.add_cog(Search(bot))


async def teardown(bot: GlossaryBot) -> None:
    bot.remove_dynamic_items(SearchPageButton)
