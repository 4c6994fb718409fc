"""The results table: rows of figures per glossary size, each with its target beside it.

Benchmark modules return ``Row`` objects; ``render`` lays them out in one table so a new
module (the end-to-end Discord benchmark, say) adds rows without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Figure = float | tuple[float, float] | str | None


@dataclass(frozen=True)
class Target:
    """A limit that applies to some sizes only (``sizes=None``: every size).

    By default the figure must be at most ``limit``; ``minimum=True`` makes it a floor the
    figure must reach ("at least", shown as ``>= limit``), as for a throughput ratio.
    ``Target.at_least(0.8)`` says the same.
    """

    limit: float
    sizes: tuple[int, ...] | None = None
    label: str = ""
    minimum: bool = False

    @classmethod
    def at_least(cls, limit: float, sizes: tuple[int, ...] | None = None,
                 label: str = "") -> Target:
        return cls(limit, sizes, label, minimum=True)

    def applies(self, size: int) -> bool:
        return self.sizes is None or size in self.sizes

    def met(self, measured: float) -> bool:
        return measured >= self.limit if self.minimum else measured <= self.limit

    def describe(self, unit: str) -> str:
        if self.label:
            return self.label
        where = "" if self.sizes is None else ",".join(short_size(s) for s in self.sizes) + " "
        return f"{where}{'>=' if self.minimum else '<='} {self.limit:g} {unit}".strip()


@dataclass(frozen=True)
class Row:
    """One metric across sizes; a pair figure is (p50, p99) and the target checks the last.

    ``checked`` turns a figure into the number the target is checked against (``None``: no
    verdict), for figures whose last part is not the one that counts; to make a figure
    count as missed, return ``inf`` for an "at most" target and ``-inf`` for an "at least" one.
    """

    section: str
    name: str
    unit: str
    values: dict[int, Figure]
    target: Target | None = None
    note: str = ""
    checked: Callable[[Figure], float | None] | None = field(default=None, compare=False)

    def verdict(self, size: int) -> bool | None:
        """True when met, False when missed, None when there is no target for this size."""
        if self.target is None or not self.target.applies(size):
            return None
        value = self.values.get(size)
        measured = self.checked(value) if self.checked else _checked_value(value)
        if measured is None:
            return None
        return self.target.met(measured)


def _checked_value(value: Figure) -> float | None:
    if isinstance(value, tuple):
        return value[-1]
    if isinstance(value, int | float):
        return float(value)
    return None


def short_size(size: int) -> str:
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def _format(value: Figure) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return "/".join(_number(v) for v in value)
    return _number(value)


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if isinstance(value, int):  # a count: no decimals
        return str(value)
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render(rows: Iterable[Row], sizes: Sequence[int]) -> str:
    """A plain-text table (also valid inside a Markdown code block)."""
    rows = list(rows)
    headers = ["metric", "unit", *(short_size(s) for s in sizes), "target", "verdict"]
    lines: list[list[str]] = []
    sections: list[tuple[str, list[list[str]]]] = []
    for row in rows:
        if not sections or sections[-1][0] != row.section:
            sections.append((row.section, []))
        cells = [row.name, row.unit]
        verdicts: list[str] = []
        for size in sizes:
            ok = row.verdict(size)
            mark = "" if ok is None else (" ok" if ok else " MISS")
            cells.append(_format(row.values.get(size)) + mark)
            if ok is not None:
                verdicts.append("met" if ok else "MISSED")
        cells.append(row.target.describe(row.unit) if row.target else "")
        cells.append(" ".join(dict.fromkeys(verdicts)) or row.note)
        sections[-1][1].append(cells)
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h)
              for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        out = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        out += [c.rjust(w) for c, w in zip(cells[2:-2], widths[2:-2], strict=True)]
        out += [cells[-2].ljust(widths[-2]), cells[-1]]
        return "  ".join(out).rstrip()

    text = [fmt(headers), "  ".join("-" * w for w in widths)]
    for title, section_lines in sections:
        text.append(f"[{title}]")
        text.extend(fmt(cells) for cells in section_lines)
    return "\n".join(text)


def misses(rows: Iterable[Row], sizes: Sequence[int]) -> list[str]:
    """One line per missed target, for the summary under the table."""
    out: list[str] = []
    for row in rows:
        for size in sizes:
            if row.verdict(size) is False:
                target = row.target.describe(row.unit) if row.target else ""
                out.append(f"{row.section} / {row.name} at {short_size(size)}: "
                           f"{_format(row.values.get(size))} {row.unit} (target {target})")
    return out
