"""Reading a whole glossary in from a spreadsheet, a Quizlet export, JSON or page exports.

Each source file becomes rows of section values (``bot.import_sources``); this module
checks every row as the loader would, against the others and the content directory, and
says what an import would do (added, changed, unchanged, and every problem as
``file:row: column: problem``) before anything is written. Nothing is written unless the
whole import is valid; then every file is staged beside its target and only renamed into
place once all of them are written, so a failure leaves the directory as it was.

A row gives only the sections its source has: a Quizlet row updating an existing term
replaces its definition and keeps the rest. An empty cell in a column that exists clears
that section.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content import MAX_LIST_ITEMS, MAX_RELATED
from bot.directory import ParsedFile, display_path, scan_directory
from bot.export import term_file_text
from bot.import_sources import Row, RowProblem, read_bytes, read_source
from bot.models import MAX_SLUG_LENGTH, SLUG_PATTERN, Term, name_key, term_from_json
from bot.sections import SECTIONS
from bot.storage.snapshot import StoredFile

REQUIRED = tuple(s.key for s in SECTIONS if s.required)


@dataclass(frozen=True, slots=True)
class Change:
    """What the import does to one term; ``sections`` are the keys whose value differs."""

    kind: str  # "added", "changed" or "unchanged"
    term: Term
    where: str  # file:row of the row it came from
    sections: tuple[str, ...] = ()
    before: Term | None = None  # the valid term it replaces, for the history

    def __str__(self) -> str:
        detail = f" ({', '.join(self.sections)})" if self.kind == "changed" else ""
        return f"{self.kind}: {self.term.slug}{detail} [{self.where}]"


@dataclass(frozen=True, repr=False)
class ImportPlan:
    """Everything an import would do, decided before anything is written.

    Its repr is the summary, not every change: ``asyncio.run`` on Python 3.11 formats
    the repr of the result it returns twice (CPython issue 112559), and the full repr of
    a 10,000-row plan took about a second of ``glossary-bot import``'s preview."""

    directory: Path | None  # None: into a database-only glossary (``plan_stored``)
    changes: tuple[Change, ...]
    problems: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...] = field(default=())
    files: dict[str, str] = field(default_factory=dict, repr=False)  # slug -> existing file

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str) -> int:
        return sum(change.kind == kind for change in self.changes)

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind != "unchanged")

    def summary(self) -> str:
        return (f"{self.count('added')} added, {self.count('changed')} changed, "
                f"{self.count('unchanged')} unchanged, {len(self.problems)} error(s)")

    def __repr__(self) -> str:
        return f"<ImportPlan into {self.directory}: {self.summary()}>"


# --- Validation of one row -------------------------------------------------------------

def _check_values(values: dict[str, Any], slug: str) -> list[tuple[str, str]]:
    """(column, problem) for every rule of ``bot.content`` a row breaks."""
    problems: list[tuple[str, str]] = []
    if not SLUG_PATTERN.match(slug):
        problems.append(("slug", f"{slug!r} is not a slug: lowercase letters, digits and "
                         "single hyphens, like api-routes"))
    elif len(slug) > MAX_SLUG_LENGTH:
        problems.append(("slug", f"is {len(slug)} characters; the limit is {MAX_SLUG_LENGTH}"))
    for key in REQUIRED:
        if not values.get(key):
            problems.append((key, "is empty (required)"))
    for s in SECTIONS:
        value = values.get(s.key)
        if not value:
            continue
        items = value if s.is_list else (value,)
        if s.is_list and len(items) > (MAX_RELATED if s.links else MAX_LIST_ITEMS):
            problems.append((s.key, f"has {len(items)} items; the limit is "
                             f"{MAX_RELATED if s.links else MAX_LIST_ITEMS}"))
        for item in items:
            if len(item) > s.limit:
                problems.append((s.key, f"is {len(item):,} characters; the limit is "
                                 f"{s.limit:,}"))
                break
        if s.links:
            problems += [(s.key, f"{item!r} is not a slug (like api-routes)")
                         for item in items if not SLUG_PATTERN.match(item)]
    title = values.get("title") or ""
    if title and not name_key(title):
        problems.append(("title", f"{title!r} has no letters or digits"))
    problems += [("aliases", f"{alias!r} has no letters or digits")
                 for alias in values.get("aliases", ()) if not name_key(alias)]
    return problems


def _merged(row: Row, existing: Term | None) -> dict[str, Any]:
    """The row's sections over the existing term's (or the defaults), self-links and
    repeated links dropped as the page importer does."""
    values = {s.key: getattr(existing, s.key) if existing else s.default for s in SECTIONS}
    values.update(row.values)
    for s in SECTIONS:
        if s.links and values[s.key]:
            seen = {row.slug}
            values[s.key] = tuple(x for x in values[s.key] if not (x in seen or seen.add(x)))
    return values


# --- The content directory -------------------------------------------------------------

