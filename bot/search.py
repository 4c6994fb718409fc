"""Turning what a student typed into safe queries, and ranking fuzzy candidates.

SQLite does the narrowing (an index range for prefixes, a trigram index for typos); this
module only builds the query strings and scores the few hundred candidates that come back,
so no user input ever reaches FTS5 unquoted and no scan over the whole glossary runs on
the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from bot.models import Suggestion

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12
FUZZY_CUTOFF = 60.0
TRIGRAM_LIMIT = 300
# Keys longer than this are cut before building trigrams: a 6,000-character paste would
# otherwise become a 6,000-way OR that no index can answer quickly.
MAX_KEY_CHARS = 64


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


def trigram_query(key: str) -> str | None:
    """An OR of the key's trigrams, to find names that share pieces with a typo."""
    key = key[:MAX_KEY_CHARS]
    if len(key) < 3:
        return None
    trigrams = dict.fromkeys(key[i : i + 3] for i in range(len(key) - 2))
    return " OR ".join(_quote(trigram) for trigram in trigrams)


def prefix_upper_bound(key: str) -> str:
    """The smallest string greater than every string that starts with ``key``."""
    return key + "\U0010ffff"


def rank_fuzzy(
    query_key: str,
    candidates: Iterable[tuple[str, str, str]],
    limit: int,
    exclude: set[str] | None = None,
) -> list[Suggestion]:
    """Score (slug, title, name key) candidates against the typed key, best first.

    A term reachable by several names keeps its best score once.
    """
    best: dict[str, Suggestion] = {}
    skip = exclude or set()
    for slug, title, key in candidates:
        if slug in skip:
            continue
        score = fuzz.WRatio(query_key, key, score_cutoff=FUZZY_CUTOFF)
        if score and (slug not in best or score > best[slug].score):
            best[slug] = Suggestion(slug, title, score)
    ranked = sorted(best.values(), key=lambda s: (-s.score, len(s.title), s.title))
    return ranked[:limit]
