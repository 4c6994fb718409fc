"""Editing one term file: only what changed changes, and no edit overwrites another's."""

from __future__ import annotations

import os
import stat

import pytest

from bot.content import dump_term, read_term_file
from bot.editing import (
    create_term,
    edited_text,
    open_term,
    remove_term,
    save_edit,
    undo_edit,
)
from bot.errors import EditConflict, InvalidContent
from tests.conftest import make_term

COMMENTED = """\
# Reviewed by the course team.
title: Widget
aliases:
- gadget  # what students type
category: web
definition: >-
  A widget is a thing students meet in the course, written over two lines so the
  folding is kept as it was.
why_it_matters: It matters.
"""


@pytest.fixture
def widget(terms_dir):
    path = terms_dir / "widget.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    return path


def test_an_edit_keeps_comments_key_order_and_untouched_values(widget):
    save_edit(open_term(widget), {"why_it_matters": "It matters a lot."})
    assert widget.read_text() == COMMENTED.replace("It matters.", "It matters a lot.")


def test_a_new_section_goes_where_the_declaration_puts_it(widget):
    term = save_edit(open_term(widget), {"related": ("gizmo",),
                                         "course_example": "In class."}).term
    text = widget.read_text()
    assert text.index("why_it_matters:") < text.index("course_example:") < text.index(
        "related:")
    assert "# what students type" in text
    assert term.related == ("gizmo",) and term.course_example == "In class."


def test_an_empty_value_removes_an_optional_section(widget):
    term = save_edit(open_term(widget), {"category": "", "aliases": ()}).term
    assert term.category is None and term.aliases == ()
    assert "category" not in widget.read_text()


def test_long_and_multi_line_text_reads_back_as_typed(widget):
    long = "A widget " * 30
    term = save_edit(open_term(widget), {"definition": long.strip(),
                                         "why_it_matters": "First.\n\nSecond paragraph."}).term
    assert term.definition == long.strip()
    assert term.why_it_matters == "First.\n\nSecond paragraph."


def test_a_file_changed_after_opening_is_not_overwritten(widget):
    opened = open_term(widget)
    widget.write_text(COMMENTED.replace("It matters.", "Someone else's words."))
    with pytest.raises(EditConflict) as caught:
        save_edit(opened, {"definition": "Mine."})
    assert caught.value.changes == {"definition": "Mine."}  # the editor's text comes back
    assert "Someone else's words." in widget.read_text()


def test_two_editors_of_one_term_one_wins(widget):
    first, second = open_term(widget), open_term(widget)
    save_edit(first, {"definition": "First editor."})
    with pytest.raises(EditConflict):
        save_edit(second, {"definition": "Second editor."})
    assert read_term_file(widget).term.definition == "First editor."


def test_a_term_removed_after_opening_gives_the_text_back(widget):
    opened = open_term(widget)
    widget.unlink()
    with pytest.raises(EditConflict, match="removed") as caught:
        save_edit(opened, {"definition": "Mine."})
    assert caught.value.changes == {"definition": "Mine."}
    assert not widget.exists()


def test_an_edit_that_would_not_load_changes_nothing(widget):
    with pytest.raises(InvalidContent) as caught:
        save_edit(open_term(widget), {"definition": "x" * 20_001})
    assert any(p.field == "definition" for p in caught.value.problems)
    assert widget.read_text() == COMMENTED
    assert [p.name for p in widget.parent.iterdir()] == ["widget.yaml"]  # no scratch left


def test_the_file_mode_is_kept(widget):
    os.chmod(widget, 0o640)
    save_edit(open_term(widget), {"definition": "Changed."})
    assert stat.S_IMODE(widget.stat().st_mode) == 0o640


def test_create_writes_a_new_file_and_never_over_one(terms_dir):
    term = make_term("gizmo")
    path = create_term(terms_dir, term)
    assert path.read_text() == dump_term(term)
    with pytest.raises(EditConflict, match="exists already") as caught:
        create_term(terms_dir, make_term("gizmo", definition="Another."))
    assert caught.value.changes["definition"] == "Another."


def test_remove_refuses_a_file_that_changed(widget):
    opened = open_term(widget)
    widget.write_text(COMMENTED + "course_example: New.\n")
    with pytest.raises(EditConflict):
        remove_term(opened)
    assert widget.exists()
    remove_term(open_term(widget))
    assert not widget.exists()


def test_unknown_sections_are_refused():
    with pytest.raises(KeyError):
        edited_text(COMMENTED, {"colour": "red"})


def test_undo_puts_the_file_back_unless_it_changed_again(widget):
    saved = save_edit(open_term(widget), {"definition": "Changed."})
    assert undo_edit(saved)
    assert widget.read_text() == COMMENTED
    again = save_edit(open_term(widget), {"definition": "Changed."})
    widget.write_text(COMMENTED + "course_example: Hand edit.\n")
    assert not undo_edit(again)
    assert "Hand edit." in widget.read_text()
