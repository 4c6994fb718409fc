"""Reading a glossary page exported from the course website into a Term.

The export is plain text meant for people, not a data format: a title line, then known
section headings (``bot.sections`` declares them) each followed by their text. Real exports
arrive with Windows or old Mac line endings, a byte-order mark, HTML entities and stray
tags, so this module cleans all of that up first.

Only the known headings count as headings: a one-line paragraph such as "Overview" is
indistinguishable from an unknown heading, and treating it as one would silently drop
prose.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.content import MAX_LIST_ITEMS, MAX_TEXT_CHARS
from bot.errors import PageFormatError
from bot.models import name_key, slugify, term_type
from bot.sections import SECTIONS, Section, importer_headings, term_field_order

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

@dataclass(frozen=True)
class _Vocabulary:
    """What a declaration of sections (``bot.sections``) means for reading a page."""

    sections: tuple[Section, ...]
    headings: tuple[tuple[str, re.Pattern[str]], ...]
    inline: re.Pattern[str]  # "Also called: a, b", as render_text writes it, reads back
    shown: dict[str, str]  # how messages name each section
    required: tuple[str, ...]


@functools.cache
def _vocabulary(sections: tuple[Section, ...]) -> _Vocabulary:
    inline = "|".join(s.importer for s in sections if s.inline)
    return _Vocabulary(
        sections, importer_headings(sections),
        re.compile(f"^({inline})" + r"\s*:\s*(\S.*)$", re.I),
        {s.key: s.import_name for s in sections},
        tuple(s.key for s in sections if s.required and s.card != "title"),
    )


_WORDS = _vocabulary(SECTIONS)
REQUIRED_SECTIONS = _WORDS.required


def heading_field(text: str, words: _Vocabulary = _WORDS) -> str | None:
    """The Term field a cleaned line introduces, or None when the line is prose.

    Matching is lenient about case, a leading Markdown ``#`` and a trailing colon because
    hand-edited exports vary in exactly those ways.
    """
    candidate = text.lstrip("#").strip().rstrip(":").strip().casefold()
    for field_name, pattern in words.headings:
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
    words: _Vocabulary = _WORDS

    def error(self, line: int, message: str) -> PageFormatError:
        return PageFormatError(self.source, line, message)


def _split_page(text: str, source: str, words: _Vocabulary) -> _Page:
    """Find the title and cut the rest into sections, keeping line numbers for errors."""
    lines = _LINE_BREAK.split(text.removeprefix("\ufeff"))
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1)]
    non_blank = [(number, raw) for number, raw in numbered if clean_line(raw)]
    if not non_blank:
        raise PageFormatError(source, 1, "the page is empty; the first line must be the title")
    title_line, title_raw = non_blank[0]
    title = clean_line(title_raw).lstrip("#").strip()
    if heading_field(title, words) is not None:
        raise PageFormatError(
            source, title_line,
            f"the page starts with the heading {title!r}; the first line must be the title",
        )
    page = _Page(source, title, title_line, non_blank[-1][0], {}, words)
    current: _Section | None = None
    for number, raw in numbered[title_line:]:
        current = _take_line(page, current, number, raw)
    return page


def _take_line(page: _Page, current: _Section | None, number: int, raw: str) -> _Section | None:
    """Route one line to a new section or the current one; returns the current section."""
    cleaned, words = clean_line(raw), page.words
    inline = words.inline.match(cleaned)
    field_name = heading_field(cleaned, words) or (
        heading_field(inline.group(1), words) if inline else None)
    if field_name is None:
        if current is not None:
            current.body.append((number, raw))
        elif cleaned:
            raise page.error(
                number,
                f"{cleaned[:60]!r} comes before any known section heading; expected "
                f"{words.shown['definition']!r} (headings: "
                f"{', '.join(words.shown[f] for f, _ in words.headings)})",
            )
        return current
    if field_name in page.sections:
        first = page.sections[field_name].line
        shown = words.shown[field_name]
        raise page.error(number, f"the {shown!r} section appears twice (first on line {first})")
    section = _Section(field_name, number)
    if inline and not heading_field(cleaned, words):
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
        if name in page.words.required:
            raise page.error(
                page.last_line,
                f"the page ends without a {page.words.shown[name]!r} section (required)",
            )
        return ""
    text = _prose(section.body)
    if name in page.words.required and not text:
        shown = page.words.shown[name]
        raise page.error(section.line, f"the {shown!r} section is empty (required)")
    if len(text) > MAX_TEXT_CHARS:
        raise page.error(
            section.line,
            f"the {page.words.shown[name]!r} section is {len(text):,} characters; "
            f"the limit is {MAX_TEXT_CHARS:,}",
        )
    return text


def _list_field(page: _Page, name: str, items: tuple[str, ...]) -> tuple[str, ...]:
    if len(items) > MAX_LIST_ITEMS:
        raise page.error(
            page.sections[name].line,
            f"the {page.words.shown[name]!r} section has {len(items)} items; "
            f"the limit is {MAX_LIST_ITEMS}",
        )
    too_long = next((item for item in items if len(item) > MAX_TEXT_CHARS), None)
    if too_long is not None:
        raise page.error(
            page.sections[name].line,
            f"an item in {page.words.shown[name]!r} is over {MAX_TEXT_CHARS:,} characters",
        )
    return items


def _body(page: _Page, name: str) -> list[tuple[int, str]]:
    section = page.sections.get(name)
    return section.body if section else []


def parse_page(text: str, source: str = "<page>", sections: tuple[Section, ...] = SECTIONS
               ) -> Any:
    """Turn one glossary page export into a Term (of ``sections``' declaration).

    Raises PageFormatError, naming ``source`` and the line, when the page has no title,
    lacks a required section, repeats a section or has text before the first heading.
    """
    page = _split_page(text, source, _vocabulary(sections))
    slug = slugify(page.title)
    if not slug:
        raise page.error(
            page.title_line,
            f"the title {page.title!r} has no letters or digits to make a file name from",
        )
    if len(page.title) > MAX_TEXT_CHARS:
        raise page.error(page.title_line, "the title is too long to be a title")
    values: dict[str, object] = {"slug": slug, "title": page.title}
    for s in term_field_order(sections):
        if s.card != "title":
            values[s.key] = _section_value(page, s, slug)
    return term_type(sections)(**values)


def _section_value(page: _Page, section: Section, slug: str) -> object:
    """A section's value by its kind: links (as slugs), names (comma lists), bullets, a
    one-line text, or prose."""
    body = _body(page, section.key)
    if section.links:
        return _list_field(page, section.key, _unique(_related_slugs(body), str, {slug}))
    if section.is_list and section.inline:
        return _list_field(page, section.key,
                           _unique(_comma_list(body), name_key, {name_key(page.title)}))
    if section.is_list:
        return _list_field(page, section.key, tuple(_bullets(body)))
    if section.inline:
        return " ".join(_prose(body).split()) or section.default
    return _text_field(page, section.key)
