"""Import glossary pages exported from the course website into term files.

The export is plain text meant for people, not a data format: a title line, then known
section headings each followed by their text. Real exports arrive with Windows or old Mac
line endings, a byte-order mark, HTML entities and stray tags, so this module cleans all
of that up and then hands the result to ``bot.content.dump_term``; the YAML is therefore
exactly what the loader expects and ``glossary-bot check`` passes on every written file.

Only the known headings count as headings: a one-line paragraph such as "Overview" is
indistinguishable from an unknown heading, and treating it as one would silently drop
prose. This module has no Discord dependency so the CLI and tests can use it directly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.content import MAX_FILE_BYTES, MAX_LIST_ITEMS, MAX_TEXT_CHARS, dump_term
from bot.errors import PageFormatError
from bot.files import replace_text
from bot.models import Term, name_key, slugify

MAX_PAGE_BYTES = 1024 * 1024
"""A page export is a few KiB; anything near a megabyte is the wrong file."""


# --- Cleaning --------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Block-level tags separate words ("a<br>b" is two words); inline tags do not ("<b>x</b>y").
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|h[1-6])\b[^<>]*>", re.IGNORECASE)
# A tag must start with a letter so prose such as "a < b and c > d" is left alone.
_ANY_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HORIZONTAL_SPACE = re.compile(r"[ \t\u00a0\u2007\u202f\u200b\ufeff]+")
_BULLET = re.compile(r"^(?:[-*\u2022\u2013]|\d{1,3}[.)])(?:\s+|$)")


def clean_line(raw: str) -> str:
    """Plain text of one exported line: tags dropped (text kept), entities decoded.

    Tags are removed before entities are decoded, so an escaped ``&lt;div&gt;`` in prose
    survives as the literal text ``<div>`` instead of being mistaken for a tag.
    """
    text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", raw))
    text = html.unescape(text)
    return _HORIZONTAL_SPACE.sub(" ", text).strip()


def _strip_bullet(text: str) -> tuple[bool, str]:
    match = _BULLET.match(text)
    return (True, text[match.end():]) if match else (False, text)


# --- Headings --------------------------------------------------------------------------

_HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("definition", re.compile(r"definitions?")),
    ("why_it_matters", re.compile(r"why (?:it|this) matters")),
    # The course name varies per deployment; a line ending like a sentence is prose.
    ("course_example", re.compile(r"example in .{1,60}(?<![.!?])")),
    ("real_world_example", re.compile(r"(?:another )?real[ -]?world examples?")),
    ("common_mistakes", re.compile(r"common mistakes?")),
    ("related", re.compile(r"related(?: terms?)?")),
    ("aliases", re.compile(r"aliases|also called|also known as")),
    ("category", re.compile(r"category")),
)
# render_text writes "Also called: a, b" on one line, so the inline form must read back.
_INLINE = re.compile(r"^(aliases|also called|also known as|category)\s*:\s*(\S.*)$", re.I)
_SHOWN_NAMES = {
    "title": "title",
    "definition": "Definition",
    "why_it_matters": "Why it matters",
    "course_example": "Example in <course>",
    "real_world_example": "Another Real World Example",
    "common_mistakes": "Common mistakes",
    "related": "Related terms",
    "aliases": "Also called",
    "category": "Category",
}
REQUIRED_SECTIONS = ("definition", "why_it_matters")


def heading_field(text: str) -> str | None:
    """The Term field a cleaned line introduces, or None when the line is prose.

    Matching is lenient about case, a leading Markdown ``#`` and a trailing colon because
    hand-edited exports vary in exactly those ways.
    """
    candidate = text.lstrip("#").strip().rstrip(":").strip().casefold()
    for field_name, pattern in _HEADINGS:
        if pattern.fullmatch(candidate):
            return field_name
    return None


# --- Page structure --------------------------------------------------------------------


@dataclass
class _Section:
    field: str
    line: int
    body: list[tuple[int, str]] = field(default_factory=list)  # (line number, raw text)


@dataclass
class _Page:
    source: str
    title: str
    title_line: int
    last_line: int
    sections: dict[str, _Section]

    def error(self, line: int, message: str) -> PageFormatError:
        return PageFormatError(self.source, line, message)


def _split_page(text: str, source: str) -> _Page:
    """Find the title and cut the rest into sections, keeping line numbers for errors."""
    lines = _LINE_BREAK.split(text.removeprefix("\ufeff"))
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1)]
    non_blank = [(number, raw) for number, raw in numbered if clean_line(raw)]
    if not non_blank:
        raise PageFormatError(source, 1, "the page is empty; the first line must be the title")
    title_line, title_raw = non_blank[0]
    title = clean_line(title_raw).lstrip("#").strip()
    if heading_field(title) is not None:
        raise PageFormatError(
            source, title_line,
            f"the page starts with the heading {title!r}; the first line must be the title",
        )
    page = _Page(source, title, title_line, non_blank[-1][0], {})
    current: _Section | None = None
    for number, raw in numbered[title_line:]:
        current = _take_line(page, current, number, raw)
    return page


def _take_line(page: _Page, current: _Section | None, number: int, raw: str) -> _Section | None:
    """Route one line to a new section or the current one; returns the current section."""
    cleaned = clean_line(raw)
    inline = _INLINE.match(cleaned)
    field_name = heading_field(cleaned) or (heading_field(inline.group(1)) if inline else None)
    if field_name is None:
        if current is not None:
            current.body.append((number, raw))
        elif cleaned:
            raise page.error(
                number,
                f"{cleaned[:60]!r} comes before any known section heading; expected "
                f"{_SHOWN_NAMES['definition']!r} (headings: "
                f"{', '.join(_SHOWN_NAMES[f] for f, _ in _HEADINGS)})",
            )
        return current
    if field_name in page.sections:
        first = page.sections[field_name].line
        shown = _SHOWN_NAMES[field_name]
        raise page.error(number, f"the {shown!r} section appears twice (first on line {first})")
    section = _Section(field_name, number)
    if inline and not heading_field(cleaned):
        section.body.append((number, inline.group(2)))
    page.sections[field_name] = section
    return section


# --- Section bodies --------------------------------------------------------------------


def _prose(body: list[tuple[int, str]]) -> str:
    """Join wrapped lines into paragraphs; a blank line (or an empty tag line) separates them."""
    paragraphs: list[list[str]] = [[]]
    for _, raw in body:
        cleaned = clean_line(raw)
        if cleaned:
            paragraphs[-1].append(cleaned)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(" ".join(lines) for lines in paragraphs if lines)


def _bullets(body: list[tuple[int, str]]) -> list[str]:
    """One item per bullet; lines that do not start a bullet continue the previous one."""
    items: list[list[str]] = []
    for _, raw in body:
        cleaned = clean_line(raw)
        if not cleaned:
            continue
        is_bullet, text = _strip_bullet(cleaned)
        if is_bullet or not items:
            items.append([text] if text else [])
        else:
            items[-1].append(text)
    return [" ".join(parts) for parts in items if parts]


def _comma_list(body: list[tuple[int, str]]) -> list[str]:
    """Names given either as bullets or comma separated, or a mix of both."""
    names: list[str] = []
    for _, raw in body:
        _, text = _strip_bullet(clean_line(raw))
        names += [name.strip() for name in text.split(",") if name.strip()]
    return names


_ANCHOR = re.compile(r"<a\b([^<>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+))""")


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        value = next(group for group in match.groups()[1:] if group is not None)
        found.setdefault(match.group(1).casefold(), html.unescape(value))
    return found


