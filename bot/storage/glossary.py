"""The glossary as served: cards, autocomplete, search, quiz material, the name index.

One ``Glossary`` serves one glossary of the database (``glossary_id``): the store keeps
one per configured glossary, each with its own name index and card cache, so a lookup in
one never reads another's names. Names are kept in memory (``bot.search.NameIndex``)
for autocomplete, "did you mean" and "Explain terms"; the index is rebuilt after each
reload, and within seconds when another process sharing the database reloaded. Cards
already read for the current glossary version are answered from memory; any other
lookup is one ``execute_fetchall``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from bot.errors import TermNotFound
from bot.freeing import let_go
from bot.matcher import find_mentions
from bot.models import Card, SearchHit, SearchPage, Suggestion, Term, name_key, term_from_json
from bot.search import NameIndex, clean_query, fts_query, name_boost_query, names_within
from bot.storage.database import Database, log_failure

AUTOCOMPLETE_LIMIT = 25
SUGGESTION_LIMIT = 5
INDEX_CHECK_SECONDS = 2.0  # how stale another process's reload may leave the name index
CACHED_CARDS = 4096
INLINE_FUZZY_KEYS = 50_000  # name keys (about 20,000 terms); see autocomplete()
MEMO_ENTRIES = 8192  # answers derived from the current glossary (rendered choices)

_CARD_SQL = """
SELECT d.data,
       (SELECT json_group_object(r.slug, r.title) FROM links l JOIN terms r
         ON r.glossary_id = ?1 AND r.slug = l.target WHERE l.term_id = d.term_id),
       t.file
FROM names n JOIN term_data d ON d.term_id = n.term_id JOIN terms t ON t.id = n.term_id
WHERE n.glossary_id = ?1 AND n.key = ?2 LIMIT 1
"""

# bm25 ranks every hit, but snippets (which re-read the text) are made for one page only.
# The full-text query runs once, unconstrained, and its hits are then kept to this
# glossary: given ``rowid IN (this glossary's ids)`` FTS5 runs the whole query again for
# each id (a rowid-equality plan), so a short prefix such as "bra" that matches nearly
# every term took minutes at 10,000 terms.
_SEARCH_SQL = """
WITH named AS MATERIALIZED (
    SELECT rowid FROM terms_fts WHERE terms_fts MATCH ?2
), found AS MATERIALIZED (
    SELECT rowid, bm25(terms_fts, 10.0, 6.0, 1.0) AS score
    FROM terms_fts WHERE terms_fts MATCH ?1
), hits AS MATERIALIZED (
    SELECT f.rowid, f.score - (CASE WHEN f.rowid IN named THEN 1000.0 ELSE 0.0 END) AS rank
    FROM found f JOIN terms t ON t.id = f.rowid WHERE t.glossary_id = ?5
), page AS MATERIALIZED (
    SELECT rowid, rank FROM hits ORDER BY rank LIMIT ?3 OFFSET ?4
)
SELECT t.slug, t.title, snippet(terms_fts, 2, char(2), char(3), '…', 14), page.rank,
       (SELECT count(*) FROM hits)
