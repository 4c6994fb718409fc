"""Writing a glossary out: term files, a spreadsheet, JSON, one Markdown page, an Anki deck.

Each format is a pure function of the terms (and the course's name, which headings use)
that returns bytes, so the terminal (``glossary-bot export``) and Discord (an attachment)
hand out the same file. Every section comes from ``bot.sections``: adding a section adds
a column, a JSON key and a heading here with no change to this module.

The CSV is the spreadsheet ``bot.bulk_import`` reads back: a header row of section keys,
one term per row, list items one per line inside their cell. A cell that a spreadsheet
would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe, which spreadsheets show as text and the importer drops.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot import content
from bot.sections import SECTIONS, Section

FORMATS = ("yaml", "csv", "json", "md", "apkg")
SUFFIXES = {"yaml": ".zip", "csv": ".csv", "json": ".json", "md": ".md", "apkg": ".apkg"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
JSON_FORMAT = "glossary-bot"
JSON_VERSION = 1


# --- Term files ------------------------------------------------------------------------

class _FastDumper(yaml.CSafeDumper):
    """libyaml's emitter with dump_term's representer, for the values ``_fast_value``
    leaves to it: byte-identical to dump_term for ASCII text."""


_FastDumper.add_representer(str, content._represent_text)
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,()/&+!?'\"-]*")
_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
WIDTH = 88  # dump_term's


_FOLD = re.compile("(.{" + str(WIDTH - 1) + ",}?) ")  # a line of the block, then its space


def _folded(text: str) -> str:
    """libyaml's folded block, indented by two: a line breaks at the first space past the
    width (the text has no double spaces, so this is libyaml's character-by-character
    rule)."""
    return "  " + _FOLD.sub("\\1\n  ", text)


def _fast_value(value: str) -> str | None:
    """The text after ``key:`` or ``-`` as dump_term writes it, or None when only libyaml
    can tell (quoting, escapes, leading spaces, tabs): those values go through it."""
    if not value.isascii() or not value.isprintable() or value != value.strip():
        return None
    if "\n" in value or "  " in value:
        return None
    if len(value) > 80:
        return " >-\n" + _folded(value)
    if (_PLAIN.fullmatch(value) and ": " not in value and " #" not in value
            and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR):
        return " " + value
    return None


def _yaml_entry(key: str, value: object) -> str | None:
    if isinstance(value, tuple):
        items = [_fast_value(item) for item in value]
        if any(item is None for item in items):
            return None
        return f"{key}:\n" + "".join(f"-{item}\n" for item in items)
    text = _fast_value(value)  # type: ignore[arg-type]
    return None if text is None else f"{key}:{text}\n"


def term_file_text(term: Any) -> str:
    """A term's YAML file, exactly as ``bot.content.dump_term`` writes it. Plain and
    folded text is written here (10,000 terms through libyaml's Python representer layer
    take ~4.5 s, dump_term's pure-Python emitter ~40 s); any other value through libyaml,
    and anything beyond ASCII through dump_term itself."""
    values = {name: value for name in content.FIELD_ORDER if (value := getattr(term, name))}
    entries = [_yaml_entry(name, value) for name, value in values.items()]
    if all(entry is not None for entry in entries):
        return "".join(entries)  # type: ignore[arg-type]
    data = {name: list(value) if isinstance(value, tuple) else value
            for name, value in values.items()}
    text = yaml.dump(data, Dumper=_FastDumper, sort_keys=False, allow_unicode=True, width=88)
    return text if text.isascii() else content.dump_term(term)


def term_files(terms: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """(file name, YAML text) per term: what a content directory holds."""
    for term in terms:
        yield f"{term.slug}.yaml", term_file_text(term)


def to_yaml_zip(terms: Sequence[Any], course_name: str = "") -> bytes:
    """Term files in one zip (an attachment is one file); unzipped, a content directory."""
    buffer = io.BytesIO()
    # Level 1: most of the saving of the default level at about half its time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in term_files(terms):
            archive.writestr(f"terms/{name}", text)
    return buffer.getvalue()


# --- Spreadsheet -----------------------------------------------------------------------

def neutralise(cell: str) -> str:
    """A leading apostrophe on a cell a spreadsheet would evaluate (CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def cell_text(section: Section, value: object) -> str:
    """A section's value as one cell: list items one per line."""
    if section.is_list:
        return "\n".join(value)  # type: ignore[arg-type]
    return value or ""  # type: ignore[return-value]


def csv_header(sections: Sequence[Section] = SECTIONS) -> list[str]:
    return ["slug", *(s.key for s in sections)]


def to_csv(terms: Sequence[Any], course_name: str = "") -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads the accents right), CRLF rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header())
    for term in terms:
        writer.writerow([term.slug, *(neutralise(cell_text(s, getattr(term, s.key)))
                                      for s in SECTIONS)])
    return buffer.getvalue().encode("utf-8-sig")


# --- JSON ------------------------------------------------------------------------------

def term_record(term: Any) -> dict[str, object]:
    """The term as a JSON object: its slug and every section, lists as arrays."""
    record: dict[str, object] = {"slug": term.slug}
    for s in SECTIONS:
        value = getattr(term, s.key)
        record[s.key] = list(value) if s.is_list else value
    return record


def to_json(terms: Sequence[Any], course_name: str = "") -> bytes:
    document = {"format": JSON_FORMAT, "version": JSON_VERSION,
                "terms": [term_record(term) for term in terms]}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- Markdown --------------------------------------------------------------------------