def _href_slug(href: str) -> str:
    """The last path segment, so "/glossary/api-routes/?x=1#top" gives "api-routes"."""
    path = unquote(urlsplit(href).path).rstrip("/")
    return path.rsplit("/", 1)[-1]


def _anchor_slug(attributes: str, link_text: str) -> str:
    """data-glossary is the site's own key; the href and the visible text are fallbacks."""
    attrs = _attributes(attributes)
    for candidate in (attrs.get("data-glossary", ""), _href_slug(attrs.get("href", ""))):
        if slugify(candidate):
            return slugify(candidate)
    return slugify(clean_line(link_text))


def _related_slugs(body: list[tuple[int, str]]) -> list[str]:
    slugs: list[str] = []
    for _, raw in body:
        anchors = list(_ANCHOR.finditer(raw))
        if anchors:
            slugs += [_anchor_slug(a.group(1), a.group(2)) for a in anchors]
        else:
            slugs += [slugify(name) for name in _comma_list([(0, raw)])]
    return slugs


def _unique(items: list[str], key: Callable[[str], str], exclude: set[str]) -> tuple[str, ...]:
    """Drop empties and repeats: the loader rejects duplicate or self-referencing entries."""
    seen = set(exclude)
    kept: list[str] = []
    for item in items:
        folded = key(item)
        if folded and folded not in seen:
            seen.add(folded)
            kept.append(item)
    return tuple(kept)