FROM page JOIN terms_fts ON terms_fts.rowid = page.rowid JOIN terms t ON t.id = page.rowid
WHERE terms_fts MATCH ?1
ORDER BY page.rank
"""

# Random picks go over ids in an index, so a quiz never reads the whole glossary.
_QUIZ_SQL = """
WITH answer AS MATERIALIZED (
    SELECT id, category FROM terms WHERE glossary_id = ?3 AND (?1 IS NULL OR category = ?1)
    ORDER BY random() LIMIT 1
), same AS MATERIALIZED (
    SELECT t.id FROM terms t, answer a
    WHERE t.glossary_id = ?3 AND t.category = a.category AND t.id <> a.id ORDER BY random() LIMIT ?2
), others AS MATERIALIZED (
    SELECT id FROM terms WHERE glossary_id = ?3 AND EXISTS (SELECT 1 FROM answer)
    AND id NOT IN (SELECT id FROM answer) ORDER BY random() LIMIT ?2
)
SELECT 0, data FROM term_data WHERE term_id IN (SELECT id FROM answer)
UNION ALL SELECT 1, data FROM term_data WHERE term_id IN (SELECT id FROM same)
UNION ALL SELECT 2, data FROM term_data WHERE term_id IN (SELECT id FROM others)
"""

# The name index's columns, read a slice at a time as JSON arrays: SQLite builds each array
# without the GIL, and json.loads turns a slice into strings or numbers in one short C
# call (about 1 ms for 10,000). Rows one by one, through a row factory, held the GIL for
# 1.5 s at 100,000 terms; whole columns at once, for 20-35 ms each, as one C call the event
# loop cannot interrupt.
INDEX_SLICE_ROWS = 10_000
POSITION_RUN = 1000  # ids mapped to positions per step (see _read_index)
# Each slice starts after the last row of the one before (an index seek; OFFSET would
# walk every row skipped, 2.6 G instructions of SQLite at 100,000 terms).
_INDEX_TERMS_SQL = """
SELECT json_group_array(id), json_group_array(slug), json_group_array(title) FROM (
    SELECT id, slug, title FROM terms WHERE glossary_id = ?1 AND id > ?2
    ORDER BY id LIMIT ?3)
"""
_INDEX_NAMES_SQL = """
SELECT json_group_array(key), json_group_array(term_id), json_group_array(min(words, 65535))
FROM (SELECT key, term_id, words FROM names
      WHERE glossary_id = ?1 AND (key, term_id) > (?2, ?3) ORDER BY key, term_id LIMIT ?4)
