"""The checks that span term files: names that collide, related terms that do not exist.

One pure function decides both, on the parsed files. ``glossary-bot check`` gives it every
file of a directory; a reload gives it the files it parsed (the "fresh" ones) and, in a
``Kept``, the little it needs of the terms it keeps unchanged, which the store reads with
a few indexed queries, so an incremental reload at 100,000 terms never holds them all.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.directory import ParsedFile
from bot.models import Problem

# What the checks need of one parsed file, as plain tuples (dropped from the collector's
# view, however many a 100,000-file load holds): (file name, slug, names as
# (key, name, kind, line), links as (slug, line)).
Outline = tuple[str, str, tuple[tuple[str, str, str, int], ...], tuple[tuple[str, int], ...]]


def outline(parsed: ParsedFile) -> Outline:
    record = parsed.record
    return (parsed.file[0], record.slug,
            tuple((n.key, n.name, n.kind, n.line) for n in record.names), record.links)


@dataclass(frozen=True, slots=True)
class Kept:
    """What the terms a reload keeps as they are bring to the checks."""

    # key -> (slug, file) of the kept term that has a name some fresh file also uses
    owners: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # slugs some fresh file links to that a kept term has
    linked: Container[str] = frozenset()
    # (file, position, line, slug) of kept terms' links to slugs no kept term has
    links: Sequence[tuple[str, int, int, str]] = ()


def cross_file_problems(fresh: Iterable[Outline], kept: Kept, shown: str
                        ) -> tuple[list[Problem], list[Problem]]:
    """(collisions, dangling links) among the fresh files and the kept terms.

    A name belongs to the term that had it before (so the file just edited is the one
    blamed), else to the first file that uses it; every other use is an error, in name
    order. A related term that does not exist is a warning (its button is shown
    disabled), in file order.
    """
    fresh = list(fresh)
    first: dict[str, tuple[str, str]] = {}  # key -> (slug, file) of its first fresh user
    clashes: list[tuple[str, str, int, Problem]] = []
    for file, slug, names, _ in fresh:
        for key, name, kind, line in names:
            owner = kept.owners.get(key) or first.setdefault(key, (slug, file))
            if owner[1] != file:
                clashes.append((key, file, line, Problem(
                    os.path.join(shown, file), line, kind,
                    f"{name!r} collides with term {owner[0]!r} "
                    f"({os.path.join(shown, owner[1])}); names must differ ignoring case, "
                    "accents and punctuation")))
    clashes.sort(key=lambda clash: clash[:3])
    slugs = {slug for _, slug, _, _ in fresh}
    dangling = [(file, position, line, target) for file, _, _, links in fresh
                for position, (target, line) in enumerate(links)
                if target not in slugs and target not in kept.linked]
    dangling += [link for link in kept.links if link[3] not in slugs]
    dangling.sort(key=lambda link: link[:2])
    return [clash[3] for clash in clashes], [
        Problem(os.path.join(shown, file), line, "related",
                f"{target!r} is not a term yet (its button is shown disabled)", is_warning=True)
        for file, _, line, target in dangling]
