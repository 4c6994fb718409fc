"""A corpus of broken and hostile term files, each with the ``path:line: field`` error that
``glossary-bot check`` and ``/glossary reload`` must report for it.

Each case writes its file(s) into a content directory that otherwise holds the bundled,
valid glossary; ``expected`` is ``(line, field, words the message must contain)`` for the
file the case names (line 0: the problem is about the directory entry, not a line).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BILLION_LAUGHS = "\n".join([
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]",
    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]",
    "title: Lol",
    "definition: *i",
    "why_it_matters: *i",
    "common_mistakes: [*i, *i, *i, *i, *i, *i, *i, *i, *i]",
    "",
])

# A bomb that only uses fields the bot knows, so no "unknown section" stops it early.
ALIAS_LIST_BOMB = "\n".join([
    "title: Bomb",
    "definition: &d x",
    "why_it_matters: y",
    "aliases: &l [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "common_mistakes: [*l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l, *l]",
    "",
])


def python_tags(marker: Path) -> str:
    """YAML that *would* create ``marker`` if any loader constructed Python objects."""
    return (
        f'title: !!python/object/apply:os.system ["touch {marker}"]\n'
        f"definition: !!python/object/apply:subprocess.check_call [[touch, '{marker}']]\n"
        f'why_it_matters: !!python/object/new:os.system ["touch {marker}"]\n'
        f"common_mistakes:\n- !!python/name:os.system\n"
    )


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the file the expected problem is reported for
    write: Callable[[Path, Path], None]  # (content directory, scratch directory)
    expected: tuple[int, str, str]


def _text(name: str, text: str) -> Callable[[Path, Path], None]:
    return lambda directory, scratch: (directory / name).write_text(text, encoding="utf-8")


def _bytes(name: str, data: bytes) -> Callable[[Path, Path], None]:
    return lambda directory, scratch: (directory / name).write_bytes(data)


def _huge_file(directory: Path, scratch: Path) -> None:
    with open(directory / "huge.yaml", "wb") as out:
        out.write(b"title: Huge\ndefinition: ")
        out.write(b"x" * (10 * 1024 * 1024))
        out.write(b"\nwhy_it_matters: y\n")


def _symlink_out(directory: Path, scratch: Path) -> None:
    secret = scratch / "outside.yaml"
    secret.write_text("title: Outside\ndefinition: secret\nwhy_it_matters: leaked\n")
    os.symlink(secret, directory / "escape.yaml")


def _symlink_loop(directory: Path, scratch: Path) -> None:
    os.symlink("loop-b.yaml", directory / "loop-a.yaml")
    os.symlink("loop-a.yaml", directory / "loop-b.yaml")


def _collision(directory: Path, scratch: Path) -> None:
    (directory / "gitt.yaml").write_text(
        "title: GIT\ndefinition: Another git.\nwhy_it_matters: Twice.\n", encoding="utf-8")


def cases(marker: Path) -> list[Case]:
    huge_text = "word " * 5000
    many = "\n".join(f"- mistake {i}" for i in range(101))
    return [
        Case("invalid-yaml", "broken.yaml",
             _text("broken.yaml", "title: Broken\ndefinition: [unclosed\nwhy_it_matters: y\n"),
             (2, "yaml", "in double quotes")),
        Case("tab-indent", "tabs.yaml",
             _text("tabs.yaml", "title: Tabs\ndefinition:\n\tindented with a tab\n"),
             (3, "yaml", "a tab character; indent with spaces")),
        Case("duplicate-key", "twice.yaml",
             _text("twice.yaml", "title: A\ndefinition: x\nwhy_it_matters: y\ntitle: B\n"),
             (4, "title", "appears twice (first on line 1)")),
        Case("number-for-text", "numbers.yaml",
             _text("numbers.yaml", "title: Numbers\ndefinition: 2024\nwhy_it_matters: y\n"),
             (2, "definition", "expected text, found a number")),
        Case("list-for-text", "listy.yaml",
             _text("listy.yaml", "title: Listy\ndefinition: [a, b]\nwhy_it_matters: y\n"),
             (2, "definition", "expected text, found a list")),
        Case("text-for-list", "related-text.yaml",
             _text("related-text.yaml",
                   "title: Rel\ndefinition: x\nwhy_it_matters: y\nrelated: git\n"),
             (4, "related", "expected a list")),
        Case("bool-in-list", "bools.yaml",
             _text("bools.yaml", "title: Bools\ndefinition: x\nwhy_it_matters: y\n"
                   "common_mistakes:\n- fine\n- yes\n"),
             (6, "common_mistakes[2]", "expected text, found true/false")),
        Case("huge-field", "long.yaml",
             _text("long.yaml", f"title: Long\ndefinition: >-\n  {huge_text}\nwhy_it_matters: y\n"),
             (2, "definition", "the limit is 20000")),
        Case("too-many-items", "many.yaml",
             _text("many.yaml", f"title: Many\ndefinition: x\nwhy_it_matters: y\n"
                   f"common_mistakes:\n{many}\n"),
             (5, "common_mistakes", "has 101 items")),
        Case("ten-megabytes", "huge.yaml", _huge_file, (1, "file", "the limit is 262,144")),
        Case("binary", "binary.yaml", _bytes("binary.yaml", bytes(range(256)) * 64),
             (1, "file", "binary")),
        Case("not-utf8", "latin1.yaml",
             _bytes("latin1.yaml", b"title: Caf\xe9\ndefinition: x\nwhy_it_matters: y\n"),
             (1, "file", "not UTF-8")),
        Case("empty", "empty.yaml", _text("empty.yaml", ""), (1, "file", "is empty")),
        Case("list-root", "root-list.yaml", _text("root-list.yaml", "- a\n- b\n"),
             (1, "file", "expected a mapping")),
        Case("unknown-key", "colour.yaml",
             _text("colour.yaml", "title: C\ndefinition: x\nwhy_it_matters: y\ncolour: red\n"),
             (4, "colour", "unknown section")),
        Case("missing-required", "bare.yaml", _text("bare.yaml", "title: Bare\n"),
             (1, "definition", "is missing")),
        Case("bad-slug", "Bad_Name.yaml",
             _text("Bad_Name.yaml", "title: Bad name\ndefinition: x\nwhy_it_matters: y\n"),
             (1, "file name", "is not a slug")),
        Case("self-related", "selfish.yaml",
             _text("selfish.yaml", "title: Selfish\ndefinition: x\nwhy_it_matters: y\n"
                   "related:\n- selfish\n"),
             (5, "related", "points to the term itself")),
        Case("name-collision", "gitt.yaml", _collision, (1, "title", "collides with term 'git'")),
        Case("symlink-outside", "escape.yaml", _symlink_out,
             (0, "file", "outside the content directory")),
        Case("python-tags", "tags.yaml", _text("tags.yaml", python_tags(marker)),
             (1, "title", "tagged tag:yaml.org,2002:python/object/apply:os.system")),
        Case("billion-laughs", "laughs.yaml", _text("laughs.yaml", BILLION_LAUGHS),
             (1, "a", "unknown section")),
        Case("alias-list-bomb", "bomb.yaml", _text("bomb.yaml", ALIAS_LIST_BOMB),
             (4, "common_mistakes[1]", "expected text, found a list")),
        Case("error-on-a-late-line", "late.yaml",
             _text("late.yaml", "title: Late\ndefinition: x\nwhy_it_matters: y\n"
                   + "# comment\n" * 20000 + "related: [unclosed\n"),
             (20004, "yaml", "")),
    ]


# Found by this corpus: each crashed instead of being reported (see their tests).
DEEP_NESTING = "title: Deep\ndefinition: " + "[" * 60_000 + "\nwhy_it_matters: y\n"
SYMLINK_LOOP = Case("symlink-loop", "loop-a.yaml", _symlink_loop, (1, "file", "link"))
