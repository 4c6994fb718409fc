"""Fixtures shared by every test: term files written on the fly, real SQLite stores, and
the real GlossaryBot started against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.client import GlossaryBot
from bot.config import Config
from bot.content import dump_term
from bot.errors import InvalidContent
from bot.models import Problem, Term
from bot.store import Store
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness, running_bot
from tests.support.postgres import backend, own_postgres, pg_url  # noqa: F401  (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]
# The bot's clock in tests: early morning, so no scheduled post fires unless a test asks.
FIXED_NOW = datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.UTC)
BUNDLED_TERMS = REPO_ROOT / "data" / "terms"
BUNDLED_COUNT = len(list(BUNDLED_TERMS.glob("*.yaml")))  # the shipped glossary, 100+ terms
SHARED = REPO_ROOT.parent / "shared"

TermWriter = Callable[..., Path]


def make_term(slug: str, **fields: object) -> Term:
    """A complete, valid term; tests override only what they are about."""
    values: dict[str, object] = {
        "title": slug.replace("-", " ").title(),
        "definition": f"{slug} is a thing students meet in the course.",
        "why_it_matters": f"Knowing {slug} helps you build apps.",
        "course_example": f"In the course, {slug} appears in the quiz lesson.",
        "real_world_example": f"Shops use {slug} every day.",
        "common_mistakes": (f"Confusing {slug} with something else.",),
    }
    values.update(fields)
    return Term(slug=slug, **values)  # type: ignore[arg-type]


def pytest_report_header() -> str:
    """Say at the top of every run whether request bodies are checked against Discord's
    OpenAPI description, so a skipped check is never silent."""
    from tests.support.fake_discord import get_schema_validator

    reason = get_schema_validator().skipped_reason
    if reason:
        return f"Discord request schema validation: SKIPPED ({reason})"
    return "Discord request schema validation: on (../shared/discord-api/openapi.json)"


@dataclass(frozen=True)
class Validation:
    """What a reload of a directory into a fresh database says: the loaded terms (none
    when refused) and every problem, as ``glossary-bot check`` reports them."""

    terms: tuple[Term, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_warning)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_warning)


async def validate(directory: Path) -> Validation:
    with tempfile.TemporaryDirectory(prefix="glossary-test-") as scratch:
        async with await Store.open(Path(scratch) / "check.sqlite3") as scratch_store:
            try:
                diff = await scratch_store.reloads.reload(directory)
            except InvalidContent as exc:
                return Validation((), exc.problems)
            return Validation(tuple(await scratch_store.glossary.all_terms()), diff.warnings)


@pytest.fixture
def terms_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "terms"
    directory.mkdir()
    return directory


@pytest.fixture
def write_term(terms_dir: Path) -> TermWriter:
    """Write a valid term file (or raw text) into the temporary content directory."""

    def write(slug: str, text: str | None = None, **fields: object) -> Path:
        path = terms_dir / f"{slug}.yaml"
        path.write_text(text if text is not None else dump_term(make_term(slug, **fields)),
                        encoding="utf-8")
        return path

    return write


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "state" / "glossary.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def bundled_store(store: Store) -> Store:
    """A store loaded with the glossary the project ships."""
    await store.reloads.reload(BUNDLED_TERMS)
    return store


@pytest.fixture
async def shared_store(tmp_path: Path, backend: str | None  # noqa: F811 (the fixture)
                       ) -> AsyncIterator[Store]:
    """A store whose shared state (records, study, history, suggestions, meta) is in SQLite
    or in PostgreSQL: the contract tests that take it run on both backends."""
    opened = await Store.open(tmp_path / "state" / "glossary.sqlite3", database_url=backend,
                              pool_size=4)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def bundled_shared_store(shared_store: Store) -> Store:
    """``shared_store`` loaded with the glossary the project ships."""
    await shared_store.reloads.reload(BUNDLED_TERMS)
    return shared_store


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
    @contextlib.asynccontextmanager
    async def start(
        fake: FakeDiscord | None = None,
        *,
        clock: Callable[[], datetime.datetime] = lambda: FIXED_NOW,
        **overrides: object,
    ) -> AsyncIterator[BotHarness]:
        bot_config = replace(config, **overrides)
        async with await Store.open(bot_config.database) as store:
            bot = GlossaryBot(bot_config, store, clock=clock, guild_ready_timeout=0.1)
            async with running_bot(bot, fake) as harness:
                yield harness

    return start
