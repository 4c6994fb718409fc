"""Turn what a person types in the sandbox page into a slash command, as Discord's client does.

Discord's own client builds a command from a picker with one box per option; the sandbox
has a single text box, so it needs a small grammar instead::

    /define backend private:true       options by name, ``name:value``
    /define server side                text before the first ``name:`` is the first option
    /share backend note:read this      a value runs until the next ``name:``
    /glossary reload                   subcommands are words after the command

The definitions come from the bot's own command tree (``command.to_dict(tree)``, exactly
what the bot syncs to Discord), so the grammar follows the cogs without a second list.
Checks that Discord's client makes before sending (required options, lengths, number
ranges, choices, booleans) are made here too, with messages in the same spirit, because
the real bot never sees input that Discord's client would not send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Application command option types (https://discord.com/developers/docs/interactions/).
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


class CommandError(ValueError):
    """What Discord's client would say instead of sending the command."""


@dataclass(frozen=True)
class OptionSpec:
    """One option of a (sub)command, as the bot declared it."""

    name: str
    type: int
    description: str = ""
    required: bool = False
    autocomplete: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OptionSpec:
        return cls(
            name=str(data["name"]),
            type=int(data["type"]),
            description=str(data.get("description") or ""),
            required=bool(data.get("required")),
            autocomplete=bool(data.get("autocomplete")),
            min_length=data.get("min_length"),
            max_length=data.get("max_length"),
            min_value=data.get("min_value"),
            max_value=data.get("max_value"),
            choices=tuple((str(c["name"]), c["value"]) for c in data.get("choices") or ()),
        )


