"""Which glossary each server uses, and who may change a glossary: from the config alone.

A glossary has a name, a course name (the card's "Example in ..." heading) and a source:
a directory of term files, or the database alone (content made in Discord or imported).
Servers the config does not name use the default glossary, so a config written before
glossaries existed keeps meaning what it meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAME = "default"


@dataclass(frozen=True, slots=True)
class GlossarySpec:
    """One glossary as configured."""

    name: str
    course_name: str
    content_dir: Path | None  # None: the glossary lives in the database alone
    servers: tuple[int, ...] = ()  # servers that use it (the default: every other one too)
    owners: tuple[int, ...] | None = None  # servers whose moderators may reload it
    editors: tuple[int, ...] = ()  # users who may reload it wherever they are
    commit_edits: bool | None = None  # each edit a git commit; None: the config's default

    @property
    def owner_servers(self) -> tuple[int, ...] | None:
        """Servers whose moderators are its editors: ``owners`` if the config says,
        else the servers it names; None (every server using it) only for a default
        glossary that names neither, which is how a bot for one class was set up."""
        if self.owners is not None:
            return self.owners
        return self.servers or None


@dataclass(frozen=True)
class GlossaryMap:
    """The configured glossaries; ``default`` serves every server not named elsewhere."""

    specs: tuple[GlossarySpec, ...]
    default_name: str = DEFAULT_NAME

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {spec.name: spec for spec in self.specs})
        by_server = {server: spec for spec in self.specs for server in spec.servers}
        object.__setattr__(self, "_by_server", by_server)

    @property
    def default(self) -> GlossarySpec:
        return self._by_name[self.default_name]  # type: ignore[attr-defined]

    def named(self, name: str) -> GlossarySpec | None:
        return self._by_name.get(name)  # type: ignore[attr-defined]

    def for_server(self, guild_id: int | None) -> GlossarySpec:
        """The glossary a server uses (outside any server: the default)."""
        by_server: Mapping[int, GlossarySpec] = self._by_server  # type: ignore[attr-defined]
        return by_server.get(guild_id or 0, self.default)

    def servers_of(self, spec: GlossarySpec) -> tuple[int, ...]:
        return spec.servers

    def may_edit(self, spec: GlossarySpec, user_id: int, moderated_server: int | None) -> bool:
        """Whether a user may reload or edit ``spec``: a listed editor, or a moderator
        (``moderated_server``: the server they moderate, checked by the caller) of one of
        its owner servers."""
        if user_id in spec.editors:
            return True
        if moderated_server is None:
            return False
        owners = spec.owner_servers
        if owners is None:
            return self.for_server(moderated_server) is spec
        return moderated_server in owners

    def who_may_edit(self, spec: GlossarySpec, server_names: Mapping[int, str] | None = None
                     ) -> str:
        """Who may change ``spec``, in words for a moderator who may not."""
        names = server_names or {}
        parts = []
        owners = spec.owner_servers
        if owners:
            parts.append("the moderators of " + ", ".join(
                f"**{names[o]}**" if o in names else f"server {o}" for o in owners))
        if spec.editors:
            parts.append("<@" + ">, <@".join(str(e) for e in spec.editors) + ">")
        return " or ".join(parts) or "nobody in Discord (only the bot's host)"


def problems(specs: Iterable[GlossarySpec], default_name: str) -> list[str]:
    """What makes a set of glossaries unusable, said at start-up."""
    found: list[str] = []
    specs = list(specs)
    names = [spec.name for spec in specs]
    if default_name not in names:
        found.append(f"default_glossary {default_name!r} is not one of the glossaries")
    seen: dict[int, str] = {}
    for spec in specs:
        if not spec.name or len(spec.name) > 32 or not spec.name.replace("-", "").replace(
                "_", "").isalnum():
            found.append(f"glossary name {spec.name!r} must be 1-32 letters, digits, - or _")
        if not spec.course_name.strip():
            found.append(f"glossaries.{spec.name}.course_name must not be empty")
        for server in spec.servers:
            if server in seen:
                found.append(f"server {server} is listed by glossaries {seen[server]!r} and "
                             f"{spec.name!r}; a server uses one glossary")
            seen[server] = spec.name
    return found
