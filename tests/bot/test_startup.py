"""Start-up failures a teacher can act on: a rejected token and an unreachable Discord are
told apart, each in one line, with different exit statuses (2: fix the config, 3: retry)."""

from __future__ import annotations

import socket

from bot.client import EXIT_CONFIG, EXIT_UNAVAILABLE
from tests.bot._run import run_to_end, write_config
from tests.support.fake_discord import FakeDiscord

# Fake tokens, joined here so that no token-shaped literal sits in the source.
GOOD_TOKEN = ".".join(("MTAxMDEwMTAxMDEwMTAxMDEw", "GabcDE",
                      "the-right-token-for-tests-only-xxxxxxx"))
BAD_TOKEN = ".".join(("MTAxMDEwMTAxMDEwMTAxMDEw", "GabcDE",
                     "an-old-reset-token-for-tests-xxxxxxxx"))


def problem_lines(output: str) -> list[str]:
    """Lines that are not routine INFO/WARNING start-up chatter."""
    return [line for line in output.splitlines()
            if line.strip() and "INFO" not in line and "WARNING" not in line]


async def test_a_rejected_token_is_one_clear_line_and_exit_2(tmp_path, content_dir):
    async with FakeDiscord(expected_token=GOOD_TOKEN) as fake:
        config = write_config(tmp_path, content_dir, api_url=fake.api_base_url,
                              gateway_url=fake.gateway_url)
        result = await run_to_end("--config", str(config), token=BAD_TOKEN)
        assert ("GET", "/users/@me") in [(r.method, r.path) for r in fake.requests]
        assert fake.identify_count == 0  # refused at login, never reached the gateway
    assert result.returncode == EXIT_CONFIG, result.output
    problems = problem_lines(result.output)
    assert len(problems) == 1, result.output
    assert "Discord rejected the token" in problems[0]
    assert "Reset Token" in problems[0] and "DISCORD_TOKEN" in problems[0]
    assert "Traceback" not in result.output
    assert BAD_TOKEN not in result.output and BAD_TOKEN.split(".")[2] not in result.output


async def test_an_unreachable_discord_is_exit_3_with_its_own_message(tmp_path, content_dir):
    with socket.socket() as closed:  # a port that nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = write_config(tmp_path, content_dir, api_url=f"http://127.0.0.1:{port}/api/v10",
                          gateway_url=f"ws://127.0.0.1:{port}/")
    result = await run_to_end("--config", str(config), token=GOOD_TOKEN)
    assert result.returncode == EXIT_UNAVAILABLE, result.output
    problems = problem_lines(result.output)
    assert len(problems) == 1, result.output
    assert "Cannot reach Discord at 127.0.0.1" in problems[0]
    assert "network" in problems[0] and "rejected" not in problems[0]
    assert "Traceback" not in result.output


async def test_a_missing_token_is_exit_2_before_anything_connects(tmp_path, content_dir):
    async with FakeDiscord() as fake:
        config = write_config(tmp_path, content_dir, api_url=fake.api_base_url,
                              gateway_url=fake.gateway_url)
        result = await run_to_end("--config", str(config), token=None)
        assert not fake.requests
    assert result.returncode == EXIT_CONFIG
    assert "No Discord bot token found" in result.output
