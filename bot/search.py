"""Finding terms from what a student typed: safe full-text queries, and the name index.

Full-text search runs in SQLite; this module only builds its queries, so no user input
ever reaches FTS5 unquoted. Names are matched in memory instead: ``NameIndex`` holds
every name key of the glossary in sorted order, so a prefix is a binary search and a typo
is a few hundred binary searches over its one-edit variants. That stays within a few
milliseconds at 100,000 terms, where a scan scoring every name takes a tenth of a second
and a trigram query ranks tens of thousands of candidates.
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence

from rapidfuzz.distance import OSA

from bot.models import Suggestion, name_key, words

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12
# A typo is looked for in the first characters of what was typed; a longer name still
# matches, as its key starts with one of the probe's variants.
FUZZY_PROBE_CHARS = 16
FUZZY_CANDIDATES = 400
ALPHABET_SIZE = 36  # the most frequent characters of the glossary's names
ALPHABET_SAMPLE = 5000


# What a student wraps around a term in a sentence: "what is a bakend", "the backend?",
# "@everyone bakend <@123>". Mentions, links and custom emoji are removed first; then
# these words, which no glossary term is named by alone.
_NOISE = re.compile(r"<(?:@[!&]?|#|a?:\w+:)\d+>|@(?:everyone|here)\b|https?://\S+")
_FILLER = frozenset("""
a an the is are was were be what whats what's who how why when where which do does did mean
means meaning meant define definition explain explained tell me please pls plz i you my your
of in on for to and or it its it's this that with about by can could would should vs versus
""".split())
MIN_TYPO_WORD = 4  # "api" or "git" typed wrong is too short to guess from
MIN_TYPO_SCORE = 70.0


# Around the words a snippet matched: control characters no term text contains, so each
# renderer marks them its own way (bold on Discord, plain or bold in a terminal) after
# escaping the text itself.
HIT_START, HIT_END = "\x02", "\x03"


def mark_hits(snippet: str, before: str, after: str) -> str:
    return snippet.replace(HIT_START, before).replace(HIT_END, after)


def clean_query(text: str) -> str:
    """The words of a query that could name a term: what a miss is recorded as, and what
    "did you mean" looks at. Empty when nothing is left (only mentions or filler)."""
    kept = [w for w in words(_NOISE.sub(" ", text)) if w.casefold() not in _FILLER]
    return " ".join(kept[:MAX_QUERY_WORDS])


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _quoted_words(text: str) -> list[str]:
    words = _WORD.findall(text)[:MAX_QUERY_WORDS]
    quoted = [_quote(word) for word in words]
    if quoted:
        quoted[-1] += "*"
    return quoted


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression that finds documents containing every word typed.

    Each word is quoted, so operators (AND, NEAR, ``*``, ``:``, ``-``, ``^``) typed by a
    student are searched for as words instead of raising a syntax error. The last word is
    a prefix, because people search while they are still typing.
    """
    quoted = _quoted_words(text)
    return " ".join(quoted) if quoted else None


def name_boost_query(text: str) -> str | None:
    """Matches terms whose title or aliases contain any word typed.

    bm25 alone lets a long page that mentions a word often outrank the page named after
    it; a student searching "schema migration" expects the Migrations card first.
    """
    quoted = _quoted_words(text)
    return "{title aliases} : (" + " OR ".join(quoted) + ")" if quoted else None


def one_edit_variants(key: str, alphabet: str, last_position: int | None = None) -> list[str]:
    """Every string one deletion, transposition, substitution or insertion from ``key``,
    most likely typos first, without duplicates or the key itself.

    ``last_position`` leaves out edits after that position: each such variant starts with
    ``key[:position]``, so when no name starts with that, none can match."""
    last = len(key) if last_position is None else min(last_position, len(key))
    variants: dict[str, None] = {}
    for i in range(min(len(key), last + 1)):
        if i + 1 < len(key):
            variants[key[:i] + key[i + 1] + key[i] + key[i + 2:]] = None
        variants[key[:i] + key[i + 1:]] = None
    for i in range(min(len(key), last + 1)):
        head, tail = key[:i], key[i + 1:]
        for char in alphabet:
            variants[head + char + tail] = None
    for i in range(last + 1):
        head, tail = key[:i], key[i:]
        for char in alphabet:
            variants[head + char + tail] = None
    variants.pop(key, None)
    variants.pop("", None)
    return list(variants)


