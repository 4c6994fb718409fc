"""The tests' fake Discord: the same code as :mod:`bot.sandbox.fake_discord`.

The fake was promoted into the package so ``glossary-bot sandbox`` can run the real bot
against it; this module keeps the tests' import path working, so the tests and the
sandbox can never drift apart. See :mod:`bot.sandbox.fake_discord` for the documentation.

Run standalone (prints the URLs, serves until interrupted)::

    python -m tests.support.fake_discord --port 0
"""

from __future__ import annotations

from typing import Any

from bot.sandbox import fake_discord as _impl
from bot.sandbox.fake_discord import (
    ADMINISTRATOR,
    API_PREFIX,
    DEFAULT_SPEC_PATH,
    DEFAULT_TIMEOUT,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    LOADING,
    LOOPBACK_HOST,
    MANAGE_GUILD,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    GatewaySession,
    InteractionReply,
    NetworkGuard,
    NetworkGuardError,
    RecordedRequest,
    SchemaValidator,
    get_schema_validator,
    iter_components,
)

__all__ = [
    "ADMINISTRATOR",
    "API_PREFIX",
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TIMEOUT",
    "EPHEMERAL",
    "EVERYONE_PERMISSIONS",
    "LOADING",
    "LOOPBACK_HOST",
    "MANAGE_GUILD",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "GatewaySession",
    "InteractionReply",
    "NetworkGuard",
    "NetworkGuardError",
    "RecordedRequest",
    "SchemaValidator",
    "get_schema_validator",
    "iter_components",
]


def __getattr__(name: str) -> Any:
    """Anything else (constants, helpers) comes from the package module, so a test that
    reached for a less public name before the move still finds it."""
    return getattr(_impl, name)


if __name__ == "__main__":
    _impl._main()
