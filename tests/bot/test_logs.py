"""Log lines: JSON for machines, plain text off a terminal, and never the token."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.logs import HIDDEN, setup_logging
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process

# A fake token, joined here so that no token-shaped literal sits in the source.
TOKEN = ".".join(("MTAxMDEwMTAxMDEwMTAxMDEw", "GabcDE",
                 "log-test-secret-part-xxxxxxxxxxxxxxxx"))
SECRET = TOKEN.split(".")[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_logger():
    """setup_logging replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)


def log_everything(logger: logging.Logger) -> None:
    logger.info("logging in with %s", f"Bot {TOKEN}")
    logger.warning("secret part alone: %s", SECRET, extra={"header": f"Bot {TOKEN}"})
    try:
        raise RuntimeError(f"request failed for token {TOKEN}")
    except RuntimeError:
        logger.exception("it broke")


def test_json_is_one_object_a_line_with_the_token_hidden(root_logger):
    stream = io.StringIO()
    setup_logging("DEBUG", "json", TOKEN, stream)
    log_everything(logging.getLogger("discord.http"))
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3  # the traceback stays inside its record
    assert [r["level"] for r in records] == ["INFO", "WARNING", "ERROR"]
    assert {r["logger"] for r in records} == {"discord.http"}
    assert records[0]["message"] == f"logging in with Bot {HIDDEN}"
    assert records[1]["header"] == f"Bot {HIDDEN}"  # extra fields are fields
    assert "RuntimeError" in records[2]["exc_info"]
    assert all("time" in r for r in records)
    assert TOKEN not in stream.getvalue() and SECRET not in stream.getvalue()


def test_text_has_no_colour_off_a_terminal_and_hides_the_token(root_logger):
    stream = io.StringIO()
    setup_logging("INFO", "text", TOKEN, stream)
    log_everything(logging.getLogger("bot.client"))
    text = stream.getvalue()
    assert "\x1b[" not in text
    assert "[INFO    ] bot.client: logging in with Bot [token hidden]" in text
    assert "Traceback" in text and TOKEN not in text and SECRET not in text


def test_text_is_coloured_on_a_terminal(root_logger):
    stream = Terminal()
    setup_logging("INFO", "text", TOKEN, stream)
    logging.getLogger("bot.client").info("hello")
    assert "\x1b[" in stream.getvalue()


def test_debug_lines_are_dropped_at_info(root_logger):
    stream = io.StringIO()
    setup_logging("INFO", "json", TOKEN, stream)
    logging.getLogger("bot").debug("noise")
    assert stream.getvalue() == ""


def test_an_unknown_log_format_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('log_format = "xml"\n')
    with pytest.raises(ConfigError, match="log_format must be one of text, json"):
        load_config(path, environ={})


async def test_the_bot_process_writes_only_json_lines_without_the_token(tmp_path, content_dir):
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir, token=TOKEN,
                               extra_config='log_format = "json"\nlog_level = "DEBUG"\n') as bot:
            reply = await fake.slash("define", term="backend")
            assert reply.embeds[0]["title"] == "backend"
    assert bot.returncode == 0, bot.output[-3000:]
    records = [json.loads(line) for line in bot.output.splitlines()]
    assert any(r["message"].startswith("Glossary loaded") for r in records)
    assert any(r["logger"].startswith("discord.") and r["level"] == "DEBUG" for r in records)
    assert TOKEN not in bot.output and SECRET not in bot.output
