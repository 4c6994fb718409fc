"""Domain objects shared by every layer.

They are frozen so a glossary snapshot handed to a reader can never be changed under it
by a concurrent reload.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from bot.sections import SECTIONS, Section, term_field_order

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Buttons carry two slugs in a 100-character custom_id, so slugs stay short.
MAX_SLUG_LENGTH = 45
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def name_key(text: str) -> str:
    """Fold a name so "Back-End", "back end" and "BACKEND" compare equal.

    Case, accents, punctuation and spaces are all noise when a student types a term, so
    lookups and collision checks both go through this one function.
    """
    if text.isascii():  # the common case, and a hot path: per keystroke, per word
        return _NOT_ALNUM.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", without_accents)


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a name or a message, as "Explain terms" joins them: "Node.js" is
    ["Node", "js"], whose joined key "nodejs" meets the term NodeJS."""
    return _WORD.findall(text)


def slugify(text: str) -> str:
    """Turn a title into the file-name slug authors would write by hand."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")


def _names(self: Any) -> tuple[str, ...]:
    """Every spelling a student may use to reach this term."""
    return (self.slug, self.title, *self.aliases)


def term_type(sections: tuple[Section, ...] = SECTIONS) -> type:
    """The frozen dataclass of a term with these sections: ``slug`` and a field per section
    (``bot.sections.term_field_order``); ``Term`` is the one of ``SECTIONS``. One class per
    declaration, so terms of one declaration compare equal."""
    return _term_type(tuple(sections))


@functools.cache
def _term_type(sections: tuple[Section, ...]) -> type:
    specs: list[tuple[str, object] | tuple[str, object, object]] = [("slug", str)]
    for s in term_field_order(sections):
        kind = tuple[str, ...] if s.is_list else (str | None) if s.nullable else str
        if s.card in ("title", "description"):
            specs.append((s.key, kind))
        else:
            specs.append((s.key, kind, field(default=s.default)))
    cls = make_dataclass("Term", specs, frozen=True, slots=True, namespace={
        "names": _names,
        "__doc__": "One glossary page: every section of the course website's glossary entry.",
    })
    cls.__module__ = __name__
    return cls


# One glossary page; its fields come from bot.sections.SECTIONS.
Term = term_type()
_LIST_KEYS = tuple(s.key for s in SECTIONS if s.is_list)


def term_json(term: Any) -> str:
    """The term as JSON, fields in declaration order: equal terms give equal text, so its
    hash tells changed terms from unchanged ones across reloads and restarts."""
    return json.dumps({name: getattr(term, name) for name in term.__dataclass_fields__})


def term_from_json(data: str) -> Any:
    """The stored JSON back into a Term (lists as tuples); a section the JSON lacks (it
    was stored before the section existed) takes its default."""
    raw = json.loads(data)
    for name in _LIST_KEYS:
        if name in raw:
            raw[name] = tuple(raw[name])
    return Term(**raw)


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem found in a term file, reported as ``path:line: field: message``."""

    path: str
    line: int
    field: str
    message: str
    is_warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        label = "warning: " if self.is_warning else ""
        return f"{where}: {label}{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An autocomplete or "did you mean" entry."""

    slug: str
    title: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One full-text search result with a snippet that shows why it matched."""

    slug: str
    title: str
    snippet: str
    rank: float


@dataclass(frozen=True, slots=True)
class ReloadDiff:
    """What a reload changed; empty tuples mean the content was already up to date."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    term_count: int = 0
    warnings: tuple[Problem, ...] = field(default=())
    # The (first, last) ids of the term history rows the reload recorded, so whoever ran it
    # can be named on them (``History.attribute``); None: nothing recorded.
    history_ids: tuple[int, int] | None = None
    # With PostgreSQL: the history rows the reload computed in its local transaction, for
    # the reloader to write to PostgreSQL once it committed (then history_ids is set).
    pending_history: tuple[tuple[object, ...], ...] = field(default=(), compare=False,
                                                              repr=False)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Card:
    """A term with what its card needs from other terms: related titles that exist now;
    and the name of its file in the content directory (``git.yml``), for "edit this file"."""

    term: Term
    related_titles: dict[str, str]
    file: str
    glossary_id: int = 1  # which glossary it came from: its buttons open cards from there

    def related_exists(self, slug: str) -> bool:
        return slug in self.related_titles


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    total: int
    offset: int


@dataclass(frozen=True, slots=True)
class CountedName:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class GlossaryStats:
    term_count: int
    last_reload_at: float | None
    top_terms: tuple[CountedName, ...]
    top_misses: tuple[CountedName, ...]


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """What a server's moderators chose; defaults are what a new server gets."""

    guild_id: int
    define_private: bool = False
    moderator_role_id: int | None = None
    daily_channel_id: int | None = None
    daily_hour: int = 9
    mod_channel_id: int | None = None


@dataclass(frozen=True, slots=True)
class SuggestedFix:
    """A student's "Suggest a fix" form, as saved; ``delivered`` once it was posted."""

    id: int
    guild_id: int
    slug: str
    title: str
    author_id: int
    author_name: str
    section: str
    problem: str
    proposal: str
    created_at: float
    delivered: bool = False
    glossary_id: int | None = None  # None: posted before suggestions named their glossary
    status: str = "open"  # "open", "applying", "applied" or "dismissed"
    decided_by: int | None = None
    decided_by_name: str = ""
    channel_id: int | None = None  # where the student asked (told there if a DM fails)
    post_channel_id: int | None = None
    post_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Quiz:
    id: int
    guild_id: int
    answer: str
    choices: tuple[str, ...]
    mode: str  # "name": guess the term from its definition; "definition": the reverse
    glossary_id: int = 1  # the glossary its answer and choices come from


@dataclass(frozen=True, slots=True)
class QuizOutcome:
    quiz: Quiz
    chosen: str
    correct: bool
    already_answered: bool


@dataclass(frozen=True, slots=True)
class Score:
    user_id: int
    correct: int
    answered: int
