"""Import glossary pages exported from the course website into term files.

Each page is read by ``bot.pages.parse_page`` and written with ``bot.content.dump_term``;
the YAML is therefore exactly what the loader expects and ``glossary-bot check`` passes on
every written file. An existing file is overwritten only when asked (``--force``).
This module has no Discord dependency so the CLI and tests can use it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bot.content import MAX_FILE_BYTES, dump_term
from bot.errors import PageFormatError
from bot.files import replace_text
from bot.pages import parse_page

MAX_PAGE_BYTES = 1024 * 1024
"""A page export is a few KiB; anything near a megabyte is the wrong file."""


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
