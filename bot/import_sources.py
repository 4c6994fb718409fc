"""The files a glossary is imported from, read into rows of section values.

A spreadsheet saved as CSV (Google Sheets' and Excel's "CSV UTF-8"), with a header row
naming the sections (their keys, as ``glossary-bot export --format csv`` writes them, or
their headings: "Why it matters"); Quizlet's export (term TAB definition, a line each);
JSON (``glossary-bot export --format json``, or a plain list of objects); and the course
website's page exports (``bot.pages``). The columns come from ``bot.sections``.

A file is read whole or not at all: a wrong encoding, a binary file, one over 5 MB or
10,000 rows, or a header without the required columns gives one problem and no rows. A
bad row is a problem of its own and does not stop the rows after it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import PageFormatError
from bot.export import FORMULA_STARTS
from bot.models import slugify
from bot.pages import _strip_bullet, heading_field, parse_page
from bot.sections import SECTIONS, Section

MAX_SOURCE_BYTES = 5 * 1024 * 1024  # an attachment to /glossary import
# A file in the terminal: a full 10,000-term glossary exported as CSV is ~25 MB (each
# term is ~2.5 KB of text), and it must import back.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 10_000
_BY_KEY = {s.key: s for s in SECTIONS}
_REQUIRED = tuple(s.key for s in SECTIONS if s.required)
# What spreadsheets and flashcard apps call the title column.
_TITLE_WORDS = {"term", "name", "word"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A problem in one row of a source, shown as ``file:row: column: problem``."""

    file: str
    row: int | str
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Row:
    """One term's sections as a source gives them; a section it lacks is not a key."""

    file: str
    row: int
    slug: str
    values: dict[str, Any]


class _Refused(Exception):
    """The whole file is unusable; carries the one problem that says why."""

    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# --- Cells -----------------------------------------------------------------------------

def column_key(header: str) -> str | None:
    """The section (or "slug") a header cell names: its key, its heading or a heading the
    page importer knows, ignoring case; "Term" names the title as Quizlet and Anki do."""
    folded = " ".join(header.replace("_", " ").split()).casefold()
    if folded == "slug":
        return "slug"
    if folded in _TITLE_WORDS:
        return "title"
    for s in SECTIONS:
        if folded in (s.key.replace("_", " "), s.heading.casefold()):
            return s.key
    return heading_field(header)


def _unneutralised(cell: str) -> str:
    """The export puts an apostrophe before a cell a spreadsheet would run as a formula."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_STARTS else cell


def section_value(section: Section, raw: str | list[str]) -> Any:
    """A cell (or a JSON value) as the section's value: list items one per line (names and
    related terms may also be comma-separated; related terms may be titles)."""
    if isinstance(raw, list):
        items = [str(item).strip() for item in raw]
    elif section.is_list:
        text = _unneutralised(raw)
        items = [line.strip() for line in _LINE_BREAK.split(text)]
        if section.inline or section.links:
            items = [part.strip() for item in items for part in item.split(",")]
        items = [_strip_bullet(item)[1].strip() if item.startswith(("-", "*", "•")) else item
                 for item in items]
    else:
        text = _unneutralised(raw).strip()
        text = " ".join(text.split()) if section.inline else _LINE_BREAK.sub("\n", text)
        return text or section.default  # an empty category is None, as the store keeps it
    items = [item for item in items if item]
    if section.links:
        items = [slugify(item) for item in items]
    return tuple(items)


def _row(file: str, number: int, values: dict[str, Any], slug: str = "") -> Row:
    return Row(file, number, slug or slugify(str(values.get("title") or "")), values)


# --- Formats ---------------------------------------------------------------------------

def _header(cells: list[str], file: str) -> list[str | None]:
    keys: list[str | None] = []
    for cell in cells:
        key = column_key(cell) if cell.strip() else None
        if cell.strip() and key is None:
            expected = ", ".join(["slug", *_BY_KEY])
            raise _Refused(RowProblem(file, 1, cell.strip()[:60],
                                      f"unknown column; expected one of {expected}"))
        if key is not None and key in keys:
            raise _Refused(RowProblem(file, 1, cell.strip(), "this column appears twice"))
        keys.append(key)
    missing = [key for key in _REQUIRED if key not in keys]
    if missing:
        raise _Refused(RowProblem(file, 1, missing[0], (
            "no such column; the header row must name " + " and ".join(_REQUIRED))))
    return keys


def read_csv(text: str, file: str) -> tuple[list[Row], list[RowProblem]]:
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # a cell over the csv module's 131,072 characters
        raise _Refused(RowProblem(file, len(records) + 1, "file", (
            f"cannot be read as CSV: {exc} (no section takes a cell that long)"))) from exc
    if not records:
        raise _Refused(RowProblem(file, 1, "file", "is empty; the first row must be a header"))
    _too_many(len(records) - 1, file)
    keys = _header(records[0], file)
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys):]):
            problems.append(RowProblem(file, number, "row", (
                f"has {len(cells)} cells but the header has {len(keys)} columns")))
            continue
        given = list(zip(keys, cells, strict=False))  # a short row lacks its last columns
        values = {key: section_value(_BY_KEY[key], cell) for key, cell in given
                  if key is not None and key != "slug"}
        slug = next((cell.strip() for key, cell in given if key == "slug"), "")
        rows.append(_row(file, number, values, slug))
    return rows, problems


def read_quizlet(text: str, file: str) -> tuple[list[Row], list[RowProblem]]:
    """Quizlet's default export: term, TAB, definition; one card a line."""
    lines = _LINE_BREAK.split(text)
    _too_many(sum(bool(line.strip()) for line in lines), file)
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        term, tab, definition = line.partition("\t")
        if not tab:
            problems.append(RowProblem(file, number, "definition",
                                       "no TAB between the term and its definition"))
            continue
        rows.append(_row(file, number, {"title": " ".join(term.split()),
                                        "definition": definition.strip()}))
    return rows, problems


