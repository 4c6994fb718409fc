"""auto_reload: saving a term file reloads the glossary and tells the moderators."""

from __future__ import annotations

import asyncio
import logging

from bot.content import dump_term
from tests.conftest import make_term
from tests.support.harness import BotHarness

WAIT_SECONDS = 15


async def wait_for_report(h: BotHarness, count: int) -> dict:
    for _ in range(WAIT_SECONDS * 20):
        reports = [m for m in h.channel_messages()
                   if m["embeds"] and m["embeds"][0].get("author", {}).get("name", "").startswith(
                       "Automatic reload")]
        if len(reports) >= count:
            return reports[count - 1]["embeds"][0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no automatic reload report #{count} within {WAIT_SECONDS}s")


async def test_saved_file_is_reloaded_and_reported(start_bot, content_dir):
    async with start_bot(auto_reload=True) as h:
        setup = await h.slash("glossary", "settings", member=h.moderator,
                              moderators_channel=h.channel)
        await setup.wait_followup()
        await asyncio.sleep(0.3)  # let the watcher start watching
        (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
        report = await wait_for_report(h, 1)
        assert report["title"] == "Glossary reloaded"
        assert report["fields"][0] == {"name": "Added (1)", "value": "docker", "inline": False}
        assert (await h.slash("define", term="docker")).embeds[0]["title"] == "Docker"

        (content_dir / "docker.yaml").write_text("title: Docker\ndefinition: [half-saved")
        failed = await wait_for_report(h, 2)
        assert failed["title"] == "Reload refused"
        assert "docker.yaml:2: yaml:" in failed["description"]
        assert (await h.slash("define", term="docker")).embeds[0]["title"] == "Docker"


async def test_watching_recovers_when_the_directory_comes_back(start_bot, tmp_path, caplog):
    """A watcher that fails (here: the content directory does not exist yet) says so in
    the log and tries again, instead of ending silently."""

    def logged(text: str) -> int:
        return sum(text in r.getMessage() for r in caplog.records)

    async def wait_for_log(text: str, count: int, seconds: float) -> None:
        for _ in range(int(seconds * 20)):  # bounded
            if logged(text) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} logged {logged(text)} times, not {count}")

    caplog.set_level(logging.INFO, logger="cogs.watcher")
    missing = tmp_path / "not-yet"
    async with start_bot(auto_reload=True, content_dir=missing) as h:
        setup = await h.slash("glossary", "settings", member=h.moderator,
                              moderators_channel=h.channel)
        await setup.wait_followup()
        await wait_for_log("Cannot watch", 1, 5)
        missing.mkdir()
        await wait_for_log("for changes", 2, 10)  # watching again after the retry delay
        await asyncio.sleep(0.3)
        (missing / "docker.yaml").write_text(dump_term(make_term("docker")))
        report = await wait_for_report(h, 1)
        assert report["fields"][0]["value"] == "docker"
