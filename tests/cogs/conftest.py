"""The real GlossaryBot, with a temporary copy of the bundled glossary and a real SQLite
file, running against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path

import pytest

from bot.client import GlossaryBot
from bot.config import Config
from bot.store import Store
from tests.conftest import BUNDLED_TERMS
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness, running_bot


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A copy of the bundled glossary that a test may edit, as a moderator would."""
    return Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))


@pytest.fixture
def config(tmp_path: Path, content_dir: Path) -> Config:
    return Config(
        token="fake-token", content_dir=content_dir, database=tmp_path / "bot.sqlite3",
        course_name="VCA", cooldown_uses=100, cooldown_seconds=60.0,
    )


StartBot = Callable[..., AbstractAsyncContextManager[BotHarness]]


@pytest.fixture
def start_bot(config: Config) -> StartBot:
    """Start a GlossaryBot on its own Store; call again to simulate a restart."""
    import contextlib

    @contextlib.asynccontextmanager
    async def start(
        fake: FakeDiscord | None = None, **overrides: object
    ) -> AsyncIterator[BotHarness]:
        bot_config = replace(config, **overrides)
        async with await Store.open(bot_config.database) as store:
            bot = GlossaryBot(bot_config, store)
            async with running_bot(bot, fake) as harness:
                yield harness

    return start


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
