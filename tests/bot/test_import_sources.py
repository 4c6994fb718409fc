"""Reading import sources: spreadsheets, Quizlet, JSON and page exports, and bad files."""

from __future__ import annotations

import json

import pytest

from bot.export import export
from bot.import_sources import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_SOURCE_BYTES,
    RowProblem,
    column_key,
    read_bytes,
    read_source,
)
from bot.sections import SECTIONS
from tests.conftest import make_term

REQUIRED_HEADER = "title,definition\r\n"


def only_problem(raw: bytes, file: str = "sheet.csv") -> str:
    rows, problems = read_bytes(raw, file)
    assert rows == []
    [problem] = problems
    return str(problem)


def test_every_section_is_a_column_by_key_or_heading():
    for s in SECTIONS:
        assert column_key(s.key) == s.key
        assert column_key(s.heading.replace("{course}", "VCA").upper()) == s.key
    assert column_key("Term") == "title"
    assert column_key("Slug") == "slug"
    assert column_key("Why it matters:") == "why_it_matters"
    assert column_key("Colour") is None


def test_csv_with_bom_crlf_quoted_newlines_and_commas():
    text = ('\ufeffTerm,Definition,Also called,Common mistakes,Related terms\r\n'
            'Widget,"A thing, with a comma\r\nand a second line",'
            '"gadget, thingy","- First, mistake\r\n- Second","API routes, git"\r\n')
    [row], problems = read_bytes(text.encode("utf-8"), "sheet.csv")
    assert problems == []
    assert (row.file, row.row, row.slug) == ("sheet.csv", 2, "widget")
    assert row.values == {
        "title": "Widget", "definition": "A thing, with a comma\nand a second line",
        "aliases": ("gadget", "thingy"), "common_mistakes": ("First, mistake", "Second"),
        "related": ("api-routes", "git"),
    }


def test_a_neutralised_formula_cell_reads_back_as_typed():
    term = make_term("widget", definition="=1+1 is not a formula here",
                     common_mistakes=("-1 is negative", "@ is an at"))
    [row], _ = read_bytes(export([term], "csv"), "g.csv")
    assert row.values["definition"] == "=1+1 is not a formula here"
    assert row.values["common_mistakes"] == ("-1 is negative", "@ is an at")


def test_a_column_left_out_is_absent_not_empty():
    [row], _ = read_bytes(b"title,definition\nWidget,A thing\n", "s.csv")
    assert set(row.values) == {"title", "definition"}


def test_blank_rows_are_skipped_and_rows_keep_spreadsheet_numbers():
    raw = b'title,definition\n,\nWidget,"two\nlines"\n\nGizmo,x\n'
    rows, _ = read_bytes(raw, "s.csv")
    assert [(r.slug, r.row) for r in rows] == [("widget", 3), ("gizmo", 5)]


def test_a_row_with_more_cells_than_the_header_is_a_problem_of_its_own():
    rows, problems = read_bytes(b"title,definition\nWidget,x,extra\nGizmo,y\n", "s.csv")
    assert [r.slug for r in rows] == ["gizmo"]
    assert [str(p) for p in problems] == [
        "s.csv:2: row: has 3 cells but the header has 2 columns"]


@pytest.mark.parametrize(("header", "fragment"), [
    ("title,why it matters\r\n", "s.csv:1: definition: no such column"),
    ("term,definition,colour\r\n", "s.csv:1: colour: unknown column"),
    ("term,title,definition\r\n", "s.csv:1: title: this column appears twice"),
    ("", "s.csv:1: file: is empty"),
])
def test_a_bad_header_refuses_the_file(header, fragment):
    assert only_problem((header + "Widget,x,y\r\n").encode() if header else b"",
                        "s.csv").startswith(fragment)


def test_wrong_encodings_are_refused_with_advice():
    latin = "title,definition\nCafé,x\n".encode("latin-1")
    message = only_problem(latin)
    assert message.startswith("sheet.csv:2: file: is not UTF-8 text")
    assert "CSV UTF-8" in message
    assert "UTF-16" in only_problem("title,definition\n".encode("utf-16"))


