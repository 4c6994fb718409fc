"""The stand-in's clock and its snowflakes, which carry that clock's time as Discord's do.

discord.py reads time from ids (``interaction.created_at``), and its cooldowns compare
those times; ids that do not follow the clock would make a cooldown never expire (or
expire at once). Tests move the clock forward with :meth:`Clock.advance` instead of
sleeping: tokens expire and cooldowns reset exactly as after that much real time.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable

from bot.sandbox.fake.constants import DISCORD_EPOCH_MS

WORKER_BITS = 1 << 17  # worker 1, process 0: ids look like Discord's, never 0 below the time
PAST_DAYS = 30  # how long before the clock's start the servers the bot is in were created


class Clock:
    """Real time plus an offset that only grows (``advance``)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        """Seconds since the Unix epoch, as the stand-in sees them."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.time(), _dt.UTC)

    def iso(self) -> str:
        return self.now().isoformat()


class Snowflakes:
    """Unique, increasing ids whose top bits are the clock's milliseconds (as Discord's).

    More than 4,096 ids in one millisecond borrow the next millisecond, so ids never
    repeat and never go backwards, even when the clock is read twice in one millisecond.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._last_ms = 0
        self._increment = 0
        self._past_ms = int(clock.time() * 1000) - DISCORD_EPOCH_MS - PAST_DAYS * 86_400_000

    def next(self, *, not_before_ms: int = 0) -> int:
        ms = max(int(self.clock.time() * 1000) - DISCORD_EPOCH_MS, not_before_ms)
        if ms <= self._last_ms:
            ms = self._last_ms
            self._increment += 1
            if self._increment > 0xFFF:
                ms, self._increment = ms + 1, 0
        else:
            self._increment = 0
        self._last_ms = ms
        return (ms << 22) | WORKER_BITS | self._increment

    def next_where(self, keep: Callable[[int], bool]) -> int:
        """The next id for which ``keep(id)`` holds (e.g. a guild on a given shard)."""
        candidate = self.next()
        while not keep(candidate):
            candidate = self.next(not_before_ms=(candidate >> 22) + 1)
        return candidate

    def earlier_where(self, keep: Callable[[int], bool]) -> int:
        """An id from before the clock started (``PAST_DAYS`` back, one per millisecond,
        increasing) for which ``keep(id)`` holds: a server exists before the bot joins it.

        Picking guilds' ids this way (not with :meth:`next_where`, which moves every later id
        a millisecond on per guild) keeps the ids of what happens now at the clock's time
        even with 16,000 guilds; the two ranges never meet (a month of milliseconds)."""
        while True:
            self._past_ms += 1
            candidate = (self._past_ms << 22) | WORKER_BITS
            if keep(candidate):
                return candidate


def snowflake_time(snowflake: int) -> float:
    """Seconds since the Unix epoch at which ``snowflake`` was made."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000
