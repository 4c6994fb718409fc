"""Retention: what students typed for missing terms, and old quizzes, are forgotten.

Misses are free text from students, so they are kept ``miss_retention_days`` at most;
quizzes and their answers ``quiz_retention_days`` (scores stay). Pruning is two indexed
deletes, run in the background every hour on the bot's controllable clock.
"""

from __future__ import annotations

import logging

from discord.ext import commands, tasks

from bot.client import GlossaryBot
from bot.errors import SharedStateUnavailable

log = logging.getLogger(__name__)


class Retention(commands.Cog):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.prune_loop.start()

    async def cog_unload(self) -> None:
        self.prune_loop.cancel()

    @tasks.loop(hours=1)
    async def prune_loop(self) -> None:
        try:
            await self.prune()
        except SharedStateUnavailable as exc:  # PostgreSQL down: the next hour tries again
            log.warning("Pruning old records waits for the shared database (%s)", exc)

    @prune_loop.error
    async def _prune_failed(self, error: BaseException) -> None:
        log.error("Pruning old records failed; trying again in an hour", exc_info=error)

    async def prune(self) -> tuple[int, int]:
        """Forget what is past its retention now (by the bot's clock)."""
        config = self.bot.config
        misses, quizzes = await self.bot.store.records.prune(
            config.miss_retention_days, config.quiz_retention_days)
        if misses or quizzes:
            log.info("Forgot %d old missing-term queries and %d old quizzes", misses, quizzes)
        return misses, quizzes


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Retention(bot))