# --- Assembling the term ---------------------------------------------------------------


def _text_field(page: _Page, name: str) -> str:
    section = page.sections.get(name)
    if section is None:
        if name in REQUIRED_SECTIONS:
            raise page.error(
                page.last_line,
                f"the page ends without a {_SHOWN_NAMES[name]!r} section (required)",
            )
        return ""
    text = _prose(section.body)
    if name in REQUIRED_SECTIONS and not text:
        raise page.error(section.line, f"the {_SHOWN_NAMES[name]!r} section is empty (required)")
    if len(text) > MAX_TEXT_CHARS:
        raise page.error(
            section.line,
            f"the {_SHOWN_NAMES[name]!r} section is {len(text):,} characters; "
            f"the limit is {MAX_TEXT_CHARS:,}",
        )
    return text


def _list_field(page: _Page, name: str, items: tuple[str, ...]) -> tuple[str, ...]:
    if len(items) > MAX_LIST_ITEMS:
        raise page.error(
            page.sections[name].line,
            f"the {_SHOWN_NAMES[name]!r} section has {len(items)} items; "
            f"the limit is {MAX_LIST_ITEMS}",
        )
    too_long = next((item for item in items if len(item) > MAX_TEXT_CHARS), None)
    if too_long is not None:
        raise page.error(
            page.sections[name].line,
            f"an item in {_SHOWN_NAMES[name]!r} is over {MAX_TEXT_CHARS:,} characters",
        )
    return items


def _body(page: _Page, name: str) -> list[tuple[int, str]]:
    section = page.sections.get(name)
    return section.body if section else []


def parse_page(text: str, source: str = "<page>") -> Term:
    """Turn one glossary page export into a Term.

    Raises PageFormatError, naming ``source`` and the line, when the page has no title,
    lacks a required section, repeats a section or has text before the first heading.
    """
    page = _split_page(text, source)
    slug = slugify(page.title)
    if not slug:
        raise page.error(
            page.title_line,
            f"the title {page.title!r} has no letters or digits to make a file name from",
        )
    if len(page.title) > MAX_TEXT_CHARS:
        raise page.error(page.title_line, "the title is too long to be a title")
    related = _unique(_related_slugs(_body(page, "related")), str, {slug})
    aliases = _unique(_comma_list(_body(page, "aliases")), name_key, {name_key(page.title)})
    mistakes = tuple(_bullets(_body(page, "common_mistakes")))
    category = " ".join(_prose(_body(page, "category")).split())
    return Term(
        slug=slug,
        title=page.title,
        definition=_text_field(page, "definition"),
        why_it_matters=_text_field(page, "why_it_matters"),
        course_example=_text_field(page, "course_example"),
        real_world_example=_text_field(page, "real_world_example"),
        common_mistakes=_list_field(page, "common_mistakes", mistakes),
        related=_list_field(page, "related", related),
        aliases=_list_field(page, "aliases", aliases),
        category=category or None,
    )