"""


DEFAULT_GLOSSARY_ID = 1  # what a database from before glossaries held


class Glossary:
    """Reads of one loaded glossary, on the reader connection."""

    def __init__(self, db: Database, glossary_id: int = DEFAULT_GLOSSARY_ID,
                 name: str = "default") -> None:
        self._db = db
        self.id = glossary_id
        self.name = name
        self._index: NameIndex | None = None
        self._index_version: str | None = None
        self._index_checked = 0.0
        self._index_lock = asyncio.Lock()
        self._index_task: asyncio.Task[None] | None = None
        # By slug, and see recall(): for the index's version. Bounded, the oldest entry
        # going first: clearing 4,096 cards at once held the event loop 10-12 ms.
        self._cards: OrderedDict[str, Card] = OrderedDict()
        self._memo: OrderedDict[object, object] = OrderedDict()
        self._freeing: set[asyncio.Task[None]] = set()  # see _let_go_later

    async def close(self) -> None:
        if self._index_task is not None:
            await asyncio.gather(self._index_task, return_exceptions=True)
        await asyncio.gather(*self._freeing, return_exceptions=True)

    @property
    def content_version(self) -> str | None:
        """Changes whenever the glossary served here changes; renderers key caches on it."""
        return self._index_version

    def recall(self, key: object) -> object | None:
        """What a renderer remembered under ``key`` for the glossary as it is now.

        Autocomplete asks the same few prefixes over and over (a class types the same
        words), so its rendered answer is kept; every entry is dropped when the content
        version changes, so nothing derived from an older glossary is ever served. When
        another process's reload is due to be looked for (see names()) nothing is
        recalled, so the caller's next lookup takes the path that looks.
        """
        if time.monotonic() - self._index_checked >= INDEX_CHECK_SECONDS:
            return None
        return self._memo.get(key)

    def remember(self, key: object, value: object) -> None:
        """Keep ``value`` for ``recall`` until the content changes (bounded)."""
        if len(self._memo) >= MEMO_ENTRIES:
            self._memo.popitem(last=False)
        self._memo[key] = value

    async def card(self, query: str) -> Card:
        """The card for a slug, title or alias, in any case, accents or punctuation.

        Cards already read for the current glossary version are answered from memory, the
        name index telling which term a spelling means; others take one query.
        """
        key = name_key(query)
        if not key:
            raise TermNotFound(query, [])
        index = await self.names()
        version = self._index_version
        known = index.exact(key)
        if known is not None and (cached := self._cards.get(known[0])) is not None:
            return cached
        rows = await self._db.reader.execute_fetchall(_CARD_SQL, (self.id, key))
        if not rows:
            raise TermNotFound(query, await self.suggest(query))
        data, related, file = rows[0]
        card = Card(term_from_json(data), json.loads(related) if related else {}, file, self.id)
        if version == self._index_version:  # not read across a reload
            if len(self._cards) >= CACHED_CARDS:
                self._cards.popitem(last=False)
            self._cards[card.term.slug] = card
        return card

    async def term(self, query: str) -> Term:
        return (await self.card(query)).term

    async def autocomplete(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Prefix matches in name order, then typo matches: no database round trip.

        Up to INLINE_FUZZY_KEYS names the typo search runs on the event loop: it takes
        under a millisecond there, less than a hop to a worker thread costs in CPU and in
        waits for the GIL (see docs/performance.md). In a larger glossary it takes a few
        ms, and several students typing at once would hold the loop for their sum.
        """
        index = await self.names()
        key = name_key(text)
        if not key:
            return index.first[:limit]
        found = index.prefix(key, limit)
        if len(found) < limit:
            skip = {s.slug for s in found}
            if len(index.keys) <= INLINE_FUZZY_KEYS:
                found += index.fuzzy(key, limit - len(found), skip)
            else:
                found += await asyncio.to_thread(index.fuzzy, key, limit - len(found), skip)
        return found

    async def suggest(self, text: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        """'Did you mean' for a miss: the closest names, then names inside a sentence
        and typos of its words, best first."""
        phrase = clean_query(text)
        key = name_key(phrase)
        if not key:
            return []
        found = await self.autocomplete(key, limit)
        if len(found) < limit and (" " in phrase or not found):
            index = await self.names()
            found += await asyncio.to_thread(
                names_within, index, phrase, limit - len(found), {s.slug for s in found})
        return found

    async def search(self, text: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """Ranked full-text search over every searchable section (bm25), with snippets."""
        match, boost = fts_query(text), name_boost_query(text)
        if match is None or boost is None:
            return SearchPage((), 0, offset)
        rows = await self._db.reader.execute_fetchall(
            _SEARCH_SQL, (match, boost, limit, offset, self.id))
        hits = tuple(
            SearchHit(slug, title, " ".join(snip.split()), score)
            for slug, title, snip, score, _ in rows
        )
        total = rows[0][4] if rows else 0
        return SearchPage(hits, total, offset)

    async def all_terms(self) -> list[Term]:
        rows = await self._db.reader.execute_fetchall(
            "SELECT d.data FROM terms t JOIN term_data d ON d.term_id = t.id "
            "WHERE t.glossary_id = ? ORDER BY t.slug", (self.id,))
        return [term_from_json(data) for (data,) in rows]

    async def stored_terms(self) -> list[tuple[str, str, Term]]:
        """(file, fingerprint, term) of every valid term: what an import into a
        database-only glossary is planned against, and the fingerprints its save checks
        (one query, however many terms)."""
        rows = await self._db.reader.execute_fetchall(
            "SELECT t.file, t.fingerprint, d.data FROM terms t JOIN term_data d "
            "ON d.term_id = t.id WHERE t.glossary_id = ? ORDER BY t.file", (self.id,))
        return [(file, fingerprint, term_from_json(data)) for file, fingerprint, data in rows]

    async def term_count(self) -> int:
        rows = await self._db.reader.execute_fetchall(
            "SELECT count(*) FROM terms WHERE glossary_id = ?", (self.id,))
        return rows[0][0]

    async def mentioned_terms(self, text: str) -> list[tuple[str, str]]:
        """(slug, title) of every term a message mentions, in order of first mention."""
        return await asyncio.to_thread(find_mentions, await self.names(), text)

    async def categories(self) -> list[str]:
        rows = await self._db.reader.execute_fetchall(
            "SELECT DISTINCT category FROM terms WHERE glossary_id = ? AND category IS NOT NULL "
            "ORDER BY category", (self.id,))
        return [category for (category,) in rows]

    async def quiz_material(
        self, category: str | None, sample: int = 12
    ) -> tuple[Term | None, list[Term], list[Term]]:
        """A random answer (of the category, if given), random other terms of the answer's
        own category (the plausible wrong choices) and random terms of any category."""
        rows = await self._db.reader.execute_fetchall(_QUIZ_SQL, (category, sample, self.id))
        tiers: tuple[list[Term], list[Term], list[Term]] = ([], [], [])
        for tier, data in rows:
            tiers[tier].append(term_from_json(data))
        answer, same, others = tiers
        return (answer[0] if answer else None), same, others

    async def stored_version(self) -> str | None:
        """The version a reload (here or in another process) last gave this glossary."""
        rows = await self._db.reader.execute_fetchall(
            "SELECT version FROM glossaries WHERE id = ?", (self.id,))
        return rows[0][0] if rows else None

    # ----- the name index ----------------------------------------------------------

    async def names(self) -> NameIndex:
        """The in-memory name index, refreshed when another process reloaded.

        Checking costs a query, so it happens at most every INDEX_CHECK_SECONDS; a stale
        index keeps answering while the new one is built in the background.
        """
        if self._index is None:
            await self.rebuild_index()
        elif time.monotonic() - self._index_checked >= INDEX_CHECK_SECONDS:
            self._index_checked = time.monotonic()
            version = await self.stored_version()
            if version != self._index_version and (
                self._index_task is None or self._index_task.done()
            ):
                self._index_task = asyncio.create_task(self.rebuild_index())
                self._index_task.add_done_callback(log_failure)
        assert self._index is not None
        return self._index

    async def rebuild_index(self) -> None:
        """Read every name into a fresh NameIndex, unless it is already current.

        One trip to a worker thread, which reads on a connection of its own: the large
        reads do not queue lookups on the shared reader, the columns come back as bare
        values (row tuples would fragment the memory the index keeps), and under load the
        rebuild does not wait a loop turn for each of its statements.
        """
        async with self._index_lock:
            index = await asyncio.to_thread(_read_index, self._db.path, self.id,
                                            self._index_version, self._index is None)
            self._index_checked = time.monotonic()
            if index is None:
                return
            self._let_go_later(self._start_version(*index))

    async def reloaded(self, names_changed: bool, version: str | None) -> None:
        """After a committed reload: a new index if names changed, else only a new version
        (new text, same names: the index still holds, the cached cards do not)."""
        if names_changed or self._index is None:
            await self.rebuild_index()
        elif version is not None:
            self._let_go_later(self._start_version(version))

    def _start_version(self, version: str | None, index: NameIndex | None = None) -> list:
        """Serve ``version`` (with ``index``, when names changed) from empty caches, all
        in one step, so nothing read for the old version is served after it. Returns
        what it replaced, for ``_free_replaced``."""
        old = [None if index is None else self._index, self._cards, self._memo]
        self._index_version = version
        if index is not None:
            self._index = index
        self._cards, self._memo = OrderedDict(), OrderedDict()
        return old

    def _let_go_later(self, old: list) -> None:
        """Free what a new version replaced in the background: whatever follows a reload
        (writing published files back, answering) need not wait for it."""
        task = asyncio.create_task(asyncio.to_thread(_free_replaced, old))
        del old
        self._freeing.add(task)
        task.add_done_callback(self._freeing.discard)
        task.add_done_callback(log_failure)


def _free_replaced(old: list) -> None:
    """The replaced name index and caches ``[index or None, cards, memo]``, freed a run at
    a time (bot.freeing) in a worker thread: at once, a full card cache held the event
    loop 10-12 ms and the name index of 100,000 terms 9-12 ms.

    ``old`` is emptied first, so this job holds the last reference. The index's string
    tuples are copied into lists, so the tuples go without freeing a string, then the
    lists go a run at a time. An index still in use elsewhere (an autocomplete in
    flight) is freed later, where it is dropped.
    """
    index, *caches = old
    old.clear()
    columns = [] if index is None else [
        list(column) for column in (index.keys, index.slugs, index.titles)]
    del index
    let_go(*columns, *caches)


async def term_counts(db: Database) -> dict[str, int]:
    """Every glossary the database knows, by name, with how many terms it holds."""
    rows = await db.reader.execute_fetchall(
        "SELECT g.name, (SELECT count(*) FROM terms t WHERE t.glossary_id = g.id) "
        "FROM glossaries g ORDER BY g.name")
    return {name: count for name, count in rows}


def _read_index(path: Path, glossary_id: int, current: str | None, missing: bool
                ) -> tuple[str | None, NameIndex] | None:
    """(version, index) from one snapshot of the database, or None if ``current`` is the
    version already (another caller rebuilt it meanwhile). Runs in a worker thread, so
    between slices the event loop takes the GIL back."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA query_only = ON")
        db.execute("BEGIN")
        version = db.execute("SELECT version FROM glossaries WHERE id = ?",
                             (glossary_id,)).fetchall()
        if not missing and (version[0][0] if version else None) == current:
            return None
        term_ids, slugs, titles = _read_slices(
            db, _INDEX_TERMS_SQL, (glossary_id,), (-1,), lambda read: (read[0][-1],), 3)
        # A run at a time: one dict(zip(...)) of 100,000 ids held the GIL 10 ms.
        position: dict[int, int] = {}
        for start in range(0, len(term_ids), POSITION_RUN):
            run = term_ids[start:start + POSITION_RUN]
            position.update(zip(run, range(start, start + len(run)), strict=True))
        del term_ids
        keys, key_term_ids, word_counts = _read_slices(
            db, _INDEX_NAMES_SQL, (glossary_id,), ("", -1),
            lambda read: (read[0][-1], read[1][-1]), 3)
        db.execute("COMMIT")
    finally:
        db.close()
    # A generator, so the GIL can pass to the event loop between elements.
    key_terms = array("I", (position[term_id] for term_id in key_term_ids))
    del key_term_ids, position
    index = NameIndex(keys, key_terms, word_counts, slugs, titles)
    return (version[0][0] if version else None), index


def _read_slices(db: sqlite3.Connection, sql: str, params: tuple, after: tuple,
                 next_after: Callable[[list[tuple]], tuple], columns: int) -> list[tuple]:
    """Every column of ``sql``'s rows, INDEX_SLICE_ROWS rows at a time, each slice after
    ``after`` (``next_after`` of the slice read gives the next).

    Slices are kept as tuples and joined once: a list of 230,000 names would be walked
    element by element by every full collection that happens during the read (tens of ms,
    holding the GIL); a tuple of strings drops out of the collector's view."""
    slices: list[list[tuple]] = [[] for _ in range(columns)]
    while True:
        (row,) = db.execute(sql, (*params, *after, INDEX_SLICE_ROWS)).fetchall()
        parsed = [tuple(json.loads(text)) for text in row]
        for column, slice_ in zip(slices, parsed, strict=True):
            column.append(slice_)
        if len(parsed[0]) < INDEX_SLICE_ROWS:
            return [tuple(itertools.chain.from_iterable(column)) for column in slices]
        after = next_after(parsed)
