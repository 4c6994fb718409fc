"""Logging set-up: readable lines for people, one JSON object a line for machines.

``log_format = "text"`` (the default) colours a line only when the stream is a terminal,
so journald and ``docker logs`` get no escape codes; ``"json"`` is for log collectors.
Either way the token never reaches the output: it is replaced in the finished line,
which covers messages, arguments, tracebacks and extra fields alike.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import discord
from pythonjsonlogger.json import JsonFormatter

HIDDEN = "[token hidden]"
_TEXT_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def secrets_of(token: str) -> tuple[str, ...]:
    """The token, and its secret third part on its own (a token split across a line,
    or quoted without its id, must not slip through); longest first."""
    token = token.strip()
    if not token:
        return ()
    parts = [token]
    pieces = token.split(".")
    if len(pieces) == 3 and len(pieces[2]) >= 8:
        parts.append(pieces[2])
    return tuple(parts)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text


class TokenRedactor(logging.Filter):
    """Hides the token in a record's message, for handlers this module did not set up
    (the formatter below also hides it in tracebacks and JSON fields)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secrets = secrets_of(token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redact(message, self.secrets)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps another formatter and scrubs the token from every line it produces."""

    def __init__(self, inner: logging.Formatter, token: str) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = secrets_of(token)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def json_formatter() -> logging.Formatter:
    """One object a line: time, level, logger, message, and any ``extra=`` fields;
    a traceback goes into ``exc_info`` of the same object, not onto lines of its own."""
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}", style="{", datefmt="%Y-%m-%dT%H:%M:%S%z",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def text_formatter(stream: TextIO) -> logging.Formatter:
    if getattr(stream, "isatty", lambda: False)():
        # discord.py's own colours, as a developer running it in a terminal knows them.
        return discord.utils._ColourFormatter()  # type: ignore[attr-defined]
    return logging.Formatter(_TEXT_FORMAT, _DATE_FORMAT, style="{")


def setup_logging(level: str, log_format: str, token: str,
                  stream: TextIO | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one that writes ``log_format`` lines to
    ``stream`` (default: stderr) at ``level``; returns the handler."""
    stream = stream or sys.stderr
    inner = json_formatter() if log_format == "json" else text_formatter(stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(inner, token))
    handler.addFilter(TokenRedactor(token))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.getLevelName(level.upper()))
    return handler
