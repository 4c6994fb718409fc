"""A server's own glossary, made by its moderators with ``/glossary create``.

When the operator allows it (``allow_server_glossaries = true``), a server's moderators
may start a database-only glossary for their server, empty or as a copy of the one they
use; they become its editors (its owner server is theirs) and the server uses it from
then on. Such glossaries are kept in the database (migration 8), not in the config, and
join the configured ones when the bot starts (``with_server_glossaries``) or, with
PostgreSQL, when another process makes one; the operator lists, exports and removes them
with ``glossary-bot glossaries``. No Discord here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.glossaries import GlossaryMap, GlossarySpec

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class ServerGlossary:
    """One server's own glossary, as the database keeps it."""

    glossary_id: int
    name: str
    guild_id: int
    course_name: str
    created_by: int
    created_by_name: str
    copied_from: str | None
    created_at: float
    terms: int = 0

    @property
    def spec(self) -> GlossarySpec:
        """Database-only, used by its server, whose moderators are its editors."""
        return GlossarySpec(self.name, self.course_name, None, servers=(self.guild_id,),
                            owners=(self.guild_id,))


def with_server_glossaries(configured: GlossaryMap, made: Iterable[ServerGlossary]
                           ) -> GlossaryMap:
    """The configured glossaries and the servers' own; a server's own glossary wins over
    one the config names for that server (it was made later, on purpose). A name the
    config took meanwhile keeps the config's glossary."""
    extra = tuple(g.spec for g in made if configured.named(g.name) is None)
    if not extra:
        return configured
    return GlossaryMap(configured.specs + extra, configured.default_name)


def without_glossaries(served: GlossaryMap, names: Iterable[str]) -> GlossaryMap:
    """The map without these (removed) glossaries: their servers fall back to what the
    config gives them. The default is never among them."""
    gone = set(names) - {served.default_name}
    return GlossaryMap(tuple(s for s in served.specs if s.name not in gone),
                       served.default_name)


def name_problem(name: str) -> str | None:
    """Why a name cannot be a glossary's (None: it can)."""
    if not NAME_PATTERN.fullmatch(name):
        return ("A glossary name is 1-32 letters, digits, - or _, starting with a letter or "
                "digit (for example `web-2026`).")
    return None
