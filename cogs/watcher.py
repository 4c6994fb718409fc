"""Automatic reload: with ``auto_reload = true``, saving a term file reloads the glossary.

watchfiles batches and debounces file events, so an editor's several writes become one
reload; the store's reload is all-or-nothing, so a half-saved file only produces an error
report while the previous glossary keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import watchfiles
from discord.ext import commands

from bot.cards import reload_embed, reload_failed_embed
from bot.client import GlossaryBot
from bot.errors import InvalidContent

log = logging.getLogger(__name__)
DEBOUNCE_MS = 800
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


class ContentWatcher(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self._watch(), name="glossary-content-watcher")

    async def cog_unload(self) -> None:
        self.stop.set()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _watch(self) -> None:
        """Watch until unloaded; if watching itself fails (the directory was removed, the
        system ran out of watches), say so and try again, waiting longer each time."""
        directory = self.bot.config.content_dir
        await self.bot.wait_until_ready()
        delay = RETRY_SECONDS
        while not self.stop.is_set():
            try:
                log.info("Watching %s for changes", directory)
                async for _changes in watchfiles.awatch(
                    directory, debounce=DEBOUNCE_MS, stop_event=self.stop, recursive=False
                ):
                    delay = RETRY_SECONDS
                    try:
                        await self.reload_and_report()
                    except Exception:
                        log.exception("Automatic reload failed")
            except Exception as exc:
                log.error("Cannot watch %s (%s); automatic reload is paused, trying again "
                          "in %.0f s", directory, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def reload_and_report(self) -> None:
        try:
            diff = await self.bot.store.reloads.reload(self.bot.config.content_dir)
        except InvalidContent as exc:
            log.warning("Automatic reload refused: %d error(s)", len(exc.errors))
            embed = reload_failed_embed(exc.problems)
        else:
            if diff.is_empty:
                return
            log.info("Automatic reload: %d added, %d changed, %d removed",
                     len(diff.added), len(diff.changed), len(diff.removed))
            embed = reload_embed(diff)
        embed.set_author(name="Automatic reload (a term file was saved)")
        for guild in self.bot.guilds:
            settings = await self.bot.store.records.guild_settings(guild.id)
            channel = guild.get_channel(settings.mod_channel_id or 0)
            if isinstance(channel, discord.abc.Messageable):
                try:
                    await channel.send(embed=embed)
                except discord.HTTPException:
                    log.warning("Could not report the reload in guild %s", guild.id)


async def setup(bot: GlossaryBot) -> None:
    if bot.config.auto_reload:
        await bot.add_cog(ContentWatcher(bot))
