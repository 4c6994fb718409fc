"""Every domain error, in one place.

The core raises these; the command tree's ``on_error`` turns each into one friendly
message, so the wording users see is decided in a single spot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.models import Problem, Suggestion


class GlossaryError(Exception):
    """Base class: anything here is an expected outcome, not a bug."""


class TermNotFound(GlossaryError):
    def __init__(self, query: str, suggestions: Sequence[Suggestion] = ()) -> None:
        super().__init__(f"no term matches {query!r}")
        self.query = query
        self.suggestions = tuple(suggestions)


class InvalidContent(GlossaryError):
    """A reload found problems; the old glossary keeps serving."""

    def __init__(self, problems: Sequence[Problem], valid_terms: int = 0) -> None:
        errors = [p for p in problems if not p.is_warning]
        super().__init__(f"{len(errors)} problem(s) in the term files")
        self.problems = tuple(problems)
        self.valid_terms = valid_terms

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_warning)


class SharedStateUnavailable(GlossaryError):
    """PostgreSQL (the state several processes share) cannot be reached right now: what
    needed it is refused with "try again in a moment", nothing half written; lookups go
    on from the local index."""


class StalePublish(SharedStateUnavailable):
    """Another process published this glossary after the version this one's local index
    holds: nothing was written; the reloader catches up and tries again."""


class ConfigError(GlossaryError):
    """The configuration is missing or wrong; the message says how to fix it."""


class MissingToken(ConfigError):
    pass


class PageFormatError(GlossaryError):
    """A page export that cannot become a term; says where, so the author can fix it."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class QuizNotFound(GlossaryError):
    """A quiz button whose question is no longer in the database."""


class NotEnoughTerms(GlossaryError):
    """A quiz needs at least four terms to choose from."""


class ChannelNotUsable(GlossaryError):
    """The bot lacks a permission it needs to post in a channel a moderator chose."""


class UnknownGlossary(GlossaryError):
    """A glossary name the bot's config does not declare."""


class SuggestionsOff(GlossaryError):
    """A suggestion arrived for a server without a moderators' channel."""


class EditConflict(GlossaryError):
    """A term file changed, appeared or went away between opening it and saving it;
    ``changes`` are the editor's values, to hand back so nothing typed is lost."""

    def __init__(self, message: str, changes: Mapping[str, object]) -> None:
        super().__init__(message)
        self.changes = dict(changes)


class FilesElsewhere(GlossaryError):
    """With PostgreSQL, this host serves a file-backed glossary whose term files are on
    another host: it cannot reload them from here (issue 20). Edits need no refusal: they
    are published, and the host with the files writes them back (bot.publishing)."""

    def __init__(self) -> None:
        super().__init__(
            "This server is served by a copy of the bot on a host without the glossary's "
            "term files, so it cannot reload them from here. Run `/glossary reload` from a "
            "server that host serves; every server sees the change within seconds. "
            "(`/glossary edit`, `add` and `remove` work here: the host with the files "
            "writes the change to them.)")


class GlossaryGone(GlossaryError):
    """A button names a glossary this bot no longer serves (taken out of the config)."""


class GlossaryNotCreated(GlossaryError):
    """/glossary create refused; the message says why, and what to do. Each reason is a
    subclass, so the error handler titles it in words a moderator understands."""

    title = "Glossary not created"


class ServerGlossariesOff(GlossaryNotCreated):
    """The bot's operator has not allowed servers to make their own glossaries."""

    title = "Not allowed on this bot"


class GlossaryNameRefused(GlossaryNotCreated):
    """The name is not a glossary name (letters, digits, - or _)."""

    title = "Choose another name"


class GlossaryNameTaken(GlossaryNotCreated):
    """Another glossary (configured or a server's) has that name already."""

    title = "That name is taken"


class ServerHasGlossary(GlossaryNotCreated):
    """The server made its own glossary already: one per server."""

    title = "This server has its own glossary"


class GlossaryNotFound(GlossaryError):
    """The operator named a server glossary that does not exist."""


class CommitFailed(GlossaryError):
    """A saved edit could not be committed to git; the edit itself stays saved."""
