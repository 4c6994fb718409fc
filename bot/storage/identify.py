"""Gateway session starts shared by every process: the next free IDENTIFY of each bucket.

Discord accepts one IDENTIFY per 5 s in each rate-limit bucket (``shard_id %
max_concurrency``), counted over every process of the bot, and answers one too soon with
Invalid Session. A process claims a start in one short transaction: the bucket's row is
locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` on the file
the processes of one host share), the claim gets ``max(now, next_at)`` and moves
``next_at`` one window on. The caller then sleeps until its start *outside* the
transaction: nothing is held while it waits or talks to Discord, and a process that dies
after claiming only leaves one start unused.

On PostgreSQL, "now" is the server's clock, so hosts whose clocks differ still agree;
on SQLite every process is on the one host, and ``time.time()`` is shared.
"""

from __future__ import annotations

import time

from bot.storage.sql import Shared

# A start further ahead than this is no queue but a clock that jumped back (or a row from
# a bot with far more shards): start from now instead of waiting for it.
MAX_AHEAD_S = 3600.0

_CREATE = ("INSERT INTO identify_buckets(bucket, next_at) VALUES (?, 0) "
           "ON CONFLICT(bucket) DO NOTHING")
_LOCK_PG = ("SELECT next_at, extract(epoch FROM clock_timestamp())::double precision "
            "FROM identify_buckets WHERE bucket = ? FOR UPDATE")
_LOCK_SQLITE = "SELECT next_at FROM identify_buckets WHERE bucket = ?"
_MOVE = "UPDATE identify_buckets SET next_at = ? WHERE bucket = ?"


class IdentifySlots:
    """The shared queue of session starts, one per bucket."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def claim(self, bucket: int, window: float) -> float:
        """Claim the next start in ``bucket``; the seconds to wait before sending it."""
        async with self._shared.transaction() as db:
            await db.execute(_CREATE, (bucket,))
            if self._shared.remote:
                next_at, now = (await db.fetch(_LOCK_PG, (bucket,)))[0]
            else:
                (next_at,), now = (await db.fetch(_LOCK_SQLITE, (bucket,)))[0], time.time()
            start = next_at if now <= next_at <= now + MAX_AHEAD_S else now
            await db.execute(_MOVE, (start + window, bucket))
        return start - now