def _json_row(item: object, file: str, number: int) -> Row | RowProblem:
    if not isinstance(item, dict):
        return RowProblem(file, number, "term", "expected an object of sections")
    values: dict[str, Any] = {}
    slug = ""
    for name, value in item.items():
        key = column_key(str(name))
        if key is None:
            return RowProblem(file, number, str(name)[:60], "unknown section")
        if value is None:
            value = ""
        if key == "slug":
            slug = value if isinstance(value, str) else ""
            continue
        section = _BY_KEY[key]
        if not (isinstance(value, str) or (section.is_list and isinstance(value, list)
                                           and all(isinstance(v, str) for v in value))):
            kind = "text or a list of texts" if section.is_list else "text"
            return RowProblem(file, number, key, f"expected {kind}, found "
                              f"{type(value).__name__}")
        values[key] = section_value(section, value)
    return _row(file, number, values, slug)


def read_json(text: str, file: str) -> tuple[list[Row], list[RowProblem]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Refused(RowProblem(file, exc.lineno, "json", exc.msg)) from exc
    items = document.get("terms") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise _Refused(RowProblem(file, 1, "json", 'expected a list of terms (or {"terms": '
                                  "[...]}, as glossary-bot export writes)"))
    _too_many(len(items), file)
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for number, item in enumerate(items, start=1):
        found = _json_row(item, file, number)
        (rows if isinstance(found, Row) else problems).append(found)  # type: ignore[arg-type]
    return rows, problems


def read_page(text: str, file: str) -> tuple[list[Row], list[RowProblem]]:
    """A page export is one term; a section the page leaves empty keeps its old value."""
    try:
        term = parse_page(text, file)
    except PageFormatError as exc:
        return [], [RowProblem(file, exc.line, "page", exc.message)]
    values = {s.key: getattr(term, s.key) for s in SECTIONS if getattr(term, s.key)}
    return [Row(file, 1, term.slug, values)], []


def _too_many(count: int, file: str) -> None:
    if count > MAX_ROWS:
        raise _Refused(RowProblem(file, MAX_ROWS + 2, "file", (
            f"has {count:,} rows; an import takes at most {MAX_ROWS:,} (split the file)")))


# --- Files -----------------------------------------------------------------------------

READERS: dict[str, Callable[[str, str], tuple[list[Row], list[RowProblem]]]] = {
    "csv": read_csv, "quizlet": read_quizlet, "json": read_json, "page": read_page,
}


def source_kind(path: Path, text: str) -> str:
    """By the file's suffix; a ``.txt`` is Quizlet's when its first line has a TAB."""
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix == ".tsv":
        return "quizlet"
    first = next((line for line in _LINE_BREAK.split(text) if line.strip()), "")
    return "quizlet" if "\t" in first else "page"


def _too_big(size: int, limit: int, file: str) -> RowProblem | None:
    if size <= limit:
        return None
    return RowProblem(file, 1, "file", f"is {size:,} bytes; an import takes at most {limit:,}")


def attachment_too_big(size: int, file: str) -> RowProblem | None:
    """The problem with an attachment of ``size`` bytes, checked before downloading it."""
    return _too_big(size, MAX_SOURCE_BYTES, file)


def decode(raw: bytes, file: str, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused with advice."""
    if too_big := _too_big(len(raw), max_bytes, file):
        raise _Refused(too_big)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refused(RowProblem(file, 1, "file", (
            "is UTF-16 text; save it as UTF-8 (Excel: Save As > CSV UTF-8)")))
    if b"\0" in raw:
        hint = " (an .xlsx? save it as CSV)" if raw.startswith(b"PK") else ""
        raise _Refused(RowProblem(file, 1, "file", f"is binary, not text{hint}"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _Refused(RowProblem(file, line, "file", (
            "is not UTF-8 text; save it as UTF-8 (Excel: Save As > CSV UTF-8; Google "
            "Sheets' CSV download is UTF-8 already)"))) from exc


def read_bytes(raw: bytes, file: str, kind: str | None = None,
               max_bytes: int = MAX_SOURCE_BYTES) -> tuple[list[Row], list[RowProblem]]:
    """Rows and problems of one source given as bytes (an attachment, or a file's)."""
    try:
        text = decode(raw, file, max_bytes)
        return READERS[kind or source_kind(Path(file), text)](text, file)
    except _Refused as refused:
        return [], [refused.problem]


def read_source(path: Path) -> tuple[list[Row], list[RowProblem]]:
    file = str(path)
    try:
        if too_big := _too_big(path.stat().st_size, MAX_FILE_BYTES, file):
            return [], [too_big]
        raw = path.read_bytes()
    except OSError as exc:
        return [], [RowProblem(file, 1, "file", f"cannot be read: {exc.strerror or exc}")]
    return read_bytes(raw, file, max_bytes=MAX_FILE_BYTES)
