"""A running GlossaryBot for each command test (see ``start_bot`` in tests/conftest.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.export import term_file_text
from bot.glossaries import GlossarySpec
from bot.store import Store
from tests.conftest import StartBot, make_term
from tests.support.harness import BotHarness

ONLY_DATABASE = (GlossarySpec("default", "VCA", None),)


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


async def seed(database: Path, *terms) -> None:
    """Terms in a database-only glossary, the way the bot itself writes them."""
    async with await Store.open(database) as store:
        await store.use_glossaries(["default"])
        await store.reloads.apply({f"{t.slug}.yaml": term_file_text(t) for t in terms},
                                  {f"{t.slug}.yaml": None for t in terms})


@pytest.fixture
async def db_bot(start_bot, config, tmp_path):
    """A bot whose glossary lives in the database alone (git and branch): nothing may be
    written as files."""
    await seed(config.database, make_term("git", definition="Git tracks versions."),
               make_term("branch", definition="A branch is a line of work."))
    empty = tmp_path / "no-files"  # never created: nothing may be written as files
    async with start_bot(glossaries=ONLY_DATABASE, content_dir=empty) as h:
        yield h
    assert not empty.exists()
