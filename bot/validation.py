"""The checks that span term files: names that collide, related terms that do not exist.

One pure function decides both. ``glossary-bot check`` gives it every name and link of the
parsed files. A reload has just written its parsed files next to the terms it keeps, so
the store narrows the rows down first, with the indexed queries it has always run (only
names that more than one term has, only links to no term): at 100,000 terms an
incremental reload never reads the whole glossary into Python, and a cold one holds no
more than it did.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable
from itertools import groupby

from bot.directory import ParsedFile
from bot.models import Problem

# (key, name, kind, line, slug, file, kept): kept is true for a term a reload keeps as it
# was, which owns its names against the files just parsed.
NameUse = tuple[str, str, str, int, str, str, bool]
# (file, position in its related list, line, target slug)
LinkUse = tuple[str, int, int, str]


def uses(parsed: Iterable[ParsedFile]) -> tuple[list[NameUse], list[LinkUse]]:
    """Every name and link of the parsed files (with errors or not), for the checks."""
    names: list[NameUse] = []
    links: list[LinkUse] = []
    for file in parsed:
        name, record = file.file[0], file.record
        names += [(n.key, n.name, n.kind, n.line, record.slug, name, False)
                  for n in record.names]
        links += [(name, position, line, target)
                  for position, (target, line) in enumerate(record.links)]
    return names, links


def cross_file_problems(names: Iterable[NameUse], links: Iterable[LinkUse],
                        slugs: Container[str], shown: str
                        ) -> tuple[list[Problem], list[Problem]]:
    """(collisions, dangling links); ``shown`` is the directory as problems name it.

    A name belongs to the term that had it before (so the file just edited is the one
    blamed), else to the first file that uses it; every other use is an error, in name
    order. A link to a slug not in ``slugs`` is a warning (its button is shown disabled),
    in file order.
    """
    errors: list[Problem] = []
    for _, same in groupby(sorted(names, key=lambda n: (n[0], not n[6], n[5], n[3])),
                           key=lambda n: n[0]):
        (_, _, _, _, owner, owner_file, _), *others = same
        errors += [Problem(
            os.path.join(shown, file), line, kind,
            f"{name!r} collides with term {owner!r} ({os.path.join(shown, owner_file)}); "
            "names must differ ignoring case, accents and punctuation",
        ) for _, name, kind, line, _, file, _ in others]
    warnings = [
        Problem(os.path.join(shown, file), line, "related",
                f"{target!r} is not a term yet (its button is shown disabled)", is_warning=True)
        for file, _, line, target in sorted(links, key=lambda link: link[:2])
        if target not in slugs
    ]
    return errors, warnings

