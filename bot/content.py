"""Term files: reading, validating and writing the YAML that content authors edit.

Files are composed into YAML nodes rather than loaded straight into Python objects, so
every problem can name the line it is on, no YAML tag can ever construct an object, and
alias bombs are never expanded (a list item must be a plain string, so nested aliases are
rejected before anything is copied).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from bot.models import MAX_SLUG_LENGTH, SLUG_PATTERN, Problem, Term, name_key

try:  # libyaml's parser is about 12x faster; the pure-Python one is only a fallback.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

TERM_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 256 * 1024
MAX_TEXT_CHARS = 20_000
MAX_LIST_ITEMS = 100
MAX_RELATED = 20  # a card has room for 20 related-term buttons

TEXT_FIELDS = ("title", "definition", "why_it_matters", "course_example", "real_world_example")
LIST_FIELDS = ("common_mistakes", "related", "aliases")
REQUIRED_FIELDS = ("title", "definition", "why_it_matters")
KNOWN_FIELDS = (*TEXT_FIELDS, "category", *LIST_FIELDS)
FIELD_ORDER = (
    "title",
    "aliases",
    "category",
    "definition",
    "why_it_matters",
    "course_example",
    "real_world_example",
    "common_mistakes",
    "related",
)

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
    """What one file yielded: a term when it is valid on its own, and its problems."""

    path: str
    term: Term | None
    problems: tuple[Problem, ...]
    lines: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class LoadResult:
    terms: tuple[Term, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_warning)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_warning)


class _FileReader:
    """Turns one file's nodes into a Term, collecting every problem instead of stopping."""

    def __init__(self, path: str, slug: str) -> None:
        self.path = path
        self.slug = slug
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self.item_lines: dict[str, list[int]] = {}

    def problem(self, node_or_line: yaml.Node | int, field_name: str, message: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else node_or_line.start_mark.line + 1
        self.problems.append(Problem(self.path, line, field_name, message))

    def text(self, name: str, node: yaml.Node) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
            self.problem(node, name, f"expected text, found {_describe(node)}")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, name, "is empty")
            return None
        if len(value) > MAX_TEXT_CHARS:
            self.problem(node, name, f"is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
            return None
        return value

    def text_list(self, name: str, node: yaml.Node) -> tuple[str, ...] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, f"expected a list, found {_describe(node)}")
            return None
        if len(node.value) > MAX_LIST_ITEMS:
            self.problem(node, name, f"has {len(node.value)} items; the limit is {MAX_LIST_ITEMS}")
            return None
        self.item_lines[name] = [item.start_mark.line + 1 for item in node.value]
        items = [self.text(f"{name}[{i + 1}]", item) for i, item in enumerate(node.value)]
        if any(item is None for item in items):
            return None
        return tuple(item for item in items if item is not None)

    def read(self, text: str) -> Term | None:
        if len(self.slug) > MAX_SLUG_LENGTH:
            self.problem(1, "file name", f"is {len(self.slug)} characters; the limit is "
                         f"{MAX_SLUG_LENGTH} (buttons carry the slug)")
        elif not SLUG_PATTERN.match(self.slug):
            self.problem(
                1, "file name", f"{self.slug!r} is not a slug: use lowercase letters, digits "
                "and single hyphens, like api-routes.yaml"
            )
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
            line = min(mark.line + 1, max(last_line, 1)) if mark else 1
            self.problem(line, "yaml", f"{exc.problem or exc.context or 'invalid YAML'}")
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
            if key not in KNOWN_FIELDS:
                self.problem(
                    key_node, key, f"unknown section; expected one of {', '.join(FIELD_ORDER)}"
                )
                continue
            if key in LIST_FIELDS:
                values[key] = self.text_list(key, value_node)
            else:
                values[key] = self.text(key, value_node)
        for name in REQUIRED_FIELDS:
            if name not in self.lines:
                self.problem(1, name, "is missing (required)")
        self._check_related(values)
        if self.problems:
            return None
        return Term(slug=self.slug, **{k: v for k, v in values.items() if v is not None})

    def _check_related(self, values: dict[str, object]) -> None:
        related = values.get("related")
        if not isinstance(related, tuple):
            return
        if len(related) > MAX_RELATED:
            self.problem(self.lines["related"], "related",
                         f"has {len(related)} terms; a card shows at most {MAX_RELATED}")
        seen: set[str] = set()
        for slug, line in zip(related, self.item_lines["related"], strict=True):
            if not SLUG_PATTERN.match(slug) or len(slug) > MAX_SLUG_LENGTH:
                self.problem(line, "related", f"{slug!r} is not a slug (like api-routes)")
            elif slug == self.slug:
                self.problem(line, "related", f"{slug!r} points to the term itself")
            elif slug in seen:
                self.problem(line, "related", f"{slug!r} is listed twice")
            seen.add(slug)


