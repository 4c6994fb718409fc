"""Term of the day: one card a day in the channel a moderator chose.

The day's term is claimed in the shared state (SQLite, or PostgreSQL for several
processes) before it is posted, so neither a restart, a reconnect nor a second process can
post twice on one day; the bot's clock is injectable so tests can move time.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from zoneinfo import ZoneInfo

import discord
from discord.ext import commands, tasks

from bot.cards import card_message, error_embed
from bot.client import GlossaryBot
from bot.errors import SharedStateUnavailable
from bot.storage.glossary import Glossary

log = logging.getLogger(__name__)


class TermOfTheDay(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        self.zone = ZoneInfo(bot.config.timezone)

    async def cog_load(self) -> None:
        self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()

    @tasks.loop(minutes=1)
    async def tick(self) -> None:
        try:
            await self.post_due(self.bot.clock())
        except SharedStateUnavailable as exc:  # PostgreSQL down: the next minute tries again
            log.warning("Term of the day waits for the shared database (%s)", exc)

    @tick.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @tick.error
    async def _tick_failed(self, error: BaseException) -> None:
        log.error("Term of the day stopped after an error; restarting it", exc_info=error)
        self.tick.restart()

    async def post_due(self, now: datetime.datetime) -> list[int]:
        """Post in every server whose hour has come today; returns the channels posted to."""
        local = now.astimezone(self.zone)
        day = local.date().isoformat()
        posted: list[int] = []
        for settings in await self.bot.store.records.daily_settings():
            if self.bot.get_guild(settings.guild_id) is None or local.hour < settings.daily_hour:
                continue  # another shard's server, or not yet time
            glossary = self.bot.glossary_for(settings.guild_id)
            slug = await self.bot.store.records.claim_daily_term(settings.guild_id, day,
                                                                 glossary.id)
            if slug is None:
                continue
            try:
                await self._post(glossary, settings.guild_id, settings.daily_channel_id, slug,
                                 day)
            except (discord.Forbidden, discord.NotFound) as exc:
                # The channel is gone or closed to the bot: trying every minute would only
                # fill the log. Today is skipped (the claim stays) and moderators are told.
                log.warning("Term of the day skipped in guild %s: channel %s refused (%s)",
                            settings.guild_id, settings.daily_channel_id, exc)
                await self._tell_moderators(settings.mod_channel_id, settings.daily_channel_id)
                continue
            except Exception:
                log.exception("Could not post the term of the day in guild %s channel %s; "
                              "trying again in a minute", settings.guild_id,
                              settings.daily_channel_id)
                await self.bot.store.records.release_daily_term(settings.guild_id, day)
                continue
            posted.append(settings.daily_channel_id)  # type: ignore[arg-type]
        return posted

    async def _tell_moderators(self, mod_channel_id: int | None, daily_channel_id: int | None
                               ) -> None:
        channel = self.bot.get_channel(mod_channel_id or 0)
        if not isinstance(channel, discord.abc.Messageable):
            return
        with contextlib.suppress(discord.HTTPException):
            await channel.send(embed=error_embed(
                "Term of the day not posted",
                f"The bot cannot post in <#{daily_channel_id}> (deleted, or missing the Send "
                "Messages and Embed Links permissions). It will try again tomorrow; choose "
                "another channel with `/glossary settings daily_channel:`.",
            ))

    async def _post(self, glossary: Glossary, guild_id: int, channel_id: int | None, slug: str,
                    day: str) -> None:
        assert channel_id is not None
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise TypeError(f"channel {channel_id} cannot receive messages")
        card = await glossary.card(slug)
        reply = await card_message(self.bot, card, guild_id)
        await channel.send(content=f"📅 **Term of the day** · {day}", **reply)


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(TermOfTheDay(bot))