def _md(text: str) -> str:
    """Text that renders as typed: no raw HTML, no accidental emphasis or links."""
    text = html.escape(text, quote=False)
    for char in "\\`*_[]#|":
        text = text.replace(char, "\\" + char)
    return text


def _md_term(term: Any, course_name: str, titles: dict[str, str]) -> list[str]:
    lines = [f'<a id="{term.slug}"></a>', "", f"## {_md(term.title)}", ""]
    for s in SECTIONS:
        value = getattr(term, s.key)
        if s.card == "title" or not value:
            continue
        if s.links:
            links = [f"[{_md(titles[slug])}](#{slug})" if slug in titles else _md(slug)
                     for slug in value]
            lines += [f"**{_md(s.title(course_name))}:** {', '.join(links)}", ""]
        elif s.is_list and s.page == "block":
            lines += [f"**{_md(s.title(course_name))}**", "",
                      *(f"- {_md(item)}" for item in value), ""]
        elif s.is_list or s.page in ("inline", "none"):
            shown = ", ".join(value) if s.is_list else value
            lines += [f"*{_md(s.title(course_name))}:* {_md(shown)}", ""]
        elif s.card == "description":
            lines += [_md(value), ""]
        else:
            lines += [f"**{_md(s.title(course_name))}**", "", _md(value), ""]
    return lines


def to_markdown(terms: Sequence[Any], course_name: str = "") -> bytes:
    """One page a teacher can publish: an index of links, then every term in order."""
    titles = {term.slug: term.title for term in terms}
    heading = f"{course_name} glossary" if course_name else "Glossary"
    lines = [f"# {_md(heading)}", "", f"{len(terms)} terms.", ""]
    lines += [f"- [{_md(term.title)}](#{term.slug})" for term in terms]
    lines.append("")
    for term in terms:
        lines += _md_term(term, course_name, titles)
    return "\n".join(lines).encode("utf-8")


# --- Anki ------------------------------------------------------------------------------

def _stable_id(text: str) -> int:
    """Anki ids for the note type and the deck: the same glossary gives the same ids, so
    importing a newer export updates the deck instead of adding a second one."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:6], "big") | 1 << 40


def _anki_sections() -> tuple[Section, ...]:
    return tuple(s for s in SECTIONS if s.card != "title" and not s.links)


def _anki_html(section: Section, value: object) -> str:
    if section.is_list and section.page == "block":
        return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in value) + "</ul>"
    text = ", ".join(value) if section.is_list else (value or "")  # type: ignore[arg-type]
    return html.escape(text).replace("\n", "<br>")


def _anki_model(course_name: str) -> Any:
    import genanki

    sections = _anki_sections()
    names = ["Term", *(s.title(course_name) for s in sections)]
    back = "".join(f"{{{{#{name}}}}}<h3>{html.escape(name)}</h3>{{{{{name}}}}}{{{{/{name}}}}}"
                   for name in names[1:])
    return genanki.Model(
        _stable_id(f"glossary-bot model {course_name}"), f"{course_name or 'Glossary'} term",
        fields=[{"name": name} for name in names],
        templates=[{"name": "Term to meaning", "qfmt": "<h2>{{Term}}</h2>",
                    "afmt": "{{FrontSide}}<hr id=answer>" + back}],
    )


def to_anki(terms: Sequence[Any], course_name: str = "") -> bytes:
    """An Anki deck: the term on the front, its sections on the back; a note's id comes
    from the slug, so a re-imported deck updates cards and keeps students' progress."""
    import genanki

    model = _anki_model(course_name)
    name = f"{course_name} glossary" if course_name else "Glossary"
    deck = genanki.Deck(_stable_id(f"glossary-bot deck {course_name}"), name)
    for term in terms:
        category = getattr(term, "category", None)
        deck.add_note(genanki.Note(
            model=model, guid=genanki.guid_for("glossary-bot", term.slug),
            fields=[html.escape(term.title),
                    *(_anki_html(s, getattr(term, s.key)) for s in _anki_sections())],
            tags=[category.replace(" ", "_")] if category else [],
        ))
    return _anki_package(genanki.Package(deck))


def _anki_package(package: Any) -> bytes:
    """genanki's write_to_file leaves its scratch database in /tmp; this one cleans up."""
    with tempfile.TemporaryDirectory(prefix="glossary-anki-") as scratch:
        database = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            timestamp = time.time()
            package.write_to_db(connection.cursor(), timestamp,
                                iter(range(int(timestamp * 1000), 1 << 62)))
            connection.commit()
        finally:
            connection.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(database, "collection.anki2")
            archive.writestr("media", "{}")
        return buffer.getvalue()


# --- Dispatch --------------------------------------------------------------------------

EXPORTERS: dict[str, Callable[[Sequence[Any], str], bytes]] = {
    "yaml": to_yaml_zip, "csv": to_csv, "json": to_json, "md": to_markdown, "apkg": to_anki,
}


def export(terms: Sequence[Any], fmt: str, course_name: str = "") -> bytes:
    """The glossary in ``fmt`` (one of FORMATS), terms in slug order."""
    ordered = sorted(terms, key=lambda term: term.slug)
    return EXPORTERS[fmt](ordered, course_name)


def file_name(fmt: str, stem: str = "glossary") -> str:
    return stem + SUFFIXES[fmt]
