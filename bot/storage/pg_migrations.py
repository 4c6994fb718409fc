"""PostgreSQL's schema, as numbered migrations (shared state, issue 20).

Like ``bot.storage.migrations``: each entry is applied once, in order, in its own
transaction; a shipped entry is never edited, a change is a new entry at the end. Discord
ids are ``bigint``; times are ``double precision`` seconds since the epoch, as in SQLite.
"""

from __future__ import annotations

PG_MIGRATIONS: tuple[str, ...] = (
    # 1: the shared state: what SQLite's migrations 1-7 keep besides the glossary itself
    # (which each process indexes locally), with the same tables and columns, so each
    # storage module's SQL is written once (bot.storage.sql). Integers the code writes as
    # 0/1 stay integers. usage_flushes remembers each usage batch already added, so a
    # batch whose commit was acknowledged to nobody (the connection dropped) and is sent
    # again is not counted twice.
    """
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE guild_settings (guild_id bigint PRIMARY KEY, data text NOT NULL);
    CREATE TABLE lookups (
        guild_id bigint NOT NULL DEFAULT 0,
        glossary_id integer NOT NULL DEFAULT 1,
        slug text NOT NULL,
        count bigint NOT NULL,
        last_at double precision NOT NULL,
        PRIMARY KEY (guild_id, glossary_id, slug)
    );
    CREATE TABLE misses (
        guild_id bigint NOT NULL DEFAULT 0,
        glossary_id integer NOT NULL DEFAULT 1,
        key text NOT NULL,
        query text NOT NULL,
        count bigint NOT NULL,
        last_at double precision NOT NULL,
        PRIMARY KEY (guild_id, glossary_id, key)
    );
    CREATE INDEX misses_last ON misses(last_at);
    CREATE TABLE usage_flushes (id text PRIMARY KEY, at double precision NOT NULL);
    CREATE INDEX usage_flushes_at ON usage_flushes(at);
    CREATE TABLE quizzes (
        id bigserial PRIMARY KEY,
        guild_id bigint NOT NULL,
        answer text NOT NULL,
        choices text NOT NULL,
        mode text NOT NULL,
        created_at double precision NOT NULL,
        glossary_id integer NOT NULL DEFAULT 1
    );
    CREATE INDEX quizzes_created ON quizzes(created_at);
    CREATE TABLE quiz_answers (
        quiz_id bigint NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
        user_id bigint NOT NULL,
        choice text NOT NULL,
        correct integer NOT NULL,
        answered_at double precision NOT NULL,
        PRIMARY KEY (quiz_id, user_id)
    );
    CREATE INDEX quiz_answers_user ON quiz_answers(user_id);
    CREATE TABLE quiz_scores (
        guild_id bigint NOT NULL,
        user_id bigint NOT NULL,
        correct integer NOT NULL,
        answered integer NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE daily_posts (
        guild_id bigint NOT NULL,
        day text NOT NULL,
        slug text NOT NULL,
        cycle integer NOT NULL,
        glossary_id integer NOT NULL DEFAULT 1,
        PRIMARY KEY (guild_id, day)
    );
    CREATE TABLE suggestions (
        id bigserial PRIMARY KEY,
        guild_id bigint NOT NULL,
        slug text NOT NULL,
        title text NOT NULL,
        author_id bigint NOT NULL,
        author_name text NOT NULL,
        section text NOT NULL,
        problem text NOT NULL,
        proposal text NOT NULL,
        created_at double precision NOT NULL,
        delivered integer NOT NULL DEFAULT 0,
        glossary_id integer,
        status text NOT NULL DEFAULT 'open',
        decided_by bigint,
        decided_by_name text NOT NULL DEFAULT '',
        decided_at double precision,
        channel_id bigint,
        post_channel_id bigint,
        post_message_id bigint
    );
    CREATE INDEX suggestions_by_guild ON suggestions(guild_id, delivered, created_at);
    CREATE INDEX suggestions_author ON suggestions(author_id);
    CREATE TABLE study_saved (
        user_id bigint NOT NULL,
        slug text NOT NULL,
        title text NOT NULL,
        saved_at double precision NOT NULL,
        PRIMARY KEY (user_id, slug)
    );
    CREATE TABLE study_cards (
        user_id bigint NOT NULL,
        slug text NOT NULL,
        due double precision NOT NULL,
        reviews integer NOT NULL,
        source text NOT NULL,
        fsrs text,
        added_at double precision NOT NULL,
        PRIMARY KEY (user_id, slug)
    );
    CREATE INDEX study_cards_due ON study_cards(user_id, due);
    CREATE TABLE study_ratings (
        user_id bigint NOT NULL,
        slug text NOT NULL,
        rating integer NOT NULL,
        rated_at double precision NOT NULL
    );
    CREATE INDEX study_ratings_user ON study_ratings(user_id);
    CREATE INDEX study_ratings_slug ON study_ratings(slug, rating);
    CREATE TABLE study_lookups (
        user_id bigint NOT NULL,
        slug text NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (user_id, slug)
    );
    CREATE TABLE study_students (
        user_id bigint PRIMARY KEY,
        reminder_hour integer,
        track_lookups integer NOT NULL DEFAULT 0,
        reminded_day text,
        failed_reminders integer NOT NULL DEFAULT 0,
        glossary text,
        glossary_chosen integer NOT NULL DEFAULT 0
    );
    CREATE INDEX study_students_reminder ON study_students(reminder_hour)
        WHERE reminder_hour IS NOT NULL;
    CREATE TABLE term_history (
        id bigserial PRIMARY KEY,
        glossary_id integer NOT NULL DEFAULT 1,
        slug text NOT NULL,
        at double precision NOT NULL,
        source text NOT NULL,
        actor_id bigint,
        actor_name text NOT NULL DEFAULT '',
        credited_id bigint,
        sections text NOT NULL,
        before text,
        after text
    );
    CREATE INDEX term_history_glossary_slug ON term_history(glossary_id, slug, id);
    """,
    # 2: the published glossaries (bot.storage.published): by name, since SQLite's ids are
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
    # 3: glossary ids every process agrees on (shared rows: usage, misses, history,
    # suggestions, quizzes, daily posts are keyed by glossary id). A name gets its id here
    # once (``bot.storage.glossary_ids``) and each local index uses the same one; 1 stays
    # the default's, as in SQLite and migration 1's column defaults. server_glossaries:
    # the glossaries servers made with /glossary create, so every process knows which
    # server uses one and who edits it (SQLite migration 9's table, shared).
    """
    CREATE TABLE glossaries (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
    INSERT INTO glossaries(id, name) VALUES (1, 'default');
    SELECT setval(pg_get_serial_sequence('glossaries', 'id'), 1);
    CREATE TABLE server_glossaries (
        glossary_id integer PRIMARY KEY REFERENCES glossaries(id),
        guild_id bigint NOT NULL UNIQUE,
        course_name text NOT NULL,
        created_by bigint NOT NULL,
        created_by_name text NOT NULL DEFAULT '',
        copied_from text,
        created_at double precision NOT NULL
    );
    """,
    # 4: edits waiting to be written to the term files (issue 20). An edit made in Discord
    # on a host without a file-backed glossary's files is published like a reload, and
    # leaves a row here in the same transaction; the host with the files writes it back
    # (bot.publishing) and deletes the row, even if it was down when the edit was made.
    # ``base_*`` is the file as the files were last loaded (NULL: a new term, whose file
    # must not exist yet): a file saved since is not overwritten.
    """
    CREATE TABLE published_writebacks (
        glossary text NOT NULL REFERENCES published_glossaries(name) ON DELETE CASCADE,
        slug text NOT NULL,
        version bigint NOT NULL,
        base_file text,
        base_mtime_ns bigint,
        base_size bigint,
        PRIMARY KEY (glossary, slug)
    );
    """,
    # 5: gateway session starts shared by every process on every host (SQLite migration
    # 10's table): one row per rate-limit bucket, claimed under SELECT ... FOR UPDATE;
    # ``next_at`` is in the server's clock (epoch seconds), so hosts' clocks need not agree.
    """
    CREATE TABLE identify_buckets (
        bucket integer PRIMARY KEY,
        next_at double precision NOT NULL
    );
    """,
)
