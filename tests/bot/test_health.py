"""Health endpoint, metrics and heartbeat file, read as a monitor would read them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
from dataclasses import replace

import aiohttp
import pytest

from bot import health
from bot.cli import main
from bot.client import GlossaryBot
from bot.metrics import NO_METRICS, Metrics
from bot.store import Store
from tests.conftest import BUNDLED_COUNT, FIXED_NOW
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import running_bot


@contextlib.asynccontextmanager
async def monitored(config):
    """The real bot against the fake, with health.serving as run_bot starts it."""
    async with await Store.open(config.database) as store:
        bot = GlossaryBot(config, store, clock=lambda: FIXED_NOW)
        # Heartbeats every 50 ms, so latency is measured within the test.
        fake = FakeDiscord(heartbeat_interval_ms=50)
        async with fake, running_bot(bot, fake) as h, health.serving(bot, config) as port:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                h.http = http
                yield h


async def get(h, path):
    async with h.http.get(path) as answer:
        return answer.status, await answer.text()


def sample(text: str, name: str, **labels: str) -> float:
    """One value from the Prometheus text exposition."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match[3])
    raise AssertionError(f"{name} {labels} not in /metrics")


@pytest.fixture
def monitored_config(config, tmp_path):
    return replace(config, health_port=0, heartbeat_file=tmp_path / "heartbeat.json")


async def test_healthz_is_200_with_every_check_passing(monitored_config):
    async with monitored(monitored_config) as h:
        status, body = await get(h, "/healthz")
    assert status == 200, body
    report = json.loads(body)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == ["gateway", "heartbeat", "database"]
    assert report["checks"][0]["detail"] == "1 of 1 shard(s) connected"


async def test_healthz_is_503_when_heartbeats_go_unacknowledged(monitored_config):
    async with monitored(monitored_config) as h:
        for shard in h.bot.shards.values():
            shard._parent.ws._keep_alive._last_ack -= 1000  # as if Discord went quiet
        status, body = await get(h, "/healthz")
    assert status == 503
    failing = [c for c in json.loads(body)["checks"] if not c["ok"]]
    assert [c["name"] for c in failing] == ["heartbeat"]
    assert "shard 0" in failing[0]["detail"]


def test_a_file_that_is_not_a_database_is_not_writable(tmp_path):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not SQLite" * 100)
    check = health.database_writable(broken)
    assert not check.ok and "not a database" in check.detail
    assert health.database_writable(tmp_path / "fresh.sqlite3").ok


async def test_metrics_count_commands_by_outcome_and_time_autocomplete(monitored_config):
    async with monitored(monitored_config) as h:
        assert h.bot.metrics is not NO_METRICS
        await h.slash("define", term="git")
        await h.slash("define", term="git")
        await h.slash("define", term="no-such-term-at-all")
        await h.autocomplete("define", focused="term", term="gi")
        reload = await h.slash("glossary", "reload", member=h.moderator)
        await reload.wait_followup()
        status, text = await get(h, "/metrics")
    assert status == 200
    assert sample(text, "glossary_interactions_total", command="define", outcome="ok") == 2
    assert sample(text, "glossary_interactions_total", command="define",
                  outcome="not_found") == 1
    assert sample(text, "glossary_interactions_total", command="glossary reload",
                  outcome="ok") == 1
    assert sample(text, "glossary_interaction_seconds_count", command="define") == 3
    assert sample(text, "glossary_autocomplete_seconds_count", command="define") == 1
    assert sample(text, "glossary_reloads_total", result="ok") == 1
    assert sample(text, "glossary_reload_seconds_count") == 1
    assert sample(text, "glossary_terms") == BUNDLED_COUNT
    assert sample(text, "glossary_gateway_connected", shard="0") == 1
    assert 0 <= sample(text, "glossary_gateway_latency_seconds", shard="0") < 1


async def test_an_error_log_is_counted(monitored_config):
    async with monitored(monitored_config) as h:
        logging.getLogger("cogs.daily").error("could not post the term of the day")
        _, text = await get(h, "/metrics")
    assert sample(text, "glossary_errors_total", logger="cogs.daily") == 1


async def test_the_heartbeat_file_is_written_while_healthy(monitored_config):
    path = monitored_config.heartbeat_file
    async with monitored(monitored_config):
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        beat = json.loads(path.read_text())
    assert beat["ok"] is True and time.time() - beat["time"] < 10


