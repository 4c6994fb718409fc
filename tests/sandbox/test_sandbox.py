"""The sandbox in-process: loopback only, the JSON API driving the real bot, --watch."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.config import Config
from bot.sandbox import Sandbox, sandbox_database

CARD_SECTIONS = ("Why it matters", "Example in VCA", "Another Real World Example",
                 "Common mistakes")


@pytest.fixture
async def sandbox(config: Config) -> AsyncIterator[Sandbox]:
    async with Sandbox(config, port=0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, sandbox: Sandbox, path: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with http.post(sandbox.url + path, json=body) as response:
        return response.status, await response.json()


async def eventually(check: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def test_listens_on_loopback_only(sandbox: Sandbox):
    addresses = sandbox.addresses
    assert len(addresses) == 2  # the page and the Discord stand-in
    assert {address[0] for address in addresses} == {"127.0.0.1"}
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/"
    assert sandbox.config is not None
    assert sandbox.config.discord_api_url.startswith("http://127.0.0.1:")


async def test_a_define_round_trip_through_the_real_bot(
    sandbox: Sandbox, http: aiohttp.ClientSession, config: Config
):
    status, suggestions = await post(http, sandbox, "api/autocomplete", {"text": "/define ba"})
    assert status == 200
    assert suggestions["option"] == "term"
    assert {"name": "backend", "value": "backend"} in suggestions["choices"]

    status, result = await post(http, sandbox, "api/command", {"text": "/define backend"})
    assert status == 200, result
    message = result["message"]
    (embed,) = message["embeds"]
    assert embed["title"] == "backend"
    assert embed["description"].startswith("The backend refers to")
    names = " ".join(field["name"] for field in embed["fields"])
    assert all(section in names for section in CARD_SECTIONS), names
    assert not message["ephemeral"]
    assert message["invoked_by"]["command"] == "/define"
    assert message["invoked_by"]["name"] == "Student"
    # It really came from the bot, through Discord's interaction callback.
    assert any(reply.callback_type == 4 for reply in sandbox.fake.interactions.values())

    buttons = [b for row in message["components"] for b in row["components"]]
    server = next(b for b in buttons if b["label"] == "Server")
    status, clicked = await post(http, sandbox, "api/click", {
        "message_id": message["id"], "custom_id": server["custom_id"]})
    assert status == 200, clicked
    assert clicked["message"]["ephemeral"]
    assert clicked["message"]["embeds"][0]["title"] == "Server"

    async with http.get(sandbox.url + "api/messages") as response:
        feed = await response.json()
    titles = [m["embeds"][0]["title"] for m in feed["messages"] if m["embeds"]]
    assert titles[-2:] == ["backend", "Server"]

    # The sandbox counts in its own database, never in the real bot's statistics.
    assert sandbox.database == sandbox_database(config)
    assert sandbox.database.name == "sandbox.sqlite3"
    assert sandbox.database.exists()
    assert not config.database.exists()


async def test_moderators_only_and_the_reload_diff(
    sandbox: Sandbox, http: aiohttp.ClientSession, config: Config
):
    _, refused = await post(http, sandbox, "api/command", {"text": "/glossary reload"})
    assert refused["message"]["embeds"][0]["title"] == "Moderators only"
    assert refused["message"]["ephemeral"]

    git = config.content_dir / "git.yaml"
    git.write_text(git.read_text(encoding="utf-8").replace("title: Git", "title: Git (SCM)"),
                   encoding="utf-8")
    status, result = await post(http, sandbox, "api/command",
                                {"text": "/glossary reload", "as": "moderator"})
    assert status == 200 and result["callback_type"] == 5  # "thinking", then the report
    message_id = int(result["message"]["id"])
    report = await eventually(
        lambda: not sandbox.page_message(sandbox.fake.messages[message_id])["loading"]
        and sandbox.page_message(sandbox.fake.messages[message_id]), "the reload report")
    embed = report["embeds"][0]
    assert embed["title"] == "Glossary reloaded"
    assert {"name": "Changed (1)", "value": "git", "inline": False} in embed["fields"]


async def test_what_discords_client_would_refuse_is_answered_by_the_page(
    sandbox: Sandbox, http: aiohttp.ClientSession
):
    status, result = await post(http, sandbox, "api/command", {"text": "/define"})
    assert status == 400
    assert "needs a value for term" in result["error"]
    status, result = await post(http, sandbox, "api/click",
                                {"message_id": "1", "custom_id": "gl:t:git"})
    assert status == 404


async def test_other_sites_cannot_drive_the_sandbox(
    sandbox: Sandbox, http: aiohttp.ClientSession
):
    async with http.get(sandbox.url, headers={"Host": "evil.example"}) as response:
        assert response.status == 403  # DNS rebinding
    async with http.post(sandbox.url + "api/command", json={"text": "/define git"},
                         headers={"Origin": "http://evil.example"}) as response:
        assert response.status == 403
    async with http.post(sandbox.url + "api/command", data="/define git") as response:
        assert response.status == 415  # a plain form post needs no CORS preflight
    async with http.get(sandbox.url) as response:
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<title>" in await response.text()


async def test_watch_reloads_saved_files_and_shows_errors(config: Config):
    git = config.content_dir / "git.yaml"
    original = git.read_text(encoding="utf-8")

    def notes_titled(title: str) -> list[dict[str, Any]]:
        return [n for n in sandbox.notes.values()
                if n["embeds"] and n["embeds"][0]["title"] == title]

    async with Sandbox(config, port=0, watch=True, watch_interval=0.05) as sandbox:
        git.write_text(original.replace("title: Git", "title: Git (SCM)"), encoding="utf-8")
        (reloaded,) = await eventually(lambda: notes_titled("Glossary reloaded"), "the diff")
        assert {"name": "Changed (1)", "value": "git", "inline": False} in (
            reloaded["embeds"][0]["fields"])

        git.write_text("title: [\n", encoding="utf-8")  # a broken save
        (refused,) = await eventually(lambda: notes_titled("Reload refused"), "the errors")
        assert re.search(r"git\.yaml:\d+: yaml:", refused["embeds"][0]["description"])
        result = await sandbox.run_command("/define git")  # still the last good content
        assert result["message"]["embeds"][0]["title"] == "Git (SCM)"

        git.write_text(original, encoding="utf-8")
        await eventually(lambda: len(notes_titled("Glossary reloaded")) == 2, "the fix")
    assert sandbox.store is None  # stopped and closed


async def test_a_taken_port_is_refused_before_anything_starts(config: Config):
    from bot.sandbox import PortInUse

    async with Sandbox(config, port=0) as first:
        second = Sandbox(config, port=first.port or 0)
        with pytest.raises(PortInUse, match=f"127.0.0.1:{first.port}.*--port"):
            await second.start()
        await second.stop()
        assert second.bot is None


async def test_a_student_can_look_words_up_every_few_seconds(config: Config):
    """The configured cooldown (5 lookups per 10 s) is all a student meets: /define every
    3 s for a minute is never refused, because ids carry the stand-in's clock (they used
    to advance 1 ms each, so after five lookups "Slow down" came for good)."""
    from dataclasses import replace

    async with Sandbox(replace(config, cooldown_uses=5, cooldown_seconds=10.0),
                       port=0) as sandbox:
        for _ in range(20):  # a minute, without waiting a minute
            result = await sandbox.run_command("/define backend")
            assert result["message"]["embeds"][0]["title"] != "Slow down a little"
            sandbox.fake.clock.advance(3)
        burst = [await sandbox.run_command("/define backend") for _ in range(6)]
        assert burst[-1]["message"]["embeds"][0]["title"] == "Slow down a little"
