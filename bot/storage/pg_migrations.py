"""PostgreSQL's schema, as numbered migrations (shared state, issue 20).

Like ``bot.storage.migrations`` for SQLite: each entry is applied once, in order, in its own
transaction; a shipped entry is never edited, a change is a new entry at the end. Discord
ids are ``bigint``; times are ``double precision`` seconds since the epoch, as in SQLite.
"""

from __future__ import annotations

PG_MIGRATIONS: tuple[str, ...] = ()