@dataclass(frozen=True)
class CommandSpec:
    """A command the page can run: ``path`` is ``("define",)`` or ``("glossary", "reload")``."""

    path: tuple[str, ...]
    description: str
    options: tuple[OptionSpec, ...] = ()

    @property
    def name(self) -> str:
        return self.path[0]

    @property
    def subpath(self) -> tuple[str, ...]:
        return self.path[1:]

    @property
    def qualified_name(self) -> str:
        return " ".join(self.path)

    def option(self, name: str) -> OptionSpec | None:
        return next((o for o in self.options if o.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """What the page needs for its command picker and option hints."""
        return {
            "name": self.qualified_name,
            "description": self.description,
            "options": [
                {"name": o.name, "description": o.description, "required": o.required,
                 "type": o.type, "autocomplete": o.autocomplete}
                for o in self.options
            ],
        }


def flatten(definitions: Iterable[Mapping[str, Any]]) -> list[CommandSpec]:
    """Every runnable chat-input command, subcommands expanded, in the tree's order."""
    specs: list[CommandSpec] = []

    def walk(path: tuple[str, ...], description: str, options: Sequence[Mapping[str, Any]]) -> None:
        subs = [o for o in options if int(o.get("type", 0)) in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            specs.append(CommandSpec(path, description, tuple(map(OptionSpec.from_dict, options))))
            return
        for sub in subs:
            walk((*path, str(sub["name"])), str(sub.get("description") or ""),
                 sub.get("options") or [])

    for definition in definitions:
        if int(definition.get("type") or 1) != 1:
            continue
        walk((str(definition["name"]),), str(definition.get("description") or ""),
             definition.get("options") or [])
    return specs


@dataclass
class ParsedCommand:
    """A typed command: raw option texts by name, and where each sits in the text."""

    spec: CommandSpec
    raw: dict[str, str] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: The option the cursor (end of text) is in, for autocomplete; None when the text
    #: ends inside the command name itself.
    focused: str | None = None


def parse(text: str, commands: Sequence[CommandSpec]) -> ParsedCommand:
    """Split ``text`` into a command and raw option values (no type checks yet)."""
    if not text.lstrip().startswith("/"):
        raise CommandError("Commands start with / (try /define backend).")
    start = text.index("/") + 1
    words = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text[start:])]
    spec, used = _match_command(words, commands)
    if spec is None:
        typed = words[0][0] if words else ""
        known = ", ".join(sorted({"/" + c.name for c in commands}))
        raise CommandError(f"Unknown command /{typed}. Commands here: {known}.")
    rest_start = start + (words[used - 1][2] if used else 0)
    rest = text[rest_start:]
    parsed = ParsedCommand(spec)
    if not spec.options:
        if rest.strip():
            raise CommandError(f"/{spec.qualified_name} takes no options.")
        return parsed
    names = "|".join(re.escape(o.name) for o in spec.options)
    markers = list(re.finditer(rf"(?<!\S)({names}):", rest))
    segments: list[tuple[str, int, int]] = []  # (option, value start, value end) in rest
    first_end = markers[0].start() if markers else len(rest)
    if rest[:first_end].strip():
        segments.append((spec.options[0].name, 0, first_end))
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(rest)
        segments.append((marker.group(1), marker.end(), end))
    for name, begin, end in segments:
        if name in parsed.raw:
            raise CommandError(f"The option {name} is given twice.")
        value = rest[begin:end]
        stripped_begin = begin + len(value) - len(value.lstrip())
        parsed.raw[name] = value.strip()
        parsed.spans[name] = (rest_start + stripped_begin,
                              rest_start + stripped_begin + len(value.strip()))
    if segments:
        parsed.focused = segments[-1][0]
    elif rest[:1].isspace():
        # "/define " - the cursor has left the command name and sits in the first option.
        parsed.focused = spec.options[0].name
        parsed.raw[parsed.focused] = ""
        parsed.spans[parsed.focused] = (len(text), len(text))
    return parsed


def _match_command(
    words: list[tuple[str, int, int]], commands: Sequence[CommandSpec]
) -> tuple[CommandSpec | None, int]:
    """The command whose full path matches the most leading words (case-insensitive)."""
    typed = [w[0].lower() for w in words]
    best: tuple[CommandSpec | None, int] = (None, 0)
    for spec in commands:
        n = len(spec.path)
        if typed[:n] == list(spec.path) and n > best[1]:
            best = (spec, n)
    if best[0] is None and typed:
        groups = [c for c in commands if c.name == typed[0] and c.subpath]
        if groups:
            subs = ", ".join(f"/{c.qualified_name}" for c in groups)
            raise CommandError(f"/{typed[0]} needs a subcommand: {subs}.")
    return best


Resolver = Callable[[int, str], Any]


def convert(
    parsed: ParsedCommand, resolve: Resolver, *, require_all: bool = True
) -> dict[str, Any]:
    """Typed option values, checked as Discord's client checks them before sending.

    ``resolve(option_type, text)`` turns a user, channel or role name into the object the
    fake Discord puts in ``resolved``; it raises :class:`CommandError` when nothing matches.
    """
    spec = parsed.spec
    values: dict[str, Any] = {}
    for option in spec.options:
        raw = parsed.raw.get(option.name, "")
        if not raw:
            if option.required and require_all:
                hint = f" ({option.description})" if option.description else ""
                raise CommandError(
                    f"/{spec.qualified_name} needs a value for {option.name}{hint}."
                )
            continue
        values[option.name] = convert_value(option, raw, resolve)
    return values


def convert_value(option: OptionSpec, raw: str, resolve: Resolver) -> Any:
    """One option's value from its text."""
    if option.choices:
        for name, value in option.choices:
            if raw.lower() in (name.lower(), str(value).lower()):
                return value
        names = ", ".join(name for name, _ in option.choices)
        raise CommandError(f"{option.name} must be one of: {names}.")
    if option.type == STRING:
        if option.min_length is not None and len(raw) < option.min_length:
            raise CommandError(f"{option.name} must be at least {option.min_length} long.")
        if option.max_length is not None and len(raw) > option.max_length:
            raise CommandError(
                f"{option.name} must be {option.max_length} or fewer in length "
                f"(it is {len(raw)})."
            )
        return raw
    if option.type == BOOLEAN:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise CommandError(f"{option.name} must be true or false.")
    if option.type in (INTEGER, NUMBER):
        try:
            number: float = int(raw) if option.type == INTEGER else float(raw)
        except ValueError:
            kind = "a whole number" if option.type == INTEGER else "a number"
            raise CommandError(f"{option.name} must be {kind}.") from None
        if option.min_value is not None and number < option.min_value:
            raise CommandError(f"{option.name} must be at least {option.min_value}.")
        if option.max_value is not None and number > option.max_value:
            raise CommandError(f"{option.name} must be at most {option.max_value}.")
        return number
    return resolve(option.type, raw)
