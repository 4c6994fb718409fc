"""Deterministic synthetic glossaries shaped like data/terms, for the benchmarks.

Each glossary is a directory of term files plus ``queries.json``, the sample queries the
benchmarks replay (slugs, odd spellings, prefixes, one-edit typos, search words). Content
is a pure function of (GENERATOR_VERSION, size), so a directory under ``bench/out/`` is
reused until the generator changes; bump GENERATOR_VERSION whenever output would differ.

Why the shapes matter:

* Titles are pronounceable syllable words drawn from ~15 first letters, so a 1-3 letter
  prefix fans out to thousands of names at 100k, as real vocabulary does; a random-hex
  title would make prefix autocomplete look unrealistically selective.
* Prose follows a Zipf-like word distribution, so full-text search meets both very common
  words (long posting lists) and rare ones.
* Names (slug, title, aliases) never collide under ``name_key``: the real loader rejects
  collisions, and a benchmark that fails validation measures nothing.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import shutil
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import content
from bot.models import MAX_SLUG_LENGTH, Term, name_key, slugify

GENERATOR_VERSION = 1
OUT_DIR = Path(__file__).resolve().parent / "out"
QUERY_SAMPLES = 300

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr",
           "st", "pl", "gr", "sh", "ch", "cl", "fl", "dr", "j", "h")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ea", "io")
_CODAS = ("", "", "", "", "n", "r", "s", "l", "m", "x", "th", "nd", "rk")
_SUFFIX_WORDS = ("cache", "router", "pipeline", "hook", "schema", "queue", "index", "driver",
                 "protocol", "layer", "token", "handler", "store", "engine", "loop", "table",
                 "query", "proxy", "buffer", "stream", "model", "service", "client", "graph")
_CATEGORIES = ("web", "databases", "tools", "deployment", "security", "testing", "languages",
               "networking", "design", "data", "operations", "frontend")
_COMMON = (
    "the a an of to and in is it that for on with as by this from at or be are can when "
    "which your you data server request code user page file database value function each "
    "more most without before after because every other only about into than then them "
    "change changes app browser query table error test build deploy version route key "
    "time memory network client students course lesson project example team write read "
    "run load save send return check update create delete list record field type string "
    "number object array cache index schema model state event handler token session login "
    "password secret config setting environment production local branch commit merge"
).split()


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )


def _vocabulary(rng: random.Random, count: int = 2500) -> tuple[list[str], list[float]]:
    """Common words first, then invented ones, with Zipf cumulative weights."""
    invented = {_word(rng, rng.choice((1, 2, 2, 3))) for _ in range(count)}
    words = list(_COMMON) + sorted(invented - set(_COMMON))
    rng.shuffle(words[len(_COMMON):])
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    return words, cumulative


@dataclass(frozen=True)
class _Names:
    slug: str
    title: str
    aliases: tuple[str, ...]


def _names(rng: random.Random, size: int) -> list[_Names]:
    """Unique titles and aliases (unique under name_key across the whole glossary)."""
    taken: set[str] = set()
    out: list[_Names] = []
    while len(out) < size:
        word = _word(rng, rng.randint(2, 3))
        title = word.capitalize()
        if rng.random() < 0.6:
            title += " " + rng.choice(_SUFFIX_WORDS)
        slug = slugify(title)
        keys = {name_key(title), name_key(slug)}
        if len(slug) > MAX_SLUG_LENGTH or keys & taken:
            continue
        taken |= keys
        aliases: list[str] = []
        for _ in range(rng.randint(0, 3)):
            kind = rng.random()
            if kind < 0.35:
                alias = title + "s"
            elif kind < 0.6:
                alias = "".join(w[0] for w in title.split()).upper() + _word(rng, 1)
            elif kind < 0.8:
                alias = title.replace("o", "oo", 1) if "o" in title else title + "e"
            else:
                alias = _word(rng, 2).capitalize()
            key = name_key(alias)
            if key and key not in taken:
                taken.add(key)
                aliases.append(alias)
        out.append(_Names(slug, title, tuple(aliases)))
    return out


class _Prose:
    """Sentences of Zipf-distributed words; sections land at 300-700 characters."""

    def __init__(self, rng: random.Random, words: list[str], weights: list[float]) -> None:
        self.rng = rng
        self.words = words
        self.weights = weights

    def sentence(self, lead: str | None = None, target: int = 100) -> str:
        picked = self.rng.choices(self.words, cum_weights=self.weights, k=max(4, target // 6))
        parts = [lead] if lead else []
        length = len(lead or "")
        for word in picked:
            if length >= target:
                break
            parts.append(word)
            length += len(word) + 1
        text = " ".join(parts)
        return text[0].upper() + text[1:] + "."

    def section(self, lead: str | None = None) -> str:
        total = self.rng.randint(300, 700)
        count = self.rng.randint(3, 6)
        first = self.sentence(lead, total // count)
        rest = [self.sentence(None, total // count) for _ in range(count - 1)]
        return " ".join([first, *rest])


def _term(index: int, names: _Names, slugs: Sequence[str], vocab: tuple[list, list]) -> Term:
    rng = random.Random(f"v{GENERATOR_VERSION}:term:{index}")
    prose = _Prose(rng, *vocab)
    related: list[str] = []
    while len(related) < min(rng.randint(3, 8), len(slugs) - 1):
        other = slugs[rng.randrange(len(slugs))]
        if other != names.slug and other not in related:
            related.append(other)
    return Term(
        slug=names.slug,
        title=names.title,
        aliases=names.aliases,
        category=rng.choice(_CATEGORIES),
        definition=prose.section(f"{names.title} is"),
        why_it_matters=prose.section(),
        course_example=prose.section("In the course"),
        real_world_example=prose.section(),
        common_mistakes=tuple(
            prose.sentence(None, rng.randint(80, 200)) for _ in range(rng.randint(4, 5))
        ),
        related=tuple(related),
    )


class _FastDumper(yaml.CSafeDumper):
    """libyaml's emitter with dump_term's representer: byte-identical for ASCII text.

    dump_term uses the pure-Python emitter (about 2.3 ms a term, so ~4 minutes for 100k
    files). Every glossary checks its first terms against dump_term itself and falls back
    to it if the output ever differs, so the files are what dump_term writes.
    """


_FastDumper.add_representer(str, content._represent_text)


def _fast_dump(term: Term) -> str:
    data: dict[str, object] = {}
    for name in content.FIELD_ORDER:
        value = getattr(term, name)
        if value:
            data[name] = list(value) if isinstance(value, tuple) else value
    return yaml.dump(data, Dumper=_FastDumper, sort_keys=False, allow_unicode=True, width=88)


# Worker state, inherited through fork so 100k names are not pickled per task.
_STATE: dict[str, object] = {}


def _write_chunk(bounds: tuple[int, int]) -> int:
    names: list[_Names] = _STATE["names"]  # type: ignore[assignment]
    slugs: list[str] = _STATE["slugs"]  # type: ignore[assignment]
    directory: Path = _STATE["dir"]  # type: ignore[assignment]
    dump = _STATE["dump"]
    vocab = _STATE["vocab"]
    for index in range(*bounds):
        term = _term(index, names[index], slugs, vocab)  # type: ignore[arg-type]
        (directory / f"{term.slug}.yaml").write_text(dump(term), encoding="utf-8")  # type: ignore[operator]
    return bounds[1] - bounds[0]


def _one_edit_typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    kind = rng.randrange(4)
    letter = rng.choice(string.ascii_lowercase)
    if kind == 0:
        return word[:i] + letter + word[i + 1:]
    if kind == 1 and len(word) > 4:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + letter + word[i:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _queries(rng: random.Random, names: list[_Names], words: list[str]) -> dict[str, list]:
    """Sample queries, each list a fixed mix the benchmarks cycle through."""
    keys = {name_key(n) for entry in names for n in (entry.slug, entry.title, *entry.aliases)}
    picks = [names[rng.randrange(len(names))] for _ in range(QUERY_SAMPLES)]
    odd: list[str] = []
    for entry in picks:
        name = rng.choice(entry.aliases) if entry.aliases else entry.title
        shaken = "".join(ch.upper() if rng.random() < 0.3 else ch for ch in name)
        odd.append("  " + shaken.replace(" ", rng.choice(["-", "_", "  "])) + " ")
    short = [rng.choice(names).title.lower()[: rng.randint(1, 3)] for _ in range(QUERY_SAMPLES)]
    long_ = [rng.choice(names).title.lower()[: rng.randint(4, 10)] for _ in range(QUERY_SAMPLES)]
    typos: list[list[str]] = []
    while len(typos) < QUERY_SAMPLES:
        entry = rng.choice(names)
        typo = _one_edit_typo(rng, entry.title.lower())
        if name_key(typo) and name_key(typo) not in keys:
            typos.append([typo, entry.slug])
    common, rare = words[:60], words[200:]
    search = []
    for _ in range(100):
        kind = rng.random()
        if kind < 0.4:
            search.append(rng.choice(rare))
        elif kind < 0.7:
            search.append(f"{rng.choice(common)} {rng.choice(rare)}")
        elif kind < 0.85:
            search.append(rng.choice(rare)[:3])  # still typing: a prefix
        else:
            search.append(rng.choice(names).title)
    return {
        "slug": [entry.slug for entry in picks],
        "odd_spelling": odd,
        "prefix_1_3": short,
        "prefix_4_10": long_,
        "typo": typos,
        "search": search,
    }


def glossary_dir(size: int) -> Path:
    return OUT_DIR / f"glossary-v{GENERATOR_VERSION}-n{size}"


def ensure_glossary(size: int, workers: int | None = None) -> Path:
    """The cached glossary of ``size`` terms, generated first if missing.

    Generation writes into a temporary sibling and renames it into place, so an
    interrupted run never leaves a half-written glossary that later runs would trust.
    """
    final = glossary_dir(size)
    if (final / "queries.json").is_file():
        return final
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    staging = OUT_DIR / f".staging-{final.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    terms_dir = staging / "terms"
    terms_dir.mkdir(parents=True)
    rng = random.Random(f"v{GENERATOR_VERSION}:glossary:{size}")
    vocab = _vocabulary(rng)
    names = _names(rng, size)
    slugs = [entry.slug for entry in names]
    sample = [_term(i, names[i], slugs, vocab) for i in range(min(50, size))]
    identical = all(_fast_dump(term) == content.dump_term(term) for term in sample)
    _STATE.update(names=names, slugs=slugs, dir=terms_dir, vocab=vocab,
                  dump=_fast_dump if identical else content.dump_term)
    step = 2000
    chunks = [(start, min(start + step, size)) for start in range(0, size, step)]
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers > 1 and len(chunks) > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            written = sum(pool.imap_unordered(_write_chunk, chunks))
    else:
        written = sum(map(_write_chunk, chunks))
    assert written == size, (written, size)
    queries = _queries(rng, names, vocab[0])
    queries["dumper"] = ["libyaml (verified equal to dump_term)" if identical else "dump_term"]
    (staging / "queries.json").write_text(json.dumps(queries, indent=1), encoding="utf-8")
    _STATE.clear()
    try:
        staging.rename(final)
    except OSError:  # another run finished first; use its copy
        shutil.rmtree(staging, ignore_errors=True)
    return final


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys
    import time

    for arg in sys.argv[1:] or ["1000"]:
        started = time.perf_counter()
        path = ensure_glossary(int(arg))
        print(f"{path}: {time.perf_counter() - started:.1f} s")