def read_term_file(path: Path, display_path: str | None = None) -> FileResult:
    """Read and validate one term file on its own (cross-file checks come later)."""
    shown = display_path or str(path)
    reader = _FileReader(shown, path.stem)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            reader.problem(1, "file", f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            return FileResult(shown, None, tuple(reader.problems))
        raw = path.read_bytes()
    except OSError as exc:
        reader.problem(1, "file", f"cannot be read: {exc.strerror or exc}")
        return FileResult(shown, None, tuple(reader.problems))
    if b"\0" in raw:
        reader.problem(1, "file", "is binary, not text")
        return FileResult(shown, None, tuple(reader.problems))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reader.problem(line, "file", "is not UTF-8 text")
        return FileResult(shown, None, tuple(reader.problems))
    term = reader.read(text)
    return FileResult(shown, term, tuple(reader.problems), reader.lines)


def term_files(directory: Path) -> tuple[list[Path], list[Problem]]:
    """The term files in a directory, refusing links that lead outside it."""
    problems: list[Problem] = []
    if not directory.is_dir():
        return [], [Problem(str(directory), 0, "directory", "does not exist")]
    root = directory.resolve()
    files: list[Path] = []
    for entry in sorted(directory.iterdir()):
        if entry.suffix not in TERM_SUFFIXES or entry.name.startswith("."):
            continue
        resolved = entry.resolve()
        if entry.is_symlink() and not resolved.is_relative_to(root):
            problems.append(
                Problem(str(entry), 0, "file", "is a link to a file outside the content directory")
            )
            continue
        if not resolved.is_file():
            continue
        files.append(entry)
    return files, problems


class ContentCache:
    """Remembers parsed files by (mtime, size) so a reload re-parses only what changed."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], FileResult]] = {}

    def read(self, path: Path, display_path: str) -> FileResult:
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return read_term_file(path, display_path)
        cached = self._entries.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        result = read_term_file(path, display_path)
        self._entries[path] = (stamp, result)
        return result

    def forget_missing(self, present: Iterable[Path]) -> None:
        keep = set(present)
        for path in list(self._entries):
            if path not in keep:
                del self._entries[path]


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - different drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def load_directory(directory: Path, cache: ContentCache | None = None) -> LoadResult:
    """Read every term file and run the checks that need the whole glossary.

    Blocking and CPU-heavy: async callers run it in a worker thread.
    """
    files, problems = term_files(Path(directory))
    results: list[FileResult] = []
    for path in files:
        shown = _display(path)
        result = cache.read(path, shown) if cache else read_term_file(path, shown)
        results.append(result)
        problems.extend(result.problems)
    if cache:
        cache.forget_missing(files)
    terms = [r.term for r in results if r.term is not None]
    problems.extend(_cross_file_problems(results))
    return LoadResult(tuple(sorted(terms, key=lambda t: t.slug)), tuple(problems))


def _cross_file_problems(results: list[FileResult]) -> list[Problem]:
    """Name collisions between terms, and related links that lead nowhere."""
    problems: list[Problem] = []
    owners: dict[str, tuple[str, str]] = {}  # name key -> (slug, path)
    for result in results:
        term = result.term
        if term is None:
            continue
        path = result.path
        for kind, name in (("slug", term.slug), ("title", term.title), *(
            ("aliases", alias) for alias in term.aliases
        )):
            key = name_key(name)
            if not key:
                line = result.lines.get(kind, 1)
                problems.append(Problem(path, line, kind, f"{name!r} has no letters or digits"))
                continue
            owner = owners.get(key)
            if owner is None:
                owners[key] = (term.slug, path)
            elif owner[0] != term.slug:
                line = result.lines.get(kind, 1)
                problems.append(Problem(
                    path, line, kind,
                    f"{name!r} collides with term {owner[0]!r} ({owner[1]}); names must differ "
                    "ignoring case, accents and punctuation",
                ))
    known = {r.term.slug for r in results if r.term}
    for result in results:
        if result.term is None:
            continue
        for slug in result.term.related:
            if slug not in known:
                problems.append(Problem(
                    result.path, result.lines.get("related", 1),
                    "related", f"{slug!r} is not a term yet (its button is shown disabled)",
                    is_warning=True,
                ))
    return problems


def directory_stamp(directory: Path) -> str:
    """A hash of every term file's name, size and modification time.

    Equal stamps mean the files are as they were at the last successful load, so a
    restart can skip parsing 10,000 unchanged files; any save changes the stamp.
    """
    files, problems = term_files(Path(directory))
    digest = hashlib.sha1(str(Path(directory).resolve()).encode())
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            return ""  # unreadable now: let the full load report it
        digest.update(f"\0{path.name}\0{stat.st_mtime_ns}\0{stat.st_size}".encode())
    for problem in problems:
        digest.update(f"\0{problem}".encode())
    return digest.hexdigest()


def term_fingerprint(term: Term) -> str:
    """A stable hash of a term's content, used to tell changed terms from unchanged ones."""
    payload = json.dumps(asdict(term), sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


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