# --- Writing term files ----------------------------------------------------------------


class ImportStatus(Enum):
    WRITTEN = "written"
    OVERWRITTEN = "overwritten"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What happened to one page; ``str()`` is the line the CLI prints for it."""

    source: Path
    status: ImportStatus
    target: Path | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        """Only failures count: skipping an existing file is a safe, expected result."""
        return self.status is ImportStatus.FAILED

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        if self.status is ImportStatus.FAILED:
            return self.message
        shown = str(self.target)
        if self.status is ImportStatus.SKIPPED:
            return f"{shown}: exists, skipped (use --force to overwrite)"
        if self.status is ImportStatus.OVERWRITTEN:
            return f"{shown}: written (replaced the existing file)"
        return f"{shown}: written"


def _read_page(path: Path) -> str:
    """The page's text; every way a file can be unreadable becomes a PageFormatError."""
    try:
        size = path.stat().st_size
        if size > MAX_PAGE_BYTES:
            raise PageFormatError(
                str(path), 1, f"is {size:,} bytes; a page export is at most {MAX_PAGE_BYTES:,}"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise PageFormatError(str(path), 1, f"cannot be read: {exc.strerror or exc}") from exc
    if b"\0" in raw:
        raise PageFormatError(str(path), 1, "is binary, not a text page export")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PageFormatError(str(path), line, "is not UTF-8 text") from exc


def _write_new(target: Path, text: str) -> None:
    """Exclusive create, so a file that appears after the existence check is never clobbered."""
    with target.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _import_one(path: Path, out_dir: Path, force: bool, claimed: dict[str, Path]) -> ImportOutcome:
    term = parse_page(_read_page(path), str(path))
    if term.slug in claimed:
        raise PageFormatError(
            str(path), 1,
            f"has the same slug {term.slug!r} as {claimed[term.slug]}, "
            "imported earlier in this run",
        )
    claimed[term.slug] = path
    text = dump_term(term)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise PageFormatError(str(path), 1, f"the term file would exceed {MAX_FILE_BYTES:,} bytes")
    target = out_dir / f"{term.slug}.yaml"
    existed = target.exists()
    if existed and not force:
        return ImportOutcome(path, ImportStatus.SKIPPED, target)
    try:  # only once a page is good, so a failed run leaves no empty directory behind
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, no permission, ...
        reason = "is a file, not a directory" if out_dir.is_file() else (
            f"cannot be created: {exc.strerror or exc}")
        return ImportOutcome(path, ImportStatus.FAILED, target, f"{out_dir}: {reason}")
    try:
        if force:
            replace_text(target, text)
        else:
            _write_new(target, text)
    except FileExistsError:
        return ImportOutcome(path, ImportStatus.SKIPPED, target)
    except OSError as exc:
        message = f"{target}: cannot be written: {exc.strerror or exc}"
        return ImportOutcome(path, ImportStatus.FAILED, target, message)
    status = ImportStatus.OVERWRITTEN if existed else ImportStatus.WRITTEN
    return ImportOutcome(path, status, target)


def import_pages(
    paths: Sequence[Path], out_dir: Path, *, force: bool = False
) -> list[ImportOutcome]:
    """Import each page into ``out_dir/<slug>.yaml``, one outcome per page, in order.

    A bad page does not stop the others: its outcome is FAILED with the error message.
    Existing files are kept unless ``force``; nothing is printed, the caller decides how.
    """
    claimed: dict[str, Path] = {}
    outcomes: list[ImportOutcome] = []
    for path in paths:
        try:
            outcomes.append(_import_one(Path(path), Path(out_dir), force, claimed))
        except PageFormatError as exc:
            outcomes.append(ImportOutcome(Path(path), ImportStatus.FAILED, message=str(exc)))
    return outcomes
