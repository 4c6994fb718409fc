"""Changing one term file the way an author would: only what was edited changes.

The editor (``/glossary edit`` later, tests now) opens a term, which records the file's
fingerprint; saving rewrites that file through a round-trip YAML library (ruamel.yaml), so
comments, key order and every untouched value stay exactly as they were, which PyYAML
cannot do. Nothing is overwritten when the file changed since it was opened (another
editor, a git pull, a hand edit): ``EditConflict`` carries the editor's changes back so
nothing they typed is lost. The new text is validated as a reload would before it
replaces the file, and the replacement is atomic and keeps the file's mode.

No Discord here: the cog turns these calls and errors into modals and messages.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import FIELD_ORDER, read_term_file
from bot.errors import EditConflict, InvalidContent
from bot.export import term_file_text
from bot.sections import SECTIONS

_SECTIONS = {s.key: s for s in SECTIONS}


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class OpenedTerm:
    """A term as an editor opened it: what the form shows and what a save checks."""

    path: Path
    fingerprint: str
    values: dict[str, Any]  # every section the file has that was valid


def open_term(path: Path) -> OpenedTerm:
    """The file's sections and fingerprint; a file with errors opens with what is valid,
    so an editor can fix it from Discord."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise EditConflict(f"{path.name} no longer exists", {}) from exc
    return OpenedTerm(path, fingerprint(data), dict(read_term_file(path).values))


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 88
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _styled(value: str) -> Any:
    """A new text value in the style dump_term gives it: literal when it has line breaks,
    folded when long, plain otherwise."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    if "\n" in value:
        return LiteralScalarString(value)
    return FoldedScalarString(value) if len(value) > 80 else value


def _node(key: str, value: Any) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    if _SECTIONS[key].is_list:
        return CommentedSeq(_styled(item) for item in value)
    return _styled(value)


def edited_text(text: str, changes: Mapping[str, Any]) -> str:
    """``text`` with ``changes`` applied (an empty value removes the section); a new
    section goes where the declaration puts it among the ones the file has."""
    yaml = _yaml()
    document = yaml.load(text)
    for key, value in changes.items():
        if key not in _SECTIONS:
            raise KeyError(key)
        if not value:
            document.pop(key, None)
        elif key in document:
            if document[key] != (list(value) if _SECTIONS[key].is_list else value):
                document[key] = _node(key, value)
        else:
            rank = FIELD_ORDER.index(key)
            position = sum(FIELD_ORDER.index(k) < rank for k in document if k in FIELD_ORDER)
            document.insert(position, key, _node(key, value))
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _stage(target: Path, text: str) -> tuple[Path, Path]:
    """The new text in a scratch folder beside the target under the target's own name, so
    it validates with the target's slug, and renames over it atomically."""
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".glossary-edit-"))
    staged = scratch / target.name
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    staged.write_text(text, encoding="utf-8", newline="\n")
    os.chmod(staged, mode)
    return scratch, staged


def _replace_checked(target: Path, text: str, expected: str | None,
                     changes: Mapping[str, Any]) -> None:
    scratch, staged = _stage(target, text)
    try:
        result = read_term_file(staged, str(target))
        errors = [p for p in result.problems if not p.is_warning]
        if errors:
            raise InvalidContent(errors)
        _check_unchanged(target, expected, changes)
        os.replace(staged, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_unchanged(target: Path, expected: str | None, changes: Mapping[str, Any]) -> None:
    try:
        current = fingerprint(target.read_bytes())
    except FileNotFoundError:
        current = None
    if current == expected:
        return
    if expected is None:
        raise EditConflict(f"{target.name} was created by someone else meanwhile", changes)
    if current is None:
        raise EditConflict(f"{target.name} was removed after you opened it", changes)
    raise EditConflict(f"{target.name} changed after you opened it", changes)


@dataclass(frozen=True, slots=True)
class SavedEdit:
    """A saved edit, with what it replaced: the reload that follows checks the glossary
    as a whole, and a refused reload puts the file back (``undo_edit``)."""

    term: Any
    path: Path
    previous: bytes
    fingerprint: str


def save_edit(opened: OpenedTerm, changes: Mapping[str, Any]) -> SavedEdit:
    """Apply the editor's changes to the file they opened.

    Raises EditConflict (with ``changes``) when the file changed or went away since it
    was opened, and InvalidContent when the file would not load on its own.
    """
    _check_unchanged(opened.path, opened.fingerprint, changes)
    previous = opened.path.read_bytes()
    text = edited_text(previous.decode("utf-8-sig"), changes)
    _replace_checked(opened.path, text, opened.fingerprint, changes)
    data = opened.path.read_bytes()
    return SavedEdit(read_term_file(opened.path).term, opened.path, previous, fingerprint(data))


def undo_edit(saved: SavedEdit) -> bool:
    """Put back what the edit replaced, unless the file changed again since."""
    try:
        _check_unchanged(saved.path, saved.fingerprint, {})
    except EditConflict:
        return False
    _replace_checked(saved.path, saved.previous.decode("utf-8-sig"), saved.fingerprint, {})
    return True


def create_term(directory: Path, term: Any) -> Path:
    """A new term's file, as dump_term writes it; never over an existing one."""
    target = directory / f"{term.slug}.yaml"
    values = {s.key: getattr(term, s.key) for s in SECTIONS}
    if target.exists() or (directory / f"{term.slug}.yml").exists():
        raise EditConflict(f"a term file named {term.slug} exists already", values)
    _replace_checked(target, term_file_text(term), None, values)
    return target


def remove_term(opened: OpenedTerm) -> None:
    """Delete the file, unless it changed since the editor looked at it."""
    _check_unchanged(opened.path, opened.fingerprint, {})
    opened.path.unlink()
