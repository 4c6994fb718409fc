"""The study companion: saved terms, spaced review, reminders and a student's own data."""

from __future__ import annotations

from discord.ext import commands

from bot.client import GlossaryBot


class Study(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Study(bot))
