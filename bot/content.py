"""Term files: reading, validating and writing the YAML that content authors edit.

Files are composed into YAML nodes rather than loaded straight into Python objects, so
every problem can name the line it is on, no YAML tag can ever construct an object, and
alias bombs are never expanded (a list item must be a plain string, so nested aliases are
rejected before anything is copied).

Everything here is a pure function of one file (listing the directory and turning parsed
files into rows is ``bot.directory``'s job), so it runs as well in a parse worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from bot.models import MAX_SLUG_LENGTH, SLUG_PATTERN, Problem, Term, name_key
from bot.sections import MAX_TEXT_CHARS, SECTIONS
from bot.yaml_errors import explain

try:  # libyaml's parser is about 12x faster; the pure-Python one is only a fallback.
    _Loader: type = yaml.CSafeLoader
    # libyaml refuses nesting deeper than 1,000 levels from 0.2.6 on; older versions
    # recurse once per level and crash the process on a file of 60,000 "[".
    _DEPTH_GUARDED = tuple(int(p) for p in yaml._yaml.get_version_string().split(".")[:3]) >= (
        0, 2, 6)
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader
    _DEPTH_GUARDED = False  # the pure-Python composer raises RecursionError instead
MAX_NESTING = 8  # a term file is a mapping of text and lists of text: two levels

TERM_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 256 * 1024
MAX_LIST_ITEMS = 100
MAX_RELATED = 20  # a card has room for 20 related-term buttons

TERM_FIELDS = tuple(f.name for f in fields(Term))
_SECTIONS = {s.key: s for s in SECTIONS}
REQUIRED_FIELDS = tuple(s.key for s in SECTIONS if s.required)
FIELD_ORDER = tuple(_SECTIONS)  # as files write them, and dump_term too

_STR_TAG = "tag:yaml.org,2002:str"
_TAG_NAMES = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:seq": "a list",
    "tag:yaml.org,2002:map": "a mapping",
}


def _describe(node: yaml.Node) -> str:
    return _TAG_NAMES.get(node.tag, f"a value tagged {node.tag}")


@dataclass(frozen=True)
class FileResult:
    """What one file yielded: a term when it is valid on its own, and its problems.

    ``values`` holds every section that was valid by itself even when the file as a whole
    is not, so a broken file's names and links still meet the cross-file checks and a
    moderator sees all problems at once, not one round of fixes at a time.
    """

    path: str
    slug: str
    term: Term | None
    problems: tuple[Problem, ...]
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    item_lines: dict[str, list[int]] = field(default_factory=dict, compare=False)
    values: dict[str, object] = field(default_factory=dict, compare=False)


class _FileReader:
    """Turns one file's nodes into a Term, collecting every problem instead of stopping."""

    def __init__(self, path: str, slug: str) -> None:
        self.path = path
        self.slug = slug
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self.item_lines: dict[str, list[int]] = {}
        self.values: dict[str, object] = {}  # every section that was valid on its own
        self.source: list[str] = []

    def problem(self, node_or_line: yaml.Node | int, field_name: str, message: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else node_or_line.start_mark.line + 1
        self.problems.append(Problem(self.path, line, field_name, message))

    def text(self, name: str, node: yaml.Node, limit: int = MAX_TEXT_CHARS,
             item: int = 0) -> str | None:
        """The stripped text of ``node``, or None with a problem. ``item`` numbers a list
        item: its name ("aliases[3]") is only formatted when there is a problem, since a
        reload reads some 17 items a file across up to 100,000 files."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
            message = f"expected text, found {_describe(node)}"
        elif not (value := node.value.strip()):
            message = "is empty"
        elif len(value) > limit:
            message = f"is {len(value)} characters; the limit is {limit}"
        else:
            return value
        self.problem(node, f"{name}[{item}]" if item else name, message)
        return None

    def text_list(self, name: str, node: yaml.Node) -> tuple[str, ...] | None:
        """The valid items (with their lines in ``item_lines``); any invalid one is a
        problem, but the rest still take part in the cross-file checks."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, f"expected a list, found {_describe(node)}")
            return None
        if len(node.value) > MAX_LIST_ITEMS:
            self.problem(node, name, f"has {len(node.value)} items; the limit is {MAX_LIST_ITEMS}")
            return None
        items: list[str] = []
        lines: list[int] = []
        for number, item in enumerate(node.value, start=1):
            if (value := self.text(name, item, item=number)) is None:
                continue
            items.append(value)
            lines.append(item.start_mark.line + 1)
            if item.end_mark.line > item.start_mark.line and not item.style:
                self._check_merged_item(f"{name}[{number}]", item)
        self.item_lines[name] = lines
        return tuple(items)

    def _check_merged_item(self, name: str, item: yaml.Node) -> None:
        """A "- " line indented under the item above is not a new item: YAML joins it to
        that item's text. Valid, so only a warning, but never what the author meant."""
        for index in range(item.start_mark.line + 1, item.end_mark.line + 1):
            if not item.style and index < len(self.source) and (
                    self.source[index].lstrip().startswith("- ")):
                self.problems.append(Problem(
                    self.path, index + 1, name, "this line starts with '- ' but is indented "
                    "under the item above, so it became part of that item; line its '-' up "
                    "with the other items to make it an item of its own", is_warning=True))
                return

    def read(self, text: str) -> Term | None:
        self.source = text.splitlines()
        if len(self.slug) > MAX_SLUG_LENGTH:
            self.problem(1, "file name", f"is {len(self.slug)} characters; the limit is "
                         f"{MAX_SLUG_LENGTH} (buttons carry the slug)")
        elif not SLUG_PATTERN.match(self.slug):
            self.problem(
                1, "file name", f"{self.slug!r} is not a slug: use lowercase letters, digits "
                "and single hyphens, like api-routes.yaml"
            )
        try:
            too_deep = None if _DEPTH_GUARDED else _too_deep(text)
            if too_deep is not None:
                self.problem(too_deep, "yaml", f"is nested more than {MAX_NESTING} levels deep")
                return None
            root = yaml.compose(text, Loader=_Loader)
        except RecursionError:
            self.problem(1, "yaml", "is nested too deeply")
            return None
        except yaml.MarkedYAMLError as exc:
            line, message = explain(exc, text)
            self.problem(line, "yaml", message)
            return None
        except yaml.YAMLError as exc:
            self.problem(1, "yaml", str(exc).splitlines()[0] if str(exc) else "invalid YAML")
            return None
        if root is None:
            self.problem(1, "file", "is empty; a term needs at least a title and a definition")
            return None
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, "file", f"expected a mapping of sections, found {_describe(root)}")
            return None
        self.values = self._sections(root)
        for name in REQUIRED_FIELDS:
            if name not in self.lines:
                self.problem(1, name, "is missing (required)")
        self._check_related()
        self._check_names()
        if any(not problem.is_warning for problem in self.problems):
            return None
        return Term(slug=self.slug, **self.values)  # type: ignore[arg-type]

    def _sections(self, root: yaml.MappingNode) -> dict[str, object]:
        """Every section that is valid on its own; each problem is noted on the way."""
        values: dict[str, object] = {}
        for key_node, value_node in root.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag != _STR_TAG:
                found = _describe(key_node)
                self.problem(key_node, "key", f"expected a section name, found {found}")
                continue
            if key in self.lines:
                self.problem(key_node, key, f"appears twice (first on line {self.lines[key]})")
                continue
            self.lines[key] = key_node.start_mark.line + 1
            section = _SECTIONS.get(key)
            if section is None:
                self.problem(
                    key_node, key, f"unknown section; expected one of {', '.join(FIELD_ORDER)}"
                )
                continue
            if section.is_list:
                values[key] = self.text_list(key, value_node)
            else:
                values[key] = self.text(key, value_node, section.limit)
        return {k: v for k, v in values.items() if v is not None}

    def _check_names(self) -> None:
        """A name made only of symbols can never be typed as a lookup: name_key drops it."""
        title = self.values.get("title")
        if isinstance(title, str) and not name_key(title):
            self.problem(self.lines["title"], "title", f"{title!r} has no letters or digits")
        aliases = self.values.get("aliases", ())
        for alias, line in zip(aliases, self.item_lines.get("aliases", ()), strict=True):
            if not name_key(alias):
                self.problem(line, "aliases", f"{alias!r} has no letters or digits")

    def _check_related(self) -> None:
        related = self.values.get("related")
        if not isinstance(related, tuple):
            return
        if len(related) > MAX_RELATED:
            self.problem(self.lines["related"], "related",
                         f"has {len(related)} terms; a card shows at most {MAX_RELATED}")
        kept: list[str] = []
        kept_lines: list[int] = []
        for slug, line in zip(related, self.item_lines["related"], strict=True):
            if not SLUG_PATTERN.match(slug) or len(slug) > MAX_SLUG_LENGTH:
                self.problem(line, "related", f"{slug!r} is not a slug (like api-routes)")
            elif slug == self.slug:
                self.problem(line, "related", f"{slug!r} points to the term itself")
            elif slug in kept:
                self.problem(line, "related", f"{slug!r} is listed twice")
            else:
                kept.append(slug)
                kept_lines.append(line)
        if any(not p.is_warning for p in self.problems):  # a broken file's links still count
            self.values["related"], self.item_lines["related"] = tuple(kept), kept_lines


