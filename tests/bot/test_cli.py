"""The terminal commands content authors run, through the real entry points."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import BUNDLED_COUNT, BUNDLED_TERMS, REPO_ROOT, SHARED

SEED = SHARED / "seeds" / "000_014817aa4429421b.txt"


@pytest.fixture
def config_for(tmp_path: Path):
    """A config file pointing at a content directory, so runs never touch ./state."""

    def write(content_dir: Path) -> str:
        path = tmp_path / "config.toml"
        path.write_text(f'content_dir = "{content_dir}"\ndatabase = "{tmp_path / "db.sqlite3"}"\n'
                        'course_name = "VCA"\n')
        return str(path)

    return write


def test_check_passes_on_the_bundled_glossary(capsys):
    assert main(["check", str(BUNDLED_TERMS)]) == 0
    assert f"{BUNDLED_COUNT} valid term(s), 0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_check_lists_every_problem_with_file_and_line(write_term, terms_dir, capsys):
    write_term("good")
    write_term("bad", "title: 7\nwhy_it_matters: x\n")
    assert main(["check", str(terms_dir)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert any(line.endswith("bad.yaml:1: title: expected text, found a number")
               for line in lines)
    assert any("bad.yaml:1: definition: is missing (required)" in line for line in lines)
    assert "1 valid term(s), 2 error(s)" in out.err


def test_show_prints_every_section_of_the_seed_page(config_for, capsys):
    assert main(["--config", config_for(BUNDLED_TERMS), "show", "Back End"]) == 0
    out = capsys.readouterr().out
    for heading in ("Definition", "Why it matters", "Example in VCA",
                    "Another Real World Example", "Common mistakes", "Related terms"):
        assert f"\n{heading}\n" in out
    assert out.startswith("backend\n")
    assert "- API routes" in out


def test_show_unknown_term_suggests(config_for, capsys):
    assert main(["--config", config_for(BUNDLED_TERMS), "show", "prsima"]) == 1
    assert "Did you mean: Prisma" in capsys.readouterr().err


def test_show_with_broken_content_reports_errors(config_for, write_term, terms_dir, capsys):
    write_term("bad", "title: [\n")
    assert main(["--config", config_for(terms_dir), "show", "bad"]) == 1
    assert "bad.yaml:1: yaml:" in capsys.readouterr().err


def test_search_prints_ranked_results(config_for, capsys):
    assert main(["--config", config_for(BUNDLED_TERMS), "search", "schema changes"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("1. ")
    assert "Migrations (migrations)" in out
    assert "**" not in out and "\x02" not in out and "\x1b" not in out  # plain text in a pipe


@pytest.mark.skipif(not SEED.exists(), reason=f"seed page not found at {SEED}")
def test_import_writes_then_finds_nothing_to_change(tmp_path, capsys):
    out_dir = tmp_path / "terms"
    assert main(["import", str(SEED), "--out", str(out_dir), "--yes"]) == 0
    assert (out_dir / "backend.yaml").is_file()
    assert main(["import", str(SEED), "--out", str(out_dir), "--yes"]) == 0
    assert "0 added, 0 changed, 1 unchanged" in capsys.readouterr().out
    assert main(["check", str(out_dir)]) == 0


def run_module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN",
                                                                   "GLOSSARY_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO_ROOT, env={**clean_env, **(env or {})},
        capture_output=True, text=True, timeout=60,
    )


def test_running_without_a_token_explains_how_to_get_one(tmp_path):
    result = run_module("--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "config file not found" in result.stderr
    config = tmp_path / "config.toml"
    config.write_text('course_name = "VCA"\n')
    result = run_module("--config", str(config))
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "developers/applications" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_a_clean_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("cooldown_uses = [\n")
    result = run_module("--config", str(config))
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr and "Traceback" not in result.stderr
    config.write_text('colour = "red"\n')
    assert "unknown key(s): colour" in run_module("--config", str(config)).stderr


@pytest.mark.parametrize(
    ("config_text", "words", "status"),
    [
        ('database = "/proc/no-such-dir/x.sqlite3"\n', "Cannot open the database", 2),
        # A port nothing listens on: connecting fails at once, without any network.
        ('discord_api_url = "http://127.0.0.1:9/api/v10"\n'
         'discord_gateway_url = "ws://127.0.0.1:9/"\n', "Cannot reach Discord", 3),
    ],
)
def test_start_up_failures_are_one_clear_line(tmp_path, content_dir, config_text, words,
                                              status):
    base = f'content_dir = "{content_dir}"\n'
    if "database" not in config_text:
        base += f'database = "{tmp_path / "db.sqlite3"}"\n'
    config = tmp_path / "config.toml"
    config.write_text(base + config_text)
    result = run_module("--config", str(config), env={"DISCORD_TOKEN": "fake-token"})
    assert result.returncode == status, result.stderr[-2000:]
    assert words in result.stderr
    assert "Traceback" not in result.stderr and "fake-token" not in result.stderr


def test_a_database_newer_than_the_bot_is_a_clear_error(tmp_path, content_dir):
    database = tmp_path / "future.sqlite3"
    with sqlite3.connect(database) as raw:
        raw.execute("PRAGMA user_version = 999")
    config = tmp_path / "config.toml"
    config.write_text(f'content_dir = "{content_dir}"\ndatabase = "{database}"\n')
    result = run_module("--config", str(config), env={"DISCORD_TOKEN": "fake-token"})
    assert result.returncode == 2
    assert "newer than this bot" in result.stderr and "Traceback" not in result.stderr


def test_config_works_after_the_subcommand_too(config_for, capsys):
    path = config_for(BUNDLED_TERMS)
    assert main(["show", "--config", path, "Back End"]) == 0
    assert "Example in VCA" in capsys.readouterr().out
    assert main(["--config", path, "search", "--config", path, "schema changes"]) == 0


def test_every_command_and_option_explains_itself():
    from bot.cli import _parser

    parser = _parser()
    [commands] = [a for a in parser._actions if a.dest == "command"]
    assert set(commands.choices) >= {"run", "check", "import", "show", "search", "sandbox"}
    for name, sub in [("", parser), *commands.choices.items()]:
        text = sub.format_help()
        assert "`" not in text, name
        for action in sub._actions:
            assert action.help, f"{name} {action.dest} has no help text"


def test_import_preview_parses_only_files_saved_since_the_bots_last_load(
        config_for, content_dir, tmp_path, monkeypatch, capsys):
    import asyncio

    import bot.loading
    from bot.store import Store

    async def load() -> None:
        async with await Store.open(tmp_path / "db.sqlite3") as store:
            await store.reloads.reload(content_dir)

    asyncio.run(load())
    database = (tmp_path / "db.sqlite3").read_bytes()
    git = content_dir / "git.yaml"
    git.write_text(git.read_text().replace("title: Git", "title: Git VCS"))
    parsed: list[str] = []
    real = bot.loading.parse_in_chunks

    def counting(directory, files, shown=None):
        parsed.extend(name for name, _, _ in files)
        return real(directory, files, shown)

    monkeypatch.setattr(bot.loading, "parse_in_chunks", counting)
    sheet = tmp_path / "new.csv"
    sheet.write_text("title,definition,why_it_matters\nDocker,Docker runs containers.,"
                     "It runs the same everywhere.\nBranch,Changed by the sheet.,Yes.\n")
    config = config_for(content_dir)
    assert main(["import", str(sheet), "--config", config]) == 0
    out = capsys.readouterr().out
    assert "1 added, 1 changed" in out, out
    assert parsed == ["git.yaml"]  # every other file came from the bot's database
    assert (tmp_path / "db.sqlite3").read_bytes() == database  # read, never written
    parsed.clear()
    (tmp_path / "db.sqlite3").unlink()  # no database: every file is parsed, as before
    assert main(["import", str(sheet), "--config", config]) == 0
    assert "1 added, 1 changed" in capsys.readouterr().out
    assert len(parsed) == BUNDLED_COUNT
