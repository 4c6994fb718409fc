"""PostgreSQL's schema, as numbered migrations (shared state, issue 20).

Like ``bot.storage.migrations``: each entry is applied once, in order, in its own
transaction; a shipped entry is never edited, a change is a new entry at the end. Discord
ids are ``bigint``; times are ``double precision`` seconds since the epoch, as in SQLite.
"""

from __future__ import annotations

PG_MIGRATIONS: tuple[str, ...] = (
    # The published glossaries (bot.storage.published): by name, since SQLite's ids are
    # each process's own. ``version`` counts publishes; a term row remembers the version
    # that last changed it, and a removed term stays as a row without its record (a
    # tombstone), so a process that missed publishes catches up with one indexed query.
    # ``record`` is the term as the local index writes it (bot.directory.TermRecord, JSON);
    # file, mtime and size let a host with the files skip unchanged ones on reload.
    """
    CREATE TABLE published_glossaries (
        name text PRIMARY KEY,
        version bigint NOT NULL,
        content_version text NOT NULL,
        published_at double precision NOT NULL
    );
    CREATE TABLE published_terms (
        glossary text NOT NULL REFERENCES published_glossaries(name) ON DELETE CASCADE,
        slug text NOT NULL,
        version bigint NOT NULL,
        file text NOT NULL,
        mtime_ns bigint NOT NULL,
        size bigint NOT NULL,
        record text,
        PRIMARY KEY (glossary, slug)
    );
    CREATE INDEX published_terms_since ON published_terms (glossary, version);
    """,
)
