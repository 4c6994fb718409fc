"""Automatic reload: with ``auto_reload = true``, saving a term file reloads its glossary
and the report goes to the moderators' channel of each server using that glossary (watcher
and report: bot.reloads). One watcher per glossary kept in files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bot.client import GlossaryBot
from bot.glossaries import GlossarySpec
from bot.reloads import AUTO_RELOAD, ContentWatcher, reload_and_report

log = logging.getLogger(__name__)


class AutoReload(commands.Cog):
    """``auto_reload = true``: a saved term file is reloaded and reported to moderators."""

    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.watchers = [ContentWatcher(spec.content_dir, self._teller(spec))
                         for spec in bot.glossary_map.specs if spec.content_dir is not None]
        self.watcher = self.watchers[0] if self.watchers else None
        self.task: asyncio.Task[None] | None = None

    def _teller(self, spec: GlossarySpec):  # noqa: ANN202 - the watcher's callback
        async def tell() -> None:
            await self.reload_and_tell(spec)
        return tell

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self._watch_when_ready(), name="glossary-auto-reload")

    async def _watch_when_ready(self) -> None:
        await self.bot.wait_until_ready()  # reports go to servers' channels
        for watcher in self.watchers:
            await watcher.start()

    async def cog_unload(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        for watcher in self.watchers:
            await watcher.stop()

    async def reload_and_tell(self, spec: GlossarySpec | None = None) -> None:
        spec = spec or self.bot.glossary_map.default
        assert spec.content_dir is not None
        report = await reload_and_report(self.bot.store, spec.content_dir, spec.name,
                                         actor_name=AUTO_RELOAD)
        if not report.is_news:
            return
        report.embed.set_author(name="Automatic reload (a term file was saved)")
        for guild in self.bot.guilds:
            if self.bot.spec_for(guild.id) is not spec:
                continue  # another glossary's servers
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
