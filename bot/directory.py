"""The content directory: listing its term files, and parsing them into the rows the store writes.

Everything here is plain, picklable data and pure functions: a reload parses many files in
worker processes (``bot.loading``) and gets back ``ParsedFile`` records that already hold
the rows the store writes, so the serving process does no per-term work of its own.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from bot.content import TERM_SUFFIXES, FileResult, read_term_file
from bot.freeing import let_go
from bot.models import Problem, name_key, term_json, words
from bot.sections import SECTIONS

# Records that cross from the worker processes to the store are named tuples: they pickle
# as plain tuples, where slotted dataclasses call ``fields()`` for every object.


class NameRow(NamedTuple):
    """One way to reach a term, with where it is written (for collision reports)."""

    key: str
    name: str
    kind: str  # "slug" (the file name), "title" or "aliases"
    line: int
    word_count: int


# What full-text search indexes: (title, aliases, body), as the ``term_text`` view
# (``bot.sections.text_view_sql``) reads them out of the stored JSON.
SearchText = tuple[str, str | None, str]


class TermRecord(NamedTuple):
    """A term as the store writes it, built in the worker that parsed the file."""

    slug: str
    title: str
    category: str | None
    data: str  # the term as JSON, its hash the fingerprint; empty for a file with errors
    fingerprint: str
    names_fingerprint: str  # of the title and names: equal, the name index stays valid
    names: tuple[NameRow, ...]
    links: tuple[tuple[str, int], ...]  # (related slug, line)
    # The indexed text, built here so the writer indexes it as given rather than reading
    # it back through the ``term_text`` view (four json_extract and two json_each per
    # term: 20-30 % of the full-text insert). None: the writer reads the view, as it
    # always must for a term whose text SQLite might read back differently (see
    # ``search_text``), and for records made elsewhere (``bot.storage.published``).
    search: SearchText | None = None


# A term file as listed: (name in the content directory, mtime_ns, size), what changes on
# save. A plain tuple: the collector stops tracking those, so 100,000 of them cost a full
# collection nothing (a NamedTuple stays tracked for life, and would be walked every time).
ScannedFile = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Scan:
    """The term files of a directory, sorted by name, and what was wrong with its listing.

    ``files`` is a list, not a tuple, only so a large scan can be let go of a run at a
    time (``bot.freeing.let_go``: 100,000 entries freed at once hold the GIL ~40 ms);
    nothing changes it otherwise.
    """

    files: list[ScannedFile]
    problems: tuple[Problem, ...]


class ParsedFile(NamedTuple):
    file: ScannedFile
    problems: tuple[Problem, ...]
    record: TermRecord

    @property
    def valid(self) -> bool:
        return not any(not problem.is_warning for problem in self.problems)


def term_record(result: FileResult) -> TermRecord:
    """Everything the store writes for a term, with the lines its names are written on.

    A file with errors gets a record too, without data: its valid names and links take
    part in the collision and dangling-link checks, and the reload is then refused.
    """
    values, lines = result.values, result.item_lines
    title = str(values.get("title", ""))
    aliases: tuple[str, ...] = values.get("aliases", ())  # type: ignore[assignment]
    related: tuple[str, ...] = values.get("related", ())  # type: ignore[assignment]
    spelled = [(title, "title", result.lines.get("title", 1))]
    spelled += list(zip(aliases, ["aliases"] * len(aliases), lines.get("aliases", ()),
                        strict=True))
    spelled.append((result.slug, "slug", 1))
    names: dict[str, NameRow] = {}
    for name, kind, line in spelled:  # a term may spell one key twice; the first counts
        key = name_key(name)
        if key and key not in names:
            names[key] = NameRow(key, name, kind, line, len(words(name)))
    data = term_json(result.term) if result.term is not None else ""
    return TermRecord(
        slug=result.slug, title=title, category=values.get("category"),  # type: ignore[arg-type]
        data=data,
        fingerprint=hashlib.sha1(data.encode("utf-8")).hexdigest() if data else "",
        names_fingerprint=hashlib.sha1(repr((title, sorted(names.values()))).encode(
            "utf-8")).hexdigest(),
        names=tuple(names.values()),
        links=tuple(zip(related, lines.get("related", ()), strict=True)),
        search=search_text(result.term, data) if result.term is not None else None,
    )


_SEARCHABLE = tuple((s.key, s.is_list) for s in SECTIONS if s.searchable)
# In the JSON (ASCII, as json.dumps writes it): a NUL, or half of a surrogate pair (a
# character beyond U+FFFF). Only these could come back from SQLite's JSON functions other
# than as Python wrote them (a NUL ends a C string; old SQLite builds split surrogate
# pairs), so such a term's text is read through the view like before.
_READ_BACK_RISK = re.compile(r"\\u(?:0000|[dD][89abAB])")


def search_text(term: Any, data: str) -> SearchText | None:
    """The text the full-text index takes for a term: exactly what the ``term_text`` view
    returns for it (title; aliases joined by a space, NULL when there are none; every
    searchable section one per line, a list's items one per line, a missing one empty).
    The index keeps no copy of the text, and a later delete tells it which words to forget
    by reading the view, so the two must never differ: None (read the view) for a term
    whose JSON holds anything SQLite might return differently."""
    if _READ_BACK_RISK.search(data):
        return None
    parts = []
    for key, is_list in _SEARCHABLE:
        value = getattr(term, key)
        parts.append("\n".join(value) if is_list else (value or ""))
    return term.title, " ".join(term.aliases) or None, "\n".join(parts)


def display_path(directory: Path) -> str:
    """How problems name the directory: relative to where the command runs, if inside it."""
    try:
        relative = os.path.relpath(directory)
    except ValueError:  # pragma: no cover - different drive on Windows
        return str(directory)
    return str(directory) if relative.startswith("..") else relative


def scan_directory(directory: Path) -> Scan:
    """List the term files with their sizes and modification times, in one pass.

    Links are followed only within the content directory; a link that leads outside it,
    loops, or dangles is a problem for the moderator, never a crash. Two files for one
    slug (``git.yaml`` and ``git.yml``) are a problem too; the first one is kept.
    """
    directory = Path(directory)
    shown = display_path(directory)
    if not directory.is_dir():
        return Scan([], (Problem(shown, 0, "directory", "does not exist"),))
    root = directory.resolve()
    files: list[ScannedFile] = []
    problems: list[Problem] = []
    with os.scandir(directory) as entries:  # entries are not kept: 100,000 would be 100 MB
        for entry in entries:
            name = entry.name
            if not name.endswith(TERM_SUFFIXES) or name[0] == ".":
                continue
            try:
                if entry.is_symlink() and not Path(entry.path).resolve(
                    strict=True
                ).is_relative_to(root):
                    problems.append(Problem(os.path.join(shown, name), 0, "file",
                                            "is a link to a file outside the content directory"))
                    continue
                info = entry.stat()
            except (OSError, RuntimeError):
                problems.append(Problem(os.path.join(shown, name), 0, "file",
                                        "is a link that loops or leads nowhere"))
                continue
            if stat.S_ISREG(info.st_mode):
                files.append((name, info.st_mtime_ns, info.st_size))
    files = sorted_gently(files, key=itemgetter(0))
    unique: list[ScannedFile] = []
    owners: dict[str, str] = {}
    for scanned in files:
        name = scanned[0]
        slug = name.rsplit(".", 1)[0]
        if slug in owners:
            problems.append(Problem(os.path.join(shown, name), 0, "file name",
                                    f"defines the term {slug!r} again (first in "
                                    f"{owners[slug]}); keep one of the two"))
            continue
        owners[slug] = name
        unique.append(scanned)
    let_go(owners)  # 100,000 slugs; this runs in a worker thread while the bot serves
    problems.sort(key=lambda problem: problem.path)
    return Scan(unique, tuple(problems))


SORT_RUN = 5000
_T = TypeVar("_T")


def sorted_gently(items: list[_T], key: Callable[[_T], str]) -> list[_T]:
    """``sorted(items, key=key)`` in short runs merged lazily: one sort of 100,000 items
    holds the GIL for tens of milliseconds, and the serving thread waits all that time."""
    if len(items) <= SORT_RUN * 4:  # a few milliseconds at most: merging would cost more
        return sorted(items, key=key)
    runs = [sorted(items[i : i + SORT_RUN], key=key) for i in range(0, len(items), SORT_RUN)]
    return list(heapq.merge(*runs, key=key))


def parse_files(
    directory: str | Path, shown_directory: str, files: Sequence[ScannedFile]
) -> list[ParsedFile]:
    """Read, validate and turn into rows the given files; runs in a worker process."""
    parsed: list[ParsedFile] = []
    for scanned in files:
        name = scanned[0]
        result = read_term_file(Path(directory, name), os.path.join(shown_directory, name))
        parsed.append(ParsedFile(scanned, result.problems, term_record(result)))
    return parsed
