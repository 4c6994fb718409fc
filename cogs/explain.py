""""Explain terms": right-click a message > Apps, and see every glossary term it mentions.

Students meet terms in the conversation, not in a search box; this meets them there.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import DynamicView, RelatedTermButton, mentions_embed
from bot.client import GlossaryBot
from bot.contexts import ANY_CONTEXTS, ANY_INSTALLS, glossary_for

MAX_MESSAGE_CHARS = 4000
MAX_BUTTONS = 25


class Explain(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(
            name="Explain terms", callback=self.explain,
            allowed_contexts=ANY_CONTEXTS, allowed_installs=ANY_INSTALLS,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def explain(self, interaction: discord.Interaction, message: discord.Message) -> None:
        text = " ".join([message.content, *(e.description or "" for e in message.embeds)])
        glossary = glossary_for(interaction)
        found = await glossary.mentioned_terms(text[:MAX_MESSAGE_CHARS])
        view = DynamicView()
        for slug, title in found[:MAX_BUTTONS]:
            view.add_item(RelatedTermButton(slug, label=title, mode="n",
                                            glossary_id=glossary.id))
        await interaction.response.send_message(
            embed=mentions_embed(found, self.bot.config.embed_colour), view=view, ephemeral=True
        )


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Explain(bot))
