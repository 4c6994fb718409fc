"""``python -m bot`` with ``database = "postgresql://..."``: the real start-up path builds
its store from the config (shared state in PostgreSQL, ``local_index`` as its own file),
serves, and on SIGTERM writes its usage counts and closes the pool; an unreachable server
at start-up is one clear line and exit code 3."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.client import EXIT_UNAVAILABLE
from bot.storage.postgres import PgDatabase
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_python_m_bot_keeps_its_shared_state_in_postgresql(tmp_path, content_dir, pg_url):
    local = tmp_path / "index" / "local.sqlite3"
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir, database=pg_url,
                               extra_config=f'local_index = "{local}"\n') as bot:
            for _ in range(3):  # buffered; written on stop at the latest
                assert (await fake.slash("define", term="git")).embeds[0]["title"] == "Git"
            quiz = await fake.slash("quiz", "ask")
            await quiz.wait_followup()
        assert bot.returncode == 0, bot.output[-3000:]
    assert "Traceback" not in bot.output
    assert local.is_file() and not (tmp_path / "proc.sqlite3").exists()
    assert urlsplit(pg_url).password not in bot.output  # the URL's password is never logged
    shared = await PgDatabase.open(pg_url, max_size=1)
    try:
        assert [tuple(r) for r in await shared.fetch(
            "SELECT slug, count FROM lookups")] == [("git", 3)]
        assert (await shared.fetch("SELECT count(*) FROM quizzes"))[0][0] == 1
        assert (await shared.fetch("SELECT count(*) FROM meta WHERE key LIKE 'commands:%'")
                )[0][0] >= 1  # the command-sync hash, for the other processes
    finally:
        await shared.close()


async def test_an_unreachable_postgresql_at_start_up_is_one_clear_line(tmp_path, content_dir):
    config = tmp_path / "config.toml"
    config.write_text(f'content_dir = "{content_dir}"\n'
                      'database = "postgresql://glossary:secret-pw@127.0.0.1:1/glossary"\n'
                      f'local_index = "{tmp_path / "local.sqlite3"}"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), cwd=REPO_ROOT,
        env={"DISCORD_TOKEN": "fake-token", "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode(errors="replace")
    assert process.returncode == EXIT_UNAVAILABLE, text
    assert "Cannot reach the shared database" in text and "127.0.0.1:1" in text
    assert "secret-pw" not in text and "Traceback" not in text
