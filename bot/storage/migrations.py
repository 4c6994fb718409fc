"""The schema: numbered migrations, each bringing the database one version up.

Never edit a migration that has shipped; append one. A new searchable section of a term
needs one too: ``bot.sections.text_view_migration()`` rebuilds the full-text view from the
declaration and empties the glossary, which the next start loads again from the files.
"""

from __future__ import annotations

# Numbered migrations: index i brings the schema from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    # 1: the glossary, its name index, full-text and trigram indexes, usage records.
    """
    CREATE TABLE terms (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        data TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    );
    CREATE TABLE names (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL REFERENCES terms(slug) ON DELETE CASCADE,
        name TEXT NOT NULL
    );
    CREATE INDEX names_slug ON names(slug);
    CREATE VIRTUAL TABLE terms_fts USING fts5(
        slug UNINDEXED, title, aliases, body,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE names_trigram USING fts5(
        key, content = 'names', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER names_ai AFTER INSERT ON names BEGIN
        INSERT INTO names_trigram(rowid, key) VALUES (new.id, new.key);
    END;
    CREATE TRIGGER names_ad AFTER DELETE ON names BEGIN
        INSERT INTO names_trigram(names_trigram, rowid, key) VALUES ('delete', old.id, old.key);
    END;
    CREATE TABLE lookups (
        slug TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL
    );
    CREATE TABLE misses (
        key TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: per-server settings, quizzes and scores, term-of-the-day history.
    """
    CREATE TABLE guild_settings (guild_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE quizzes (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        answer TEXT NOT NULL,
        choices TEXT NOT NULL,
        mode TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE quiz_answers (
        quiz_id INTEGER NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        choice TEXT NOT NULL,
        correct INTEGER NOT NULL,
        answered_at REAL NOT NULL,
        PRIMARY KEY (quiz_id, user_id)
    );
    CREATE TABLE quiz_scores (
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE daily_posts (
        guild_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        slug TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        PRIMARY KEY (guild_id, day)
    );
    """,
    # 3: each term remembers its file (so unchanged files are not parsed again, even after
    # a restart) and has an id that its full-text row shares (so a changed term is deleted
    # by rowid, not by scanning the index); its JSON lives in a table of its own, so the
    # scans a reload makes over files and names never read it; the full-text index reads
    # its text from there through a view instead of keeping a second copy; names may
    # repeat a key until a reload's checks have run, and typos are matched in memory, so
    # the trigram index goes; related terms get a table of their own. The glossary is
    # derived from the files: the next start loads it again. Usage, settings, quizzes and
    # daily posts stay.
    """
    DROP TRIGGER names_ai;
    DROP TRIGGER names_ad;
    DROP TABLE names_trigram;
    DROP TABLE terms_fts;
    DROP TABLE names;
    DROP TABLE terms;
    DELETE FROM meta WHERE key IN ('content_stamp', 'content_warnings');
    CREATE TABLE terms (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        file TEXT NOT NULL UNIQUE,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        names_fingerprint TEXT NOT NULL,
        title TEXT NOT NULL,
        category TEXT
    );
    CREATE INDEX terms_category ON terms(category);
    CREATE TABLE term_data (
        term_id INTEGER PRIMARY KEY REFERENCES terms(id) ON DELETE CASCADE,
        data TEXT NOT NULL
    );
    CREATE TABLE names (
        key TEXT NOT NULL,
        term_id INTEGER NOT NULL REFERENCES terms(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        line INTEGER NOT NULL,
        words INTEGER NOT NULL,
        PRIMARY KEY (key, term_id)
    ) WITHOUT ROWID;
    CREATE INDEX names_term ON names(term_id);
    CREATE TABLE links (
        term_id INTEGER NOT NULL REFERENCES terms(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        target TEXT NOT NULL,
        line INTEGER NOT NULL,
        PRIMARY KEY (term_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX links_target ON links(target);
    CREATE VIEW term_text(id, title, aliases, body) AS
    SELECT t.id, t.title,
           (SELECT group_concat(value, ' ') FROM json_each(data, '$.aliases')),
           json_extract(data, '$.definition') || char(10)
             || json_extract(data, '$.why_it_matters') || char(10)
             || json_extract(data, '$.course_example') || char(10)
             || json_extract(data, '$.real_world_example') || char(10)
             || coalesce((SELECT group_concat(value, char(10))
                          FROM json_each(data, '$.common_mistakes')), '')
    FROM terms t JOIN term_data d ON d.term_id = t.id;
    CREATE VIRTUAL TABLE terms_fts USING fts5(
        title, aliases, body, content = 'term_text', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
    # 4: suggested fixes, saved before they are posted so none is ever lost.
    """
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        slug TEXT NOT NULL,
        title TEXT NOT NULL,
        author_id INTEGER NOT NULL,
        author_name TEXT NOT NULL,
        section TEXT NOT NULL,
        problem TEXT NOT NULL,
        proposal TEXT NOT NULL,
        created_at REAL NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX suggestions_by_guild ON suggestions(guild_id, delivered, created_at);
    """,
    # 5: the study companion (issue 18), everything per student and theirs to delete:
    # saved terms (with the title they had, to name one that left the glossary), review
    # cards with their FSRS state (``reviews`` counts ratings, so a second click on the
    # same rating, or an old button, changes nothing), the ratings given (class-level
    # figures only), lookups of students who opted in, and each student's settings.
    """
    CREATE TABLE study_saved (
        user_id INTEGER NOT NULL,
        slug TEXT NOT NULL,
        title TEXT NOT NULL,
        saved_at REAL NOT NULL,
        PRIMARY KEY (user_id, slug)
    ) WITHOUT ROWID;
    CREATE TABLE study_cards (
        user_id INTEGER NOT NULL,
        slug TEXT NOT NULL,
        due REAL NOT NULL,
        reviews INTEGER NOT NULL,
        source TEXT NOT NULL,
        fsrs TEXT,
        added_at REAL NOT NULL,
        PRIMARY KEY (user_id, slug)
    ) WITHOUT ROWID;
    CREATE INDEX study_cards_due ON study_cards(user_id, due);
    CREATE TABLE study_ratings (
        user_id INTEGER NOT NULL,
        slug TEXT NOT NULL,
        rating INTEGER NOT NULL,
        rated_at REAL NOT NULL
    );
    CREATE INDEX study_ratings_user ON study_ratings(user_id);
    CREATE INDEX study_ratings_slug ON study_ratings(slug, rating);
    CREATE TABLE study_lookups (
        user_id INTEGER NOT NULL,
        slug TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (user_id, slug)
    ) WITHOUT ROWID;
    CREATE TABLE study_students (
        user_id INTEGER PRIMARY KEY,
        reminder_hour INTEGER,
        track_lookups INTEGER NOT NULL DEFAULT 0,
        reminded_day TEXT,
        failed_reminders INTEGER NOT NULL DEFAULT 0,
        glossary TEXT,
        glossary_chosen INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX study_students_reminder ON study_students(reminder_hour)
        WHERE reminder_hour IS NOT NULL;
    """,
    # 6: many glossaries in one database. Each term, name and link belongs to a glossary
    # (the default one, id 1, holds what there was), so two glossaries may use one slug
    # for different terms; usage, misses, quizzes and daily posts say which server and
    # glossary they belong to. Terms keep their ids, so the full-text rows stay valid.
    # Old usage records go to the one server the database knows of, if it knows exactly
    # one, else to server 0 (shown to no server).
    """
    CREATE TABLE glossaries (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        version TEXT,
        last_reload_at REAL
    );
    INSERT INTO glossaries(id, name, version, last_reload_at) VALUES (1, 'default',
        (SELECT value FROM meta WHERE key = 'content_version'),
        (SELECT CAST(value AS REAL) FROM meta WHERE key = 'last_reload_at'));
    DELETE FROM meta WHERE key IN ('content_version', 'last_reload_at');
    DROP VIEW term_text;
    CREATE TABLE terms_new (
        id INTEGER PRIMARY KEY,
        glossary_id INTEGER NOT NULL DEFAULT 1 REFERENCES glossaries(id),
        slug TEXT NOT NULL,
        file TEXT NOT NULL,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        names_fingerprint TEXT NOT NULL,
        title TEXT NOT NULL,
        category TEXT,
        UNIQUE (glossary_id, slug),
        UNIQUE (glossary_id, file)
    );
    INSERT INTO terms_new SELECT id, 1, slug, file, mtime_ns, size, fingerprint,
        names_fingerprint, title, category FROM terms;
    CREATE TABLE term_data_new (
        term_id INTEGER PRIMARY KEY REFERENCES terms_new(id) ON DELETE CASCADE,
        data TEXT NOT NULL
    );
    INSERT INTO term_data_new SELECT term_id, data FROM term_data;
    CREATE TABLE names_new (
        glossary_id INTEGER NOT NULL DEFAULT 1,
        key TEXT NOT NULL,
        term_id INTEGER NOT NULL REFERENCES terms_new(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        line INTEGER NOT NULL,
        words INTEGER NOT NULL,
        PRIMARY KEY (glossary_id, key, term_id)
    ) WITHOUT ROWID;
    INSERT INTO names_new SELECT 1, key, term_id, name, kind, line, words FROM names;
    CREATE TABLE links_new (
        term_id INTEGER NOT NULL REFERENCES terms_new(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        target TEXT NOT NULL,
        line INTEGER NOT NULL,
        PRIMARY KEY (term_id, position)
    ) WITHOUT ROWID;
    INSERT INTO links_new SELECT term_id, position, target, line FROM links;
    DROP TABLE links;
    DROP TABLE names;
    DROP TABLE term_data;
    DROP TABLE terms;
    ALTER TABLE terms_new RENAME TO terms;
    ALTER TABLE term_data_new RENAME TO term_data;
    ALTER TABLE names_new RENAME TO names;
    ALTER TABLE links_new RENAME TO links;
    CREATE INDEX terms_glossary ON terms(glossary_id);
    CREATE INDEX terms_category ON terms(glossary_id, category);
    CREATE INDEX names_term ON names(term_id);
    CREATE INDEX links_target ON links(target);
    CREATE VIEW term_text(id, title, aliases, body) AS
    SELECT t.id, t.title,
           (SELECT group_concat(value, ' ') FROM json_each(data, '$.aliases')),
           json_extract(data, '$.definition') || char(10)
             || json_extract(data, '$.why_it_matters') || char(10)
             || json_extract(data, '$.course_example') || char(10)
             || json_extract(data, '$.real_world_example') || char(10)
             || coalesce((SELECT group_concat(value, char(10))
                          FROM json_each(data, '$.common_mistakes')), '')
    FROM terms t JOIN term_data d ON d.term_id = t.id;
    CREATE TEMP TABLE legacy_guild AS SELECT CASE WHEN count(*) = 1 THEN max(g) ELSE 0 END
        AS id FROM (SELECT guild_id AS g FROM guild_settings UNION SELECT guild_id FROM quizzes
                    UNION SELECT guild_id FROM daily_posts
                    UNION SELECT guild_id FROM suggestions);
    CREATE TABLE lookups_new (
        guild_id INTEGER NOT NULL DEFAULT 0,
        glossary_id INTEGER NOT NULL DEFAULT 1,
        slug TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL,
        PRIMARY KEY (guild_id, glossary_id, slug)
    ) WITHOUT ROWID;
    INSERT INTO lookups_new SELECT (SELECT id FROM legacy_guild), 1, slug, count, last_at
        FROM lookups;
    DROP TABLE lookups;
    ALTER TABLE lookups_new RENAME TO lookups;
    CREATE TABLE misses_new (
        guild_id INTEGER NOT NULL DEFAULT 0,
        glossary_id INTEGER NOT NULL DEFAULT 1,
        key TEXT NOT NULL,
        query TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL,
        PRIMARY KEY (guild_id, glossary_id, key)
    ) WITHOUT ROWID;
    INSERT INTO misses_new SELECT (SELECT id FROM legacy_guild), 1, key, query, count, last_at
        FROM misses;
    DROP TABLE misses;
    ALTER TABLE misses_new RENAME TO misses;
    DROP TABLE legacy_guild;
    CREATE INDEX misses_last ON misses(last_at);
    ALTER TABLE quizzes ADD COLUMN glossary_id INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX quizzes_created ON quizzes(created_at);
    ALTER TABLE daily_posts ADD COLUMN glossary_id INTEGER NOT NULL DEFAULT 1;
    """,
    # 7: the history of terms (issue 19): who changed which sections of a term when, with
    # the term's JSON before (NULL: added) and after (NULL: removed); sources as
    # bot.storage.history.SOURCES. actor_id is NULL for a reload or the terminal;
    # credited_id is the student whose suggestion was applied.
    """
    CREATE TABLE term_history (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL,
        at REAL NOT NULL,
        source TEXT NOT NULL,
        actor_id INTEGER,
        actor_name TEXT NOT NULL DEFAULT '',
        credited_id INTEGER,
        sections TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX term_history_slug ON term_history(slug, id);
    """,
    # 8: each history row names its glossary (issue 19), so two glossaries with a term of
    # the same slug keep separate histories. Rows from before belonged to the only
    # glossary there was, the default (id 1), as migration 6 assumed for usage.
    """
    ALTER TABLE term_history ADD COLUMN glossary_id INTEGER NOT NULL DEFAULT 1;
    DROP INDEX term_history_slug;
    CREATE INDEX term_history_glossary_slug ON term_history(glossary_id, slug, id);
    """,
    # 9: authoring closes the loop (issue 19). A suggestion says which glossary it is for
    # (NULL: posted before, the server's glossary), its status ('open', 'applying' while
    # an editor's Apply is being saved, 'applied', 'dismissed'), who decided it when, and
    # the channel and message it came from and was posted as (to tell the student, and to
    # edit the post). server_glossaries: database-only glossaries a server's moderators
    # made with /glossary create (when the config allows it), one per server.
    """
    ALTER TABLE suggestions ADD COLUMN glossary_id INTEGER;
    ALTER TABLE suggestions ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE suggestions ADD COLUMN decided_by INTEGER;
    ALTER TABLE suggestions ADD COLUMN decided_by_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE suggestions ADD COLUMN decided_at REAL;
    ALTER TABLE suggestions ADD COLUMN channel_id INTEGER;
    ALTER TABLE suggestions ADD COLUMN post_channel_id INTEGER;
    ALTER TABLE suggestions ADD COLUMN post_message_id INTEGER;
    CREATE TABLE server_glossaries (
        glossary_id INTEGER PRIMARY KEY REFERENCES glossaries(id),
        guild_id INTEGER NOT NULL UNIQUE,
        course_name TEXT NOT NULL,
        created_by INTEGER NOT NULL,
        created_by_name TEXT NOT NULL DEFAULT '',
        copied_from TEXT,
        created_at REAL NOT NULL
    );
    """,
    # 10: gateway session starts (issue 20). Discord accepts one IDENTIFY per 5 s in each
    # rate-limit bucket (shard_id % max_concurrency) across every process of the bot;
    # processes on one host share this file, and each claims the next free start of its
    # shard's bucket here (bot.storage.identify): ``next_at`` is the earliest time.time()
    # the next IDENTIFY in that bucket may be sent.
    """
    CREATE TABLE identify_buckets (
        bucket INTEGER PRIMARY KEY,
        next_at REAL NOT NULL
    );
    """,
)
