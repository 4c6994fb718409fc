"""A running GlossaryBot for each command test (see ``start_bot`` in tests/conftest.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.conftest import StartBot
from tests.support.harness import BotHarness


@pytest.fixture
async def h(start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> AsyncIterator[BotHarness]:
    """A running bot; the test fails if the bot logged an unexpected error."""
    with caplog.at_level(logging.WARNING, logger="bot"):
        async with start_bot() as harness:
            yield harness
    unexpected = [r for r in caplog.records
                  if r.name.startswith(("bot", "cogs")) and r.levelno >= logging.ERROR]
    assert not unexpected, [r.getMessage() for r in unexpected]


async def reload_ok(harness: BotHarness) -> dict:
    """Run /glossary reload as a moderator and insist it succeeded; returns the embed."""
    reply = await harness.slash("glossary", "reload", member=harness.moderator)
    await reply.wait_followup()
    (embed,) = reply.embeds
    assert embed["title"] == "Glossary reloaded", embed
    return embed