def write_config(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def test_health_command_reads_the_heartbeat_file_age(tmp_path, capsys):
    beat = tmp_path / "beat.json"
    config = write_config(tmp_path, f'heartbeat_file = "{beat}"\nhealth_max_heartbeat_age = 60\n')
    assert main(["--config", config, "health"]) == 1  # never written
    beat.write_text("{}")
    assert main(["--config", config, "health"]) == 0
    old = time.time() - 120
    os.utime(beat, (old, old))
    assert main(["--config", config, "health"]) == 1
    assert "written 120 s ago (limit 60 s)" in capsys.readouterr().err


def test_health_command_says_when_checks_are_off(tmp_path, capsys):
    assert main(["--config", write_config(tmp_path, ""), "health"]) == 1
    assert "health checks are off" in capsys.readouterr().err


async def test_health_command_asks_the_endpoint(monitored_config, tmp_path):
    async with monitored(monitored_config) as h:
        port = h.http._base_url.port
        config = write_config(tmp_path, f"health_port = {port}\n")
        code = await asyncio.to_thread(main, ["--config", config, "health"])
    assert code == 0
    gone = await asyncio.to_thread(main, ["--config", config, "health"])
    assert gone == 1  # nothing listens any more


def test_metrics_registries_are_per_bot():
    first, second = Metrics(), Metrics()
    first.interactions.labels("define", "ok").inc()
    assert second.interactions.labels("define", "ok")._value.get() == 0


async def test_the_bot_process_serves_healthz_and_metrics(tmp_path, content_dir):
    import socket

    from tests.support.harness import bot_process

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    async with FakeDiscord() as fake:
        async with bot_process(fake, tmp_path, content_dir,
                               extra_config=f"health_port = {port}\n") as bot:
            await fake.slash("define", term="backend")
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                deadline = time.monotonic() + 10
                while True:  # 503 until discord.py's READY (after the guilds arrive)
                    async with http.get("/healthz") as answer:
                        status, body = answer.status, await answer.text()
                    if status == 200 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.1)
                assert status == 200, body
                async with http.get("/metrics") as answer:
                    text = await answer.text()
    assert bot.returncode == 0, bot.output[-3000:]
    assert sample(text, "glossary_interactions_total", command="define", outcome="ok") == 1
    assert sample(text, "glossary_reloads_total", result="ok") == 1  # the start-up load
    assert sample(text, "glossary_terms") == BUNDLED_COUNT


async def test_metrics_report_every_glossary_not_only_the_default(store, write_term,
                                                                  terms_dir, tmp_path):
    """Terms, last reload, content version and reload outcomes, labelled by glossary; a
    glossary registered after the metrics began is timed from the next scrape on."""
    from types import SimpleNamespace

    from bot.errors import InvalidContent

    write_term("widget")
    write_term("gizmo")
    other = tmp_path / "other"
    other.mkdir()
    (other / "widget.yaml").write_text((terms_dir / "widget.yaml").read_text())
    metrics = Metrics()
    metrics.watch_reloads(store)
    await store.reloads.reload(terms_dir)
    await store.use_glossaries(["default", "science"], "default")
    bot = SimpleNamespace(store=store, ws=None)
    await metrics.scrape(bot)  # wraps the new glossary's reloader
    started = time.time()
    await store.reloader("science").reload(other)
    (other / "widget.yaml").write_text("title: [broken\n")
    with pytest.raises(InvalidContent):
        await store.reloader("science").reload(other)
    text = (await metrics.scrape(bot)).decode()
    assert sample(text, "glossary_terms", glossary="default") == 2
    assert sample(text, "glossary_terms", glossary="science") == 1  # the last good load
    assert sample(text, "glossary_reloads_total", glossary="default", result="ok") == 1
    assert sample(text, "glossary_reloads_total", glossary="science", result="ok") == 1
    assert sample(text, "glossary_reloads_total", glossary="science", result="refused") == 1
    assert sample(text, "glossary_reload_problems", glossary="science") >= 1
    assert sample(text, "glossary_reload_problems", glossary="default") == 0
    assert sample(text, "glossary_reload_seconds_count") == 3
    science_reload = sample(text, "glossary_last_reload_timestamp_seconds", glossary="science")
    assert started - 1 <= science_reload <= time.time()
    assert sample(text, "glossary_content_changed_timestamp_seconds",
                  glossary="science") == science_reload
    assert sample(text, "glossary_last_reload_timestamp_seconds", glossary="default") <= (
        science_reload)