class NameIndex:
    """Every name key (titles, aliases, slugs) in sorted order, with the term it names.

    Built once per reload from the store's ``names`` table, in a worker thread. Everything
    is kept in flat tuples of strings and arrays of numbers (keys, each key's term as a
    position in the slug and title tuples): no per-term objects to fragment memory, and
    nothing the garbage collector walks (a tuple of strings drops out of its view, where
    each full collection would read every element of a list: 7 ms at 100,000 terms).
    """

    def __init__(
        self,
        keys: Sequence[str],
        key_terms: Sequence[int],
        word_counts: Sequence[int],
        slugs: Sequence[str],
        titles: Sequence[str],
    ) -> None:
        self.keys = tuple(keys)
        self.key_terms = array("I", key_terms)  # position in slugs and titles
        self.word_counts = array("H", word_counts)  # each at most 65535: the store clamps
        self.slugs = tuple(slugs)
        self.titles = tuple(titles)
        self.max_words = max(self.word_counts, default=1)
        sample = "".join(keys[:: max(1, len(keys) // ALPHABET_SAMPLE)])
        self.alphabet = "".join(c for c, _ in Counter(sample).most_common(ALPHABET_SIZE))
        by_title = heapq.nsmallest(
            25, range(len(slugs)), key=lambda p: (titles[p].casefold(), slugs[p])
        )
        self.first = [Suggestion(slugs[p], titles[p], 100.0) for p in by_title]

    @classmethod
    def from_names(cls, names: Iterable[tuple[str, str, str]]) -> NameIndex:
        """An index over (name, slug, title) triples: for tests and small tools."""
        positions: dict[str, int] = {}
        titles: list[str] = []
        entries: dict[str, tuple[int, int]] = {}
        for name, slug, title in names:
            if slug not in positions:
                positions[slug] = len(titles)
                titles.append(title)
            key = name_key(name)
            if key:
                entries.setdefault(key, (positions[slug], min(len(words(name)), 65535)))
        keys = sorted(entries)
        return cls(keys, [entries[k][0] for k in keys], [entries[k][1] for k in keys],
                   list(positions), titles)

    def __len__(self) -> int:
        return len(self.slugs)

    def _term(self, i: int) -> tuple[str, str]:
        position = self.key_terms[i]
        return self.slugs[position], self.titles[position]

    def exact(self, key: str) -> tuple[str, str] | None:
        """(slug, title) of the term a name key belongs to, if any."""
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            return self._term(i)
        return None

    def words_of(self, key: str) -> int:
        """How many words the name with this key is written in (0 if there is none)."""
        i = bisect_left(self.keys, key)
        return self.word_counts[i] if i < len(self.keys) and self.keys[i] == key else 0

    def prefix(self, key: str, limit: int) -> list[Suggestion]:
        """Terms with a name starting with ``key``, in name order (so "git" before
        "github"), each term once."""
        found: dict[str, Suggestion] = {}
        i = bisect_left(self.keys, key)
        while i < len(self.keys) and len(found) < limit and self.keys[i].startswith(key):
            slug, title = self._term(i)
            found.setdefault(slug, Suggestion(slug, title, 100.0))
            i += 1
        return list(found.values())

    def _known_prefix(self, key: str) -> int:
        """The length of the longest start of ``key`` that some name key starts with."""
        keys, lo, hi = self.keys, 0, len(self.keys)
        for length in range(1, len(key) + 1):
            head = key[:length]
            lo = bisect_left(keys, head, lo, hi)
            if lo >= hi or not keys[lo].startswith(head):
                return length - 1
        return len(key)

    def fuzzy(self, key: str, limit: int, exclude: Iterable[str] = ()) -> list[Suggestion]:
        """Terms whose name is one typo away from ``key``, or starts one typo away (the
        student is still typing), best first. Bounded work: at most FUZZY_CANDIDATES names
        are scored, found by binary search for each of the key's one-edit variants."""
        if len(key) < 2 or not self.keys:
            return []
        probe = key[:FUZZY_PROBE_CHARS]
        variants = one_edit_variants(probe, self.alphabet, self._known_prefix(probe))
        if len(key) > len(probe):
            variants.insert(0, probe)
        keys = self.keys
        candidates: dict[int, None] = {}
        for variant in variants:
            i = bisect_left(keys, variant)
            end = min(i + limit, len(keys))
            while i < end and keys[i].startswith(variant):
                candidates[i] = None
                i += 1
            if len(candidates) >= FUZZY_CANDIDATES:
                break
        skip = set(exclude)
        best: dict[str, Suggestion] = {}
        for i in candidates:
            slug, title = self._term(i)
            if slug in skip:
                continue
            score = _closeness(key, keys[i])
            if slug not in best or score > best[slug].score:
                best[slug] = Suggestion(slug, title, score)
        ranked = sorted(best.values(), key=lambda s: (-s.score, len(s.title), s.title))
        return ranked[:limit]


def names_within(
    index: NameIndex, phrase: str, limit: int, exclude: Iterable[str] = ()
) -> list[Suggestion]:
    """Terms named inside a sentence (longest phrases first), then terms one typo away
    from one of its words: "what is a bakend" suggests backend."""
    keys = [name_key(word) for word in phrase.split()]
    skip = set(exclude)
    found: dict[str, Suggestion] = {}
    for n in range(min(index.max_words, len(keys)), 0, -1):
        for i in range(len(keys) - n + 1):
            hit = index.exact("".join(keys[i:i + n]))
            if hit is not None and hit[0] not in skip:
                found.setdefault(hit[0], Suggestion(hit[0], hit[1], 100.0))
    typos: list[Suggestion] = []
    for key in keys:
        if len(key) >= MIN_TYPO_WORD and len(found) + len(typos) < limit:
            typos += [s for s in index.fuzzy(key, limit, skip | set(found))
                      if s.score >= MIN_TYPO_SCORE]
    for suggestion in sorted(typos, key=lambda s: -s.score):
        found.setdefault(suggestion.slug, suggestion)
    return list(found.values())[:limit]


def _closeness(typed: str, key: str) -> float:
    """100 for the same key, less for each edit; a name that only starts like what was
    typed ranks just below one that matches it whole."""
    edits = float(OSA.distance(typed, key))
    n = len(typed)
    for length in (n - 1, n, n + 1):
        if 0 < length < len(key):
            edits = min(edits, OSA.distance(typed, key[:length]) + 0.5)
    return max(0.0, 100.0 * (1.0 - edits / max(n, 2)))
