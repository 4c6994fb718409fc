"""Automatic reload: with ``auto_reload = true``, saving a term file reloads the glossary
and the report goes to each server's moderators' channel (watcher and report: bot.reloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bot.client import GlossaryBot
from bot.reloads import ContentWatcher, reload_and_report

log = logging.getLogger(__name__)


class AutoReload(commands.Cog):
    """``auto_reload = true``: a saved term file is reloaded and reported to moderators."""

    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.watcher = ContentWatcher(bot.config.content_dir, self.reload_and_tell)
        self.task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self._watch_when_ready(), name="glossary-auto-reload")

    async def _watch_when_ready(self) -> None:
        await self.bot.wait_until_ready()  # reports go to servers' channels
        await self.watcher.start()

    async def cog_unload(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.watcher.stop()

    async def reload_and_tell(self) -> None:
        report = await reload_and_report(self.bot.store, self.bot.config.content_dir)
        if not report.is_news:
            return
        report.embed.set_author(name="Automatic reload (a term file was saved)")
        for guild in self.bot.guilds:
            settings = await self.bot.store.records.guild_settings(guild.id)
            channel = guild.get_channel(settings.mod_channel_id or 0)
            if isinstance(channel, discord.abc.Messageable):
                try:
                    await channel.send(embed=report.embed)
                except discord.HTTPException:
                    log.warning("Could not report the reload in guild %s", guild.id)


async def setup(bot: GlossaryBot) -> None:
    if bot.config.auto_reload:
        await bot.add_cog(AutoReload(bot))