@dataclass
class _Existing:
    terms: dict[str, Term]  # the valid terms by slug
    owners: dict[str, tuple[str, str]]  # name key -> (slug, file) of every existing file
    files: dict[str, str]  # slug -> file name, valid or not


async def _read_directory(directory: Path, loaded: Mapping[str, StoredFile] | None = None
                          ) -> _Existing:
    """The directory as the reload reads it (worker processes for a large one). A file
    ``loaded`` has with the same size and modification time (the bot's last load of it,
    ``bot.storage.snapshot``) is taken from there instead of parsed again."""
    import asyncio

    from bot.loading import parse_in_chunks

    existing = _Existing({}, {}, {})
    if not directory.is_dir():
        return existing
    scan = await asyncio.to_thread(scan_directory, directory)
    shown = display_path(directory)
    if not scan.files:
        return existing
    loaded = loaded or {}
    known = {name: row for name, mtime_ns, size in scan.files
             if (row := loaded.get(name)) is not None
             and (row.mtime_ns, row.size) == (mtime_ns, size)}
    to_parse = [f for f in scan.files if f[0] not in known]
    parsed_files: dict[str, ParsedFile] = {}
    if to_parse:
        chunk: list[ParsedFile]
        async for chunk in parse_in_chunks(directory, to_parse):
            parsed_files.update((parsed.file[0], parsed) for parsed in chunk)
    for name, _, _ in scan.files:  # in file order, as a reload meets them
        if (row := known.get(name)) is not None:
            slug, data, keys = row.slug, row.data, row.keys
        elif (parsed := parsed_files.get(name)) is not None:
            record = parsed.record
            slug, data, keys = record.slug, record.data, [n.key for n in record.names]
        else:
            continue
        existing.files.setdefault(slug, name)
        if data:
            existing.terms[slug] = term_from_json(data)
        where = os.path.join(shown, name)
        for key in keys:
            existing.owners.setdefault(key, (slug, where))
    return existing


def _stored(terms: Sequence[tuple[str, Term]]) -> _Existing:
    """A database-only glossary's terms, (file, term), as the directory's would be read:
    every stored term is valid (the store refuses any other)."""
    existing = _Existing({}, {}, {})
    for file, term in terms:
        existing.files.setdefault(term.slug, file)
        existing.terms[term.slug] = term
        for name in (term.title, *term.aliases, term.slug):
            key = name_key(name)
            if key:
                existing.owners.setdefault(key, (term.slug, file))
    return existing


# --- The plan --------------------------------------------------------------------------

def _diff(term: Term, before: Term | None, where: str, file_exists: bool) -> Change:
    if before is None and file_exists:  # the file has errors: the import replaces it
        return Change("changed", term, where, tuple(s.key for s in SECTIONS))
    if before is None:
        return Change("added", term, where)
    changed = tuple(s.key for s in SECTIONS if getattr(term, s.key) != getattr(before, s.key))
    return Change("changed" if changed else "unchanged", term, where, changed, before)


class _Planner:
    def __init__(self, existing: _Existing) -> None:
        self.existing = existing
        self.problems: list[RowProblem] = []
        self.changes: list[Change] = []
        self.slugs: dict[str, str] = {}  # slug -> file:row that claimed it
        self.names: dict[str, tuple[str, str]] = {}  # key -> (slug, file:row)

    def take(self, row: Row) -> None:
        where = f"{row.file}:{row.row}"
        if row.slug in self.slugs:
            self.problems.append(RowProblem(row.file, row.row, "slug", (
                f"{row.slug!r} is also the slug of {self.slugs[row.slug]}: each term may "
                "come once in an import (titles that differ only in case or punctuation "
                "make the same file name)")))
            return
        self.slugs[row.slug] = where
        before = self.existing.terms.get(row.slug)
        values = _merged(row, before)
        found = _check_values(values, row.slug)
        self.problems += [RowProblem(row.file, row.row, column, message)
                          for column, message in found]
        clashed = self._names_clash(row, values)
        if found or clashed:
            return
        term = Term(slug=row.slug, **values)
        self.changes.append(_diff(term, before, where, row.slug in self.existing.files))

    def _names_clash(self, row: Row, values: dict[str, Any]) -> bool:
        """Every name against the earlier rows' and the directory's (except terms this
        import replaces); a row's names count even when it has other problems, so one
        run shows every clash."""
        clash = False
        spelled = [("slug", row.slug), ("title", values.get("title") or ""),
                   *(("aliases", alias) for alias in values.get("aliases", ()))]
        for kind, name in spelled:
            key = name_key(name)
            if not key:
                continue
            owner = self.names.get(key)
            if owner is None:
                old = self.existing.owners.get(key)
                owner = old if old and old[0] not in self.slugs else None
            if owner is not None and owner[0] != row.slug:
                clash = True
                self.problems.append(RowProblem(row.file, row.row, kind, (
                    f"{name!r} collides with term {owner[0]!r} ({owner[1]}); names must "
                    "differ ignoring case, accents and punctuation")))
            else:
                self.names.setdefault(key, (row.slug, f"{row.file}:{row.row}"))
        return clash

    def warnings(self) -> list[RowProblem]:
        known = set(self.slugs) | set(self.existing.terms)
        return [RowProblem(*change.where.rsplit(":", 1), "related",  # type: ignore[misc]
                           f"{slug!r} is not a term yet (its button is shown disabled)")
                for change in self.changes for slug in change.term.related
                if slug not in known]


