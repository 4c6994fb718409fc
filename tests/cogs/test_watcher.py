"""auto_reload: saving a term file reloads the glossary and tells the moderators."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable

import discord
import pytest

from bot import reloads
from bot.content import dump_term
from bot.reloads import ContentWatcher
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

    caplog.set_level(logging.INFO, logger="bot.reloads")
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


class ReportSpy:
    """Records every report ``bot.reloads.reload_and_report`` builds: a reload reported
    anywhere else would be missing from it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made: list[dict] = []
        for name in ("reload_embed", "reload_failed_embed"):
            monkeypatch.setattr(reloads, name, self._recording(getattr(reloads, name)))

    def _recording(self, build: Callable[..., discord.Embed]) -> Callable[..., discord.Embed]:
        def recorded(*args: object) -> discord.Embed:
            embed = build(*args)
            self.made.append(copy.deepcopy(embed.to_dict()))
            return embed

        return recorded


async def test_reload_command_and_auto_reload_share_one_report(start_bot, content_dir,
                                                               monkeypatch):
    spy = ReportSpy(monkeypatch)
    async with start_bot(auto_reload=True) as h:
        setup = await h.slash("glossary", "settings", member=h.moderator,
                              moderators_channel=h.channel)
        await setup.wait_followup()
        await asyncio.sleep(0.3)  # let the watcher start watching
        (content_dir / "docker.yaml").write_text("title: Docker\ndefinition: [half-saved")
        automatic = await wait_for_report(h, 1)
        reply = await h.slash("glossary", "reload", member=h.moderator)
        await reply.wait_followup()
    (by_command,) = reply.embeds
    assert by_command["title"] == "Reload refused"
    del automatic["author"]  # the one difference: it says why nobody asked for it
    assert automatic == by_command
    assert spy.made == [by_command, by_command]


async def test_the_sandbox_reports_saves_through_the_same_report(config, monkeypatch):
    from bot.sandbox import Sandbox

    spy = ReportSpy(monkeypatch)
    git = config.content_dir / "git.yaml"
    original = git.read_text(encoding="utf-8")
    async with Sandbox(config, port=0, watch=True, watch_interval=0.05) as sandbox:
        def watch_notes() -> list[dict]:
            return [n["embeds"][0] for n in sandbox.notes.values()
                    if n["content"].startswith("Saved changes")]

        git.write_text(original.replace("title: Git", "title: Git (SCM)"), encoding="utf-8")
        await wait_until(lambda: len(watch_notes()) == 1)
        git.write_text("title: [\n", encoding="utf-8")
        await wait_until(lambda: len(watch_notes()) == 2)
        notes = watch_notes()
    assert [n["title"] for n in notes] == ["Glossary reloaded", "Reload refused"]
    welcome, *after_saves = spy.made  # the first: the sandbox's check of the files at start
    assert welcome["description"].startswith("Nothing changed")
    assert after_saves == notes


async def test_the_sandbox_reports_broken_files_at_start_the_same_way(config, monkeypatch):
    from bot.sandbox import Sandbox

    spy = ReportSpy(monkeypatch)
    (config.content_dir / "git.yaml").write_text("title: [\n", encoding="utf-8")
    async with Sandbox(config, port=0) as sandbox:
        notes = [n["embeds"][0] for n in sandbox.notes.values()
                 if n["content"] == "The term files have errors:"]
    assert [n["title"] for n in notes] == ["Reload refused"]
    assert spy.made == notes


async def test_the_watcher_reloads_for_term_files_only(tmp_path):
    """An editor's swap file or a README beside the terms is not worth a reload."""
    calls: list[float] = []

    async def changed() -> None:
        calls.append(asyncio.get_running_loop().time())

    watched = ContentWatcher(tmp_path, changed, debounce=0.05)
    await watched.start()
    try:
        (tmp_path / ".git.yaml.swp").write_text("x")
        (tmp_path / "README.md").write_text("x")
        await asyncio.sleep(0.5)
        assert calls == []
        (tmp_path / "git.yml").write_text(dump_term(make_term("git")))
        await wait_until(lambda: len(calls) == 1)
    finally:
        await watched.stop()


async def wait_until(check: Callable[[], object], seconds: float = WAIT_SECONDS) -> None:
    for _ in range(int(seconds * 20)):  # bounded
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {seconds}s")


async def test_auto_reload_and_start_up_are_named_in_the_history(start_bot, content_dir):
    from bot.storage.history import AUTO_RELOAD, START_UP

    git = content_dir / "git.yaml"
    async with start_bot(auto_reload=True) as h:
        setup = await h.slash("glossary", "settings", member=h.moderator,
                              moderators_channel=h.channel)
        await setup.wait_followup()
        await asyncio.sleep(0.3)  # let the watcher start watching
        git.write_text(git.read_text().replace("Git is", "Git, saved once, is"))
        await wait_for_report(h, 1)
        [saved] = await h.bot.store.history.recent("git")
        assert (saved.source, saved.actor_name, saved.actor_id) == ("reload", AUTO_RELOAD,
                                                                    None)
    git.write_text(git.read_text().replace("saved once", "saved while stopped"))
    async with start_bot() as h:
        stopped, auto = await h.bot.store.history.recent("git")
        assert stopped.actor_name == START_UP and auto.id == saved.id
        assert stopped.before == saved.after and "saved while stopped" in (
            stopped.after.definition)