def test_binary_and_spreadsheet_files_are_refused():
    assert "is binary" in only_problem(b"\x00\x01\x02")
    assert ".xlsx? save it as CSV" in only_problem(b"PK\x03\x04\x00\x00")


def test_size_and_row_limits(tmp_path):
    assert "an import takes at most 5,242,880" in only_problem(b"x" * (MAX_SOURCE_BYTES + 1))
    big = tmp_path / "big.csv"  # a file in the terminal may be bigger than an attachment
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    assert read_source(big) == ([], [RowProblem(str(big), 1, "file", (
        f"is {MAX_FILE_BYTES + 1:,} bytes; an import takes at most {MAX_FILE_BYTES:,}"))])
    big.write_bytes(REQUIRED_HEADER.encode() + b"".join(
        b"t%d,%s\r\n" % (i, b"x" * 1000) for i in range(6000)))
    assert big.stat().st_size > MAX_SOURCE_BYTES
    rows, problems = read_source(big)
    assert len(rows) == 6000 and problems == []


def test_a_cell_too_long_for_csv_is_a_clear_problem():
    raw = REQUIRED_HEADER.encode() + b"Widget,x\r\nGizmo," + b"x" * 200_000 + b"\r\n"
    assert only_problem(raw).startswith("sheet.csv:3: file: cannot be read as CSV: field larger")
    many = REQUIRED_HEADER + "".join(f"t{i},d\r\n" for i in range(MAX_ROWS + 1))
    assert f"at most {MAX_ROWS:,}" in only_problem(many.encode())
    exactly = REQUIRED_HEADER + "".join(f"t{i},d\r\n" for i in range(MAX_ROWS))
    rows, problems = read_bytes(exactly.encode(), "s.csv")
    assert len(rows) == MAX_ROWS and problems == []


def test_quizlet_export_is_term_tab_definition():
    raw = b"Widget\tA thing,\twith a tab\r\n\r\n  API   routes \tDoors\nno tab here\n"
    rows, problems = read_bytes(raw, "quizlet.txt")
    assert [(r.row, r.slug, r.values) for r in rows] == [
        (1, "widget", {"title": "Widget", "definition": "A thing,\twith a tab"}),
        (3, "api-routes", {"title": "API routes", "definition": "Doors"}),
    ]
    assert [str(p) for p in problems] == [
        "quizlet.txt:4: definition: no TAB between the term and its definition"]


def test_json_reads_exports_and_plain_lists():
    term = make_term("widget", aliases=("gadget",), related=("git",))
    [row], problems = read_bytes(export([term], "json"), "g.json")
    assert problems == [] and row.slug == "widget"
    assert row.values["aliases"] == ("gadget",) and row.values["related"] == ("git",)
    plain = json.dumps([{"term": "Gizmo", "definition": "x", "aliases": "a, b"}]).encode()
    [row], _ = read_bytes(plain, "p.json")
    assert row.values == {"title": "Gizmo", "definition": "x", "aliases": ("a", "b")}


@pytest.mark.parametrize(("document", "fragment"), [
    ('{"terms": [1]}', "g.json:1: term: expected an object"),
    ('[{"title": "x", "definition": 3}]', "g.json:1: definition: expected text, found int"),
    ('[{"title": "x", "colour": "red"}]', "g.json:1: colour: unknown section"),
])
def test_bad_json_terms(document, fragment):
    _, [problem] = read_bytes(document.encode(), "g.json")
    assert str(problem).startswith(fragment)


def test_broken_json_names_its_line():
    assert only_problem(b'[\n{"title": "x",\n}', "g.json").startswith("g.json:3: json:")


def test_a_page_export_is_one_row_of_its_sections():
    raw = b"Widget\r\nDefinition\r\nA thing.\r\nCommon mistakes\r\n- one\r\n"
    [row], problems = read_bytes(raw, "page.txt")
    assert problems == []
    assert row.values == {"title": "Widget", "definition": "A thing.",
                          "common_mistakes": ("one",)}
    _, [problem] = read_bytes(b"Widget\nDefintion\nx\n", "page.txt")
    assert str(problem).startswith("page.txt:2: page: ")
