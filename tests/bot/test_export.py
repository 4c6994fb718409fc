"""Exporting a glossary: every format from the same terms, and the terminal command."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.content import dump_term, read_term_file
from bot.export import FORMATS, export, neutralise, term_file_text
from bot.sections import SECTIONS
from tests.conftest import BUNDLED_TERMS, make_term

TERMS = [
    make_term("widget", aliases=("gadget", "thingy"), category="web",
              common_mistakes=("Calling it a =SUM(A1) formula.", "Forgetting, then, commas."),
              related=("gizmo", "missing-term")),
    make_term("gizmo", title="Gizmo <script>", definition="=HYPERLINK(\"x\") is *not* a link",
              why_it_matters="Émile says: naïve café ☕ matters."),
]


def rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_header_is_the_declared_sections_and_lists_are_lines():
    table = rows(export(TERMS, "csv", "VCA"))
    header = next(csv.reader(io.StringIO(export(TERMS, "csv").decode("utf-8-sig"))))
    assert header == ["slug", *(s.key for s in SECTIONS)]
    widget = next(row for row in table if row["slug"] == "widget")
    assert widget["aliases"] == "gadget\nthingy"
    assert widget["common_mistakes"].splitlines()[1] == "Forgetting, then, commas."


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell
    assert neutralise("plain " + cell) == "plain " + cell


def test_csv_cell_that_starts_like_a_formula_is_text():
    gizmo = next(row for row in rows(export(TERMS, "csv")) if row["slug"] == "gizmo")
    assert gizmo["definition"] == "'=HYPERLINK(\"x\") is *not* a link"


def test_json_holds_every_section_of_every_term():
    document = json.loads(export(TERMS, "json"))
    assert document["format"] == "glossary-bot"
    by_slug = {record["slug"]: record for record in document["terms"]}
    for term in TERMS:
        record = by_slug[term.slug]
        for s in SECTIONS:
            value = getattr(term, s.key)
            assert record[s.key] == (list(value) if s.is_list else value)


def test_yaml_zip_holds_term_files_the_loader_reads_back(tmp_path):
    with zipfile.ZipFile(io.BytesIO(export(TERMS, "yaml"))) as archive:
        archive.extractall(tmp_path)
    for term in TERMS:
        result = read_term_file(tmp_path / "terms" / f"{term.slug}.yaml")
        assert result.problems == ()
        assert result.term == term


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.slug)
def test_term_file_text_is_what_dump_term_writes(term):
    assert term_file_text(term) == dump_term(term)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab 'yes:#-\"\n\t.,!?=&0", min_size=1, max_size=300)
       .filter(lambda text: text.strip()),
       st.lists(st.text(alphabet="abc -:#'0", min_size=1, max_size=100)
                .filter(lambda text: text.strip()), max_size=3))
def test_the_fast_writer_matches_dump_term_on_any_text(text, items):
    """Plain and folded values are written without libyaml: they must come out exactly
    as dump_term writes them, whatever the spacing, punctuation or length."""
    term = make_term("widget", definition=text.strip(), common_mistakes=tuple(
        item.strip() for item in items), title="true" if "yes" in text else "Widget")
    assert term_file_text(term) == dump_term(term)


def test_markdown_page_links_related_terms_and_escapes_html():
    page = export(TERMS, "md", "VCA").decode("utf-8")
    assert page.startswith("# VCA glossary")
    assert '<a id="widget"></a>' in page
    assert "[Gizmo &lt;script&gt;](#gizmo)" in page  # the index and the related link
    assert "<script>" not in page
    assert "missing-term" in page and "(#missing-term)" not in page
    assert "**Example in VCA**" in page
    assert "\\*not\\*" in page


def test_anki_deck_has_a_note_per_term_with_stable_ids(tmp_path):
    def notes(data: bytes) -> list[tuple[str, str]]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
        with sqlite3.connect(tmp_path / "c.anki2") as db:
            return sorted(db.execute("SELECT guid, flds FROM notes"))

    first, second = notes(export(TERMS, "apkg", "VCA")), notes(export(TERMS, "apkg", "VCA"))
    assert len(first) == len(TERMS)
    assert [guid for guid, _ in first] == [guid for guid, _ in second]
    assert any(fields.startswith("Widget\x1f") for _, fields in first)
    assert any("Gizmo &lt;script&gt;" in fields for _, fields in first)


def test_export_of_no_terms_is_a_valid_empty_file():
    for fmt in FORMATS:
        assert export([], fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_exports_the_bundled_glossary(fmt, tmp_path, capsys):
    out = tmp_path / f"out.{fmt}"
    assert main(["export", "--from", str(BUNDLED_TERMS), "--format", fmt, "--out", str(out)]) == 0
    count = len(list(BUNDLED_TERMS.glob("*.yaml")))
    assert f"{count} term(s) written" in capsys.readouterr().out
    assert out.stat().st_size > 0


def test_cli_json_export_matches_the_files(tmp_path):
    out = tmp_path / "g.json"
    assert main(["export", "--from", str(BUNDLED_TERMS), "--format", "json", "--out",
                 str(out)]) == 0
    slugs = [record["slug"] for record in json.loads(out.read_text())["terms"]]
    assert slugs == sorted(p.stem for p in BUNDLED_TERMS.glob("*.yaml"))


def test_cli_yaml_export_into_a_directory_writes_term_files(tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    assert main(["export", "--from", str(BUNDLED_TERMS), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in
                                                            BUNDLED_TERMS.glob("*.yaml"))
    assert main(["check", str(out)]) == 0


def test_cli_exports_a_bot_database(tmp_path, capsys):
    database = tmp_path / "bot.sqlite3"
    assert main(["export", "--from", str(BUNDLED_TERMS), "--out", str(tmp_path / "x.json"),
                 "--format", "json"]) == 0
    # A database holds what a reload put there; build one with the store itself.
    import asyncio

    from bot.store import Store

    async def fill() -> None:
        async with await Store.open(database) as store:
            await store.reloads.reload(BUNDLED_TERMS)

    asyncio.run(fill())
    out = tmp_path / "db.json"
    assert main(["export", "--database", str(database), "--format", "json", "--out",
                 str(out)]) == 0
    assert out.read_bytes() == (tmp_path / "x.json").read_bytes()
    assert main(["export", "--database", str(tmp_path / "none.sqlite3")]) == 2
    assert "no such database" in capsys.readouterr().err


def test_cli_refuses_to_export_broken_files(write_term, terms_dir, tmp_path, capsys):
    write_term("bad", "title: [\n")
    assert main(["export", "--from", str(terms_dir), "--out", str(tmp_path / "x.csv"),
                 "--format", "csv"]) == 1
    assert "bad.yaml:1: yaml:" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_default_output_name_follows_the_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--from", str(BUNDLED_TERMS), "--format", "csv"]) == 0
    assert Path("glossary.csv").is_file()
