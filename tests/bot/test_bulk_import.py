"""Planning and applying an import into a content directory, and ``glossary-bot import``."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from bot import bulk_import
from bot import loading as bulk_import_loading
from bot.bulk_import import apply_plan, plan_import
from bot.cli import main
from bot.content import dump_term, read_term_file
from bot.export import export
from tests.conftest import BUNDLED_TERMS, make_term, validate


@pytest.fixture
def source(tmp_path: Path):
    def write(name: str, text: str | bytes) -> Path:
        path = tmp_path / "sources" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path

    return write


async def test_a_spreadsheet_into_an_empty_directory_loads(source, tmp_path):
    sheet = source("s.csv", "Term,Definition,Why it matters,Related terms\n"
                   "Widget,A thing.,It matters.,Gizmo\nGizmo,Another thing.,,\n")
    out = tmp_path / "terms"
    plan = await plan_import([sheet], out)
    assert plan.ok and plan.summary() == "2 added, 0 changed, 0 unchanged, 0 error(s)"
    assert apply_plan(plan) == 2
    loaded = await validate(out)
    assert loaded.errors == ()
    gizmo = next(t for t in loaded.terms if t.slug == "gizmo")
    assert gizmo.why_it_matters == ""  # optional: the card leaves it out


async def test_the_diff_names_added_changed_and_unchanged(source, write_term, terms_dir):
    write_term("widget")
    write_term("gizmo")
    quizlet = source("q.txt", "Widget\tA new definition.\nGizmo\tgizmo is a thing students "
                     "meet in the course.\nDoohickey\tNew.\n")
    plan = await plan_import([quizlet], terms_dir)
    shown = {change.term.slug: str(change) for change in plan.changes}
    assert shown == {
        "widget": "changed: widget (definition) [" + str(quizlet) + ":1]",
        "gizmo": "unchanged: gizmo [" + str(quizlet) + ":2]",
        "doohickey": "added: doohickey [" + str(quizlet) + ":3]",
    }


async def test_a_quizlet_row_keeps_the_sections_it_does_not_have(source, write_term, terms_dir):
    write_term("widget", category="web", aliases=("gadget",))
    apply_plan(await plan_import([source("q.tsv", "Widget\tNew words.\n")], terms_dir))
    term = read_term_file(terms_dir / "widget.yaml").term
    assert term == make_term("widget", category="web", aliases=("gadget",),
                             definition="New words.")


async def test_an_empty_cell_in_a_present_column_clears_the_section(source, write_term,
                                                                     terms_dir):
    write_term("widget", category="web")
    sheet = source("s.csv", "title,definition,category\nWidget,x,\n")
    apply_plan(await plan_import([sheet], terms_dir))
    assert read_term_file(terms_dir / "widget.yaml").term.category is None


async def test_export_then_import_changes_nothing(tmp_path):
    for fmt, name in (("csv", "g.csv"), ("json", "g.json")):
        path = tmp_path / name
        path.write_bytes(export(
            [read_term_file(p).term for p in BUNDLED_TERMS.glob("*.yaml")], fmt, "VCA"))
        plan = await plan_import([path], BUNDLED_TERMS)
        assert plan.ok and plan.writes == (), fmt
        assert plan.count("unchanged") == len(list(BUNDLED_TERMS.glob("*.yaml")))


async def test_duplicate_names_across_rows_and_files(source, write_term, terms_dir):
    write_term("widget", aliases=("gadget",))
    sheet = source("s.csv", "title,definition,aliases\n"
                   "API Routes,x,\napi routes,y,\nGizmo,z,Gadget\nDoohickey,w,Gizmo\n")
    plan = await plan_import([sheet], terms_dir)
    shown = [str(p) for p in plan.problems]
    assert shown[0].startswith(f"{sheet}:3: slug: 'api-routes' is also the slug of {sheet}:2")
    assert shown[1].startswith(f"{sheet}:4: aliases: 'Gadget' collides with term 'widget' (")
    assert shown[2].startswith(f"{sheet}:5: aliases: 'Gizmo' collides with term 'gizmo' "
                               f"({sheet}:4)")
    assert len(shown) == 3


async def test_a_term_replacing_an_existing_one_may_keep_its_names(source, write_term,
                                                                   terms_dir):
    write_term("widget", aliases=("gadget",))
    sheet = source("s.csv", "title,definition,aliases\nWidget,x,Gadget\n")
    assert (await plan_import([sheet], terms_dir)).ok


@pytest.mark.parametrize(("cells", "problem"), [
    ("Widget,", "definition: is empty (required)"),
    ("!!!,x", "slug: '' is not a slug"),
    ("Widget,x,Not A Slug!!", None),  # related titles become slugs
    ("Widget," + "x" * 20_001, "definition: is 20,001 characters; the limit is 20,000"),
])
async def test_row_rules_are_the_loaders(source, tmp_path, cells, problem):
    sheet = source("s.csv", f"title,definition,related\n{cells}\n")
    plan = await plan_import([sheet], tmp_path / "terms")
    if problem is None:
        assert plan.ok
    else:
        assert [str(p) for p in plan.problems][0].startswith(f"{sheet}:2: {problem}")


async def test_nothing_is_written_when_any_row_is_bad(source, tmp_path):
    sheet = source("s.csv", "title,definition\nWidget,x\nGizmo,\n")
    plan = await plan_import([sheet], tmp_path / "terms")
    assert not plan.ok
    with pytest.raises(ValueError):
        apply_plan(plan)
    assert not (tmp_path / "terms").exists()


async def test_apply_keeps_file_modes_and_leaves_no_temporary_files(source, write_term,
                                                                   terms_dir):
    kept = write_term("widget")
    os.chmod(kept, 0o640)
    sheet = source("s.csv", "title,definition\nWidget,changed\nGizmo,new\n")
    assert apply_plan(await plan_import([sheet], terms_dir)) == 2
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((terms_dir / "gizmo.yaml").stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in terms_dir.iterdir()) == ["gizmo.yaml", "widget.yaml"]


async def test_a_failure_while_staging_changes_no_file(source, write_term, terms_dir,
                                                       monkeypatch):
    before = write_term("widget").read_text()
    sheet = source("s.csv", "title,definition\nWidget,changed\nGizmo,new\n")
    plan = await plan_import([sheet], terms_dir)
    calls = []

    def failing(term):
        calls.append(term.slug)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return dump_term(term)

    monkeypatch.setattr(bulk_import, "term_file_text", failing)
    with pytest.raises(OSError):
        apply_plan(plan)
    assert (terms_dir / "widget.yaml").read_text() == before
    assert sorted(p.name for p in terms_dir.iterdir()) == ["widget.yaml"]


async def test_a_yml_file_is_updated_in_place(source, terms_dir):
    (terms_dir / "widget.yml").write_text(dump_term(make_term("widget")))
    apply_plan(await plan_import([source("q.txt", "Widget\tNew.\n")], terms_dir))
    assert sorted(p.name for p in terms_dir.iterdir()) == ["widget.yml"]
    assert read_term_file(terms_dir / "widget.yml").term.definition == "New."


async def test_an_existing_file_with_errors_is_replaced(source, write_term, terms_dir):
    write_term("widget", "title: [\n")
    plan = await plan_import([source("q.txt", "Widget\tFixed.\n")], terms_dir)
    [change] = plan.changes
    assert change.kind == "changed"
    apply_plan(plan)
    assert (await validate(terms_dir)).errors == ()


async def test_links_to_unknown_terms_are_warnings(source, tmp_path):
    sheet = source("s.csv", "title,definition,related\nWidget,x,nowhere\n")
    plan = await plan_import([sheet], tmp_path / "terms")
    assert plan.ok
    assert [str(w) for w in plan.warnings] == [
        f"{sheet}:2: related: 'nowhere' is not a term yet (its button is shown disabled)"]


# --- The terminal command --------------------------------------------------------------

def test_cli_previews_then_writes_with_yes(source, tmp_path, capsys):
    sheet = source("s.csv", "title,definition\nWidget,x\n")
    out = tmp_path / "terms"
    assert main(["import", str(sheet), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"added: widget [{sheet}:2]" in printed and "Nothing was written" in printed
    assert not out.exists()
    assert main(["import", str(sheet), "--out", str(out), "--yes"]) == 0
    assert "1 term file(s) written" in capsys.readouterr().out
    assert main(["check", str(out)]) == 0


def test_cli_asks_at_a_terminal(source, tmp_path, monkeypatch, capsys):
    sheet = source("s.csv", "title,definition\nWidget,x\n")
    out = tmp_path / "terms"
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "yes"])
    monkeypatch.setattr("builtins.input", lambda question: next(answers))
    assert main(["import", str(sheet), "--out", str(out)]) == 0
    assert not out.exists()
    assert main(["import", str(sheet), "--out", str(out)]) == 0
    assert (out / "widget.yaml").is_file()


def test_cli_errors_are_file_row_column_problem(source, tmp_path, capsys):
    sheet = source("s.csv", "title,definition\nWidget,\n")
    assert main(["import", str(sheet), "--out", str(tmp_path / "t"), "--yes"]) == 1
    err = capsys.readouterr().err
    assert f"{sheet}:2: definition: is empty (required)" in err
    assert "Nothing was written" in err
    assert not (tmp_path / "t").exists()


TEMPLATES = Path(__file__).resolve().parents[2] / "data" / "templates"


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.csv")), ids=lambda p: p.name)
async def test_each_spreadsheet_template_imports_cleanly(template, tmp_path):
    from bot.export import csv_header

    header = template.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert set(header) <= set(csv_header())  # the columns follow bot.sections
    plan = await plan_import([template], tmp_path / "terms")
    assert plan.ok and plan.count("added") >= 1


async def test_an_upload_plans_from_bytes_and_names_its_file(write_term, terms_dir):
    write_term("widget")
    raw = "\ufeffTitle,Definition,Why it matters\r\nWidget,New.,Matters.\r\nGizmo,,\r\n"
    plan = await bulk_import.plan_upload(raw.encode(), "sheet.csv", terms_dir)
    assert [str(p) for p in plan.problems] == ["sheet.csv:3: definition: is empty (required)"]
    [changed] = plan.changes
    assert changed.before is not None and changed.before.definition != "New."
    assert changed.sections == ("definition", "why_it_matters")


async def test_an_applied_import_can_be_undone(source, write_term, terms_dir):
    widget = write_term("widget")
    before = widget.read_bytes()
    sheet = source("s.csv", "Title,Definition,Why it matters\nWidget,New.,Matters.\n"
                   "Gizmo,A gizmo.,Matters.\n")
    applied = bulk_import.apply_import(await plan_import([sheet], terms_dir))
    assert applied.written == 2 and (terms_dir / "gizmo.yaml").exists()
    bulk_import.undo_import(applied)
    assert widget.read_bytes() == before
    assert not (terms_dir / "gizmo.yaml").exists()
    assert sorted(p.name for p in terms_dir.iterdir()) == ["widget.yaml"]


def test_an_attachment_over_5_mb_is_refused_before_it_is_read():
    from bot.import_sources import MAX_SOURCE_BYTES, attachment_too_big

    assert attachment_too_big(MAX_SOURCE_BYTES, "a.csv") is None
    problem = attachment_too_big(MAX_SOURCE_BYTES + 1, "a.csv")
    assert str(problem).startswith("a.csv:1: file: is 5,242,881 bytes; an import takes")


# The bot's preview: files its last load read come from the database, not parsed again.

async def test_the_bots_stored_files_give_the_plan_the_files_would(source, store, tmp_path):
    directory = Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))
    await store.reloads.reload(directory)
    stored = await store.stored_terms(store.glossary.id)
    assert len(stored) == len(list(directory.glob("*.yaml")))
    sheet = source("s.csv", "Term,Definition,Aliases\nGit,Changed.,\nWidget,New.,Repo\n"
                   "Docker Thing,New.,Git\n")
    from_files = await plan_import([sheet], directory)
    from_store = await plan_import([sheet], directory, stored)
    assert from_store.changes == from_files.changes and from_store.files == from_files.files
    assert [str(p) for p in from_store.problems] == [str(p) for p in from_files.problems]
    assert from_store.problems  # the clashes come from stored names too
    assert from_store.count("changed") == 1


async def test_only_files_saved_since_the_last_load_are_parsed(source, store, write_term,
                                                               terms_dir, monkeypatch):
    write_term("widget")
    write_term("gizmo")
    await store.reloads.reload(terms_dir)
    stored = await store.stored_terms(store.glossary.id)
    write_term("gizmo", definition="Saved after the last load.")
    os.utime(terms_dir / "gizmo.yaml", ns=(1, 1))  # a different modification time
    parsed: list[str] = []
    real = bulk_import_loading.parse_in_chunks

    async def counting(directory, files):
        parsed.extend(name for name, _, _ in files)
        async for chunk in real(directory, files):
            yield chunk

    monkeypatch.setattr(bulk_import_loading, "parse_in_chunks", counting)
    sheet = source("q.txt", "Widget\twidget is a thing students meet in the course.\n"
                   "Gizmo\tSaved after the last load.\n")
    plan = await plan_import([sheet], terms_dir, stored)
    assert parsed == ["gizmo.yaml"]
    assert plan.summary() == "0 added, 0 changed, 2 unchanged, 0 error(s)"


def test_a_plan_is_not_formatted_change_by_change_when_asyncio_run_returns_it(
        source, tmp_path, monkeypatch):
    """Python 3.11's asyncio.run formats its result's repr twice (CPython issue 112559):
    a 10,000-row plan's full repr cost the CLI's preview about a second."""
    import asyncio

    sheet = source("s.csv", "Term,Definition\nWidget,A thing.\nGizmo,Another thing.\n")

    def refuse(self):
        raise AssertionError("a change was formatted")

    monkeypatch.setattr(bulk_import.Change, "__repr__", refuse)
    plan = asyncio.run(plan_import([sheet], tmp_path / "terms"))
    assert repr(plan) == (f"<ImportPlan into {tmp_path / 'terms'}: "
                          "2 added, 0 changed, 0 unchanged, 0 error(s)>")