async def plan_import(paths: Sequence[Path], directory: Path,
                      loaded: Mapping[str, StoredFile] | None = None) -> ImportPlan:
    """Read every source, check every row, and say what an import into ``directory``
    would do. Reading is all-or-nothing per file; rows are checked in order. ``loaded``:
    the bot's last load of the directory, so only files saved since are parsed."""
    import asyncio

    rows: list[Row] = []
    problems: list[RowProblem] = []
    for path in paths:
        found, bad = await asyncio.to_thread(read_source, Path(path))
        rows += found
        problems += bad
    return await _plan(rows, problems, directory, loaded)


async def plan_upload(raw: bytes, file: str, directory: Path | None,
                      stored: Sequence[tuple[str, Term]] = (),
                      loaded: Mapping[str, StoredFile] | None = None) -> ImportPlan:
    """As ``plan_import``, for one file given as bytes (an attachment to /glossary
    import, at most ``MAX_SOURCE_BYTES``); ``file`` names it in every problem. With no
    ``directory`` the import goes into a database-only glossary whose terms are
    ``stored`` as (file, term)."""
    import asyncio

    rows, problems = await asyncio.to_thread(read_bytes, raw, file)
    if directory is None:
        return _planned(rows, problems, None, _stored(stored))
    return await _plan(rows, problems, directory, loaded)


async def _plan(rows: list[Row], problems: list[RowProblem], directory: Path,
                loaded: Mapping[str, StoredFile] | None = None) -> ImportPlan:
    return _planned(rows, problems, directory, await _read_directory(directory, loaded))


def _planned(rows: list[Row], problems: list[RowProblem], directory: Path | None,
             existing: _Existing) -> ImportPlan:
    planner = _Planner(existing)
    for row in rows:
        planner.take(row)
    return ImportPlan(directory, tuple(planner.changes), tuple(problems + planner.problems),
                      tuple(planner.warnings()), existing.files)


# --- Applying --------------------------------------------------------------------------

def target_name(plan: ImportPlan, slug: str) -> str:
    """The term's file name: the existing one (``.yml`` stays ``.yml``), else
    ``<slug>.yaml``; in a database-only glossary, the name the store keeps it under."""
    return plan.files.get(slug, f"{slug}.yaml")


def target_file(plan: ImportPlan, slug: str) -> Path:
    """The term's file in the content directory."""
    assert plan.directory is not None, "a database-only import writes no files"
    return plan.directory / target_name(plan, slug)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@dataclass(frozen=True)
class AppliedImport:
    """What an applied import replaced, so a reload that refuses the result can put the
    directory back (``undo_import``): each target's previous bytes, None for a new file."""

    previous: dict[Path, bytes | None]

    @property
    def written(self) -> int:
        return len(self.previous)


def apply_plan(plan: ImportPlan) -> int:
    """Write every added or changed term file; returns how many (see ``apply_import``)."""
    return apply_import(plan).written


def apply_import(plan: ImportPlan) -> AppliedImport:
    """Write every added or changed term file. Every file is staged as
    a temporary file beside its target first (keeping an existing target's mode, as
    ``bot.files.replace_text`` does; a new file gets what ``open()`` would give it), and
    renamed only once all are written."""
    if not plan.ok:
        raise ValueError("an import with errors is never applied")
    directory = plan.directory
    if directory is None:
        raise ValueError("a database-only import is applied by the store (Reloader.apply)")
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for change in plan.writes:
            target = target_file(plan, change.term.slug)
            temp = directory / f".{target.stem}.{os.getpid()}.import.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            staged.append((temp, target))
            try:
                _write_all(fd, term_file_text(change.term).encode("utf-8"))
                if change.term.slug in plan.files:
                    os.fchmod(fd, stat.S_IMODE(target.stat().st_mode))
            finally:
                os.close(fd)
        previous = {target: target.read_bytes() if target.exists() else None
                    for _, target in staged}
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, target in staged:
        os.replace(temp, target)
    return AppliedImport(previous)


def undo_import(applied: AppliedImport) -> None:
    """Put every file an import wrote back as it was (a new one is removed)."""
    for target, data in applied.previous.items():
        if data is None:
            target.unlink(missing_ok=True)
        else:
            temp = target.with_name(f".{target.stem}.{os.getpid()}.undo.tmp")
            temp.write_bytes(data)
            os.chmod(temp, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)
            os.replace(temp, target)
