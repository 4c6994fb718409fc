"""Is the bot healthy? An HTTP endpoint on 127.0.0.1, and a heartbeat file without one.

``/healthz`` answers 200 when every shard's gateway connection is open, Discord
acknowledged a heartbeat within ``health_max_heartbeat_age`` seconds and the database
takes a write lock; 503 with the failing check otherwise. ``/metrics`` is the Prometheus
exposition (:mod:`bot.metrics`). Both are off unless ``health_port`` is set; only the
loopback address is bound, so nothing is exposed beyond the machine (a container maps
it explicitly). ``heartbeat_file``, when set, is rewritten every few seconds while the
bot is healthy: a watchdog (or ``glossary-bot health``) checks its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

import discord
from aiohttp import web

from bot.config import Config
from bot.metrics import CONTENT_TYPE_LATEST, Metrics, gateway_sockets

log = logging.getLogger(__name__)

HEALTH_HOST = "127.0.0.1"
HEARTBEAT_FILE_SECONDS = 10.0
DB_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def heartbeat_age(socket: object) -> float | None:
    """Seconds since Discord last acknowledged this connection's heartbeat (discord.py
    keeps the time in its keep-alive thread); None before the first HELLO."""
    keep_alive = getattr(socket, "_keep_alive", None)
    last_ack = getattr(keep_alive, "_last_ack", None)
    return None if last_ack is None else time.perf_counter() - last_ack


def gateway_checks(bot: discord.Client, max_age: float) -> list[Check]:
    checks = []
    sockets = gateway_sockets(bot)
    open_ = [shard for shard, socket in sockets if socket is not None and socket.open]
    checks.append(Check("gateway", bot.is_ready() and len(open_) == len(sockets) > 0,
                        f"{len(open_)} of {len(sockets)} shard(s) connected"))
    ages = [heartbeat_age(socket) for _, socket in sockets]
    stale = [f"shard {shard}: {'never' if age is None else f'{age:.0f} s ago'}"
             for (shard, _), age in zip(sockets, ages, strict=True)
             if age is None or age > max_age]
    checks.append(Check("heartbeat", bool(sockets) and not stale,
                        "; ".join(stale) or f"acknowledged within {max_age:.0f} s"))
    return checks


def database_writable(path: Path) -> Check:
    """Take the write lock and let it go. Busy (another writer holds it, e.g. a reload)
    still means writable; read-only, missing or corrupt files do not."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=DB_PROBE_TIMEOUT,
                                                isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return Check("database", True, f"{path}: busy (a write is in progress)")
        return Check("database", False, f"{path}: {exc}")
    except sqlite3.Error as exc:
        return Check("database", False, f"{path}: {exc}")
    return Check("database", True, f"{path}: writable")


async def check_health(bot: discord.Client, config: Config) -> list[Check]:
    checks = gateway_checks(bot, config.health_max_heartbeat_age)
    # With PostgreSQL, the process's own file is its local index (bot.store.Store.open_for).
    path = config.local_index if config.database_url else config.database
    if not path.is_file():
        checks.append(Check("database", False, f"{path}: missing"))
    else:
        checks.append(await asyncio.to_thread(database_writable, path))
    return checks


def _report(checks: list[Check]) -> dict[str, object]:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}


def make_app(bot: discord.Client, config: Config, metrics: Metrics) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        report = _report(await check_health(bot, config))
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def metrics_page(request: web.Request) -> web.Response:
        body = await metrics.scrape(bot)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


def write_heartbeat(path: Path, checks: list[Check]) -> None:
    """Replace the file in one rename, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps({"time": time.time(), **_report(checks)}) + "\n")
    os.replace(scratch, path)


async def _beat(bot: discord.Client, config: Config, path: Path) -> None:
    while True:
        checks = await check_health(bot, config)
        if all(c.ok for c in checks):
            await asyncio.to_thread(write_heartbeat, path, checks)
        else:
            log.warning("Unhealthy, heartbeat file not refreshed: %s",
                        "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok))
        await asyncio.sleep(HEARTBEAT_FILE_SECONDS)


@contextlib.asynccontextmanager
async def serving(bot: discord.Client, config: Config) -> AsyncIterator[int | None]:
    """Run the health endpoint (with metrics) and the heartbeat file, as configured;
    yields the endpoint's port (None when off)."""
    runner: web.AppRunner | None = None
    port: int | None = None
    beat: asyncio.Task[None] | None = None
    metrics_handler: logging.Handler | None = None
    try:
        if config.health_port is not None:
            metrics = Metrics()
            metrics.watch_reloads(bot.store)  # type: ignore[attr-defined]
            bot.metrics = metrics  # type: ignore[attr-defined]
            metrics_handler = metrics.log_handler
            logging.getLogger().addHandler(metrics_handler)
            runner = web.AppRunner(make_app(bot, config, metrics), access_log=None,
                                   handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, HEALTH_HOST, config.health_port)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            log.info("Health and metrics on http://%s:%d/healthz and /metrics",
                     HEALTH_HOST, port)
        if config.heartbeat_file is not None:
            beat = asyncio.create_task(_beat(bot, config, config.heartbeat_file),
                                       name="glossary-heartbeat-file")
        yield port
    finally:
        if beat is not None:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        if metrics_handler is not None:
            logging.getLogger().removeHandler(metrics_handler)


def probe(config: Config) -> tuple[bool, str]:
    """For ``glossary-bot health`` (a container's HEALTHCHECK): ask the endpoint, or
    else look at the heartbeat file's age."""
    if config.health_port:
        import urllib.error
        import urllib.request

        url = f"http://{HEALTH_HOST}:{config.health_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                return True, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return False, exc.read().decode(errors="replace")
        except OSError as exc:
            return False, f"{url}: {exc}"
    if config.heartbeat_file is not None:
        try:
            age = time.time() - config.heartbeat_file.stat().st_mtime
        except OSError as exc:
            return False, f"{config.heartbeat_file}: {exc.strerror}"
        limit = config.health_max_heartbeat_age
        detail = f"{config.heartbeat_file}: written {age:.0f} s ago (limit {limit:.0f} s)"
        return age <= limit, detail
    return False, "health checks are off: set health_port or heartbeat_file in the config"