def _too_deep(text: str) -> int | None:
    """The line where nesting passes MAX_NESTING, walking parser events (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                return event.start_mark.line + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def read_term_file(path: Path, display_path: str | None = None) -> FileResult:
    """Read and validate one term file on its own (cross-file checks are the store's)."""
    shown = display_path or str(path)
    reader = _FileReader(shown, path.stem)
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            raw = file.read() if size <= MAX_FILE_BYTES else b""
        if size > MAX_FILE_BYTES or len(raw) > MAX_FILE_BYTES:
            size = max(size, len(raw))
            reader.problem(1, "file", f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            return FileResult(shown, reader.slug, None, tuple(reader.problems))
    except OSError as exc:
        reader.problem(1, "file", f"cannot be read: {exc.strerror or exc}")
        return FileResult(shown, reader.slug, None, tuple(reader.problems))
    if b"\0" in raw:
        reader.problem(1, "file", "is binary, not text")
        return FileResult(shown, reader.slug, None, tuple(reader.problems))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reader.problem(line, "file", "is not UTF-8 text")
        return FileResult(shown, reader.slug, None, tuple(reader.problems))
    term = reader.read(text)
    return FileResult(shown, reader.slug, term, tuple(reader.problems), reader.lines,
                      reader.item_lines, reader.values)


class _TermDumper(yaml.SafeDumper):
    """The pure-Python dumper: libyaml's escapes emoji, and dumping is rare anyway."""


def _represent_text(dumper: yaml.Dumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else (">" if len(value) > 80 else None)
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_TermDumper.add_representer(str, _represent_text)


def dump_term(term: Term) -> str:
    """Write a term as the YAML an author would write by hand, sections in page order."""
    data: dict[str, object] = {}
    for name in FIELD_ORDER:
        value = getattr(term, name)
        if value:
            data[name] = list(value) if isinstance(value, tuple) else value
    return yaml.dump(
        data, Dumper=_TermDumper, sort_keys=False, allow_unicode=True, width=88
    )
