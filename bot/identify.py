"""Gateway IDENTIFYs paced across processes, so Discord refuses none of them.

Discord lets a bot start ``max_concurrency`` sessions per 5 s, one per rate-limit bucket
(``shard_id % max_concurrency``), however many processes and hosts it runs on
(https://discord.com/developers/docs/events/gateway#rate-limiting); an IDENTIFY too soon
gets Invalid Session, and discord.py tries again 5 s later. discord.py paces the shards of
one process only (its ``before_identify_hook`` sleeps 5 s before every IDENTIFY but a
process's first), so processes started together (docs/scaling.md, one systemd unit per
shard range) IDENTIFY at once. The bot's hook asks :class:`IdentifyTurns` instead, which
claims the bucket's next free start in the shared state (``bot.storage.identify``) and
waits for it: start-up takes about 5 s per shard per bucket, which is Discord's rule.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from bot.errors import SharedStateUnavailable
from bot.storage.identify import IdentifySlots

log = logging.getLogger(__name__)

# Discord's window, and a margin for the time between the claim and the IDENTIFY reaching
# Discord, which differs between processes (a PostgreSQL round trip, the network).
DISCORD_WINDOW_S = 5.0
MARGIN_S = 0.5
IDENTIFY_WINDOW_S = DISCORD_WINDOW_S + MARGIN_S  # the time between two starts in a bucket


class IdentifyTurns:
    """Each shard's turn to IDENTIFY, agreed with the other processes.

    ``max_concurrency`` is asked once (from ``GET /gateway/bot``) and kept; if that fails,
    1, the value every bot below Discord's large-bot sharding has, so buckets never
    overlap."""

    def __init__(
        self,
        slots: IdentifySlots,
        max_concurrency: Callable[[], Awaitable[int]],
        *,
        window: float = IDENTIFY_WINDOW_S,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.slots = slots
        self.window = window
        self._ask_max_concurrency = max_concurrency
        self._max_concurrency: int | None = None
        self._sleep = sleep
        self.waited: list[tuple[int, float]] = []  # (shard id, seconds waited), newest last

    async def max_concurrency(self) -> int:
        if self._max_concurrency is None:
            try:
                self._max_concurrency = max(1, int(await self._ask_max_concurrency()))
            except Exception as exc:  # Discord unreachable: the safe value, logged
                log.warning("Could not read max_concurrency from Discord (%s); pacing "
                            "IDENTIFYs as for 1", exc)
                self._max_concurrency = 1
        return self._max_concurrency

    async def wait(self, shard_id: int, *, initial: bool) -> None:
        """Return when ``shard_id`` may IDENTIFY. With the shared state unreachable,
        discord.py's own pause (5 s but before a process's first IDENTIFY): Discord may
        then refuse one, and discord.py identifies again after its pause."""
        bucket = shard_id % await self.max_concurrency()
        try:
            delay = await self.slots.claim(bucket, self.window)
        except (SharedStateUnavailable, sqlite3.Error) as exc:
            log.warning("Could not claim an IDENTIFY turn for shard %d (%s); identifying "
                        "without one", shard_id, exc)
            delay = 0.0 if initial else DISCORD_WINDOW_S
        self.waited.append((shard_id, delay))
        if delay > 0:
            log.info("Shard %d identifies in %.1f s (bucket %d's turn, shared with the other "
                     "processes)", shard_id, delay, bucket)
            await self._sleep(delay)
