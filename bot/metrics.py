"""Prometheus metrics: what the bot did, how fast, and what went wrong.

Collected only when the health endpoint is on (``health_port``); otherwise the bot keeps
:data:`NO_METRICS`, whose hooks do nothing. The hot path (every command and every
keystroke of autocomplete) costs one counter increment and one histogram observation on
children bound once per command, so no label tuple is built per interaction. Everything
that is cheap to read when scraped (glossary size, gateway latency) is read then, not
kept up to date.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.errors import GlossaryError, InvalidContent, TermNotFound
from bot.storage.summary import glossary_summaries

__all__ = ["CONTENT_TYPE_LATEST", "NO_METRICS", "Metrics", "NoMetrics", "outcome_of"]

OUTCOMES = ("ok", "not_found", "refused", "error")
# Interactions are answered in milliseconds; Discord's limit is 3 s.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
RELOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

Call = Callable[[discord.Interaction], Awaitable[None]]


def outcome_of(error: BaseException | None) -> str:
    """How an interaction ended, as a label: ``not_found`` is a content gap, ``refused``
    a user-side refusal (cooldown, moderators only, bad input), ``error`` a bug."""
    if error is None:
        return "ok"
    if isinstance(error, TermNotFound):
        return "not_found"
    if isinstance(error, GlossaryError | app_commands.CheckFailure | app_commands.TransformerError):
        return "refused"
    return "error"


class NoMetrics:
    """The bot's metrics when the endpoint is off: the same hooks, doing nothing."""

    enabled = False

    async def timed(self, call: Call, interaction: discord.Interaction) -> None:
        await call(interaction)


NO_METRICS = NoMetrics()


class _Bound:
    """One command's pre-bound children: a counter per outcome, its latency histogram."""

    __slots__ = ("counters", "latency", "autocomplete")

    def __init__(self, metrics: Metrics, name: str) -> None:
        self.counters = tuple(metrics.interactions.labels(name, o) for o in OUTCOMES)
        self.latency = metrics.latency.labels(name)
        self.autocomplete = metrics.autocomplete.labels(name)


class Metrics:
    """The bot's metrics, in a registry of their own (so two bots in one test process, or
    the sandbox beside the tests, never share counters)."""

    enabled = True

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.interactions = Counter(
            "glossary_interactions", "Slash commands and context menus answered, by "
            "command and outcome", ["command", "outcome"], registry=registry)
        self.latency = Histogram(
            "glossary_interaction_seconds", "Time from receiving a command to its handler "
            "finishing", ["command"], buckets=LATENCY_BUCKETS, registry=registry)
        self.autocomplete = Histogram(
            "glossary_autocomplete_seconds", "Time to answer one autocomplete keystroke",
            ["command"], buckets=LATENCY_BUCKETS, registry=registry)
        self.reloads = Counter(
            "glossary_reloads", "Glossary reloads, by glossary and result (ok, refused: the "
            "files had errors, error)", ["glossary", "result"], registry=registry)
        self.reload_problems = Gauge(
            "glossary_reload_problems", "Errors the glossary's last reload refused its "
            "files for (0 after a good one); the previous content is still served",
            ["glossary"], registry=registry)
        self.reload_seconds = Histogram(
            "glossary_reload_seconds", "Duration of a glossary reload",
            buckets=RELOAD_BUCKETS, registry=registry)
        self.errors = Counter(
            "glossary_errors", "ERROR log records, by logger (tracebacks, failed posts)",
            ["logger"], registry=registry)
        self.terms = Gauge("glossary_terms", "Terms in each glossary", ["glossary"],
                           registry=registry)
        self.last_reload = Gauge(
            "glossary_last_reload_timestamp_seconds", "When each glossary's last good reload "
            "finished (Unix time)", ["glossary"], registry=registry)
        self.content_changed = Gauge(
            "glossary_content_changed_timestamp_seconds", "When each glossary's content last "
            "changed: its content version (Unix time)", ["glossary"], registry=registry)
        self.gateway_latency = Gauge(
            "glossary_gateway_latency_seconds", "Heartbeat round trip to Discord's gateway",
            ["shard"], registry=registry)
        self.gateway_connected = Gauge(
            "glossary_gateway_connected", "1 while the shard's gateway connection is open",
            ["shard"], registry=registry)
        self._bound: dict[object, _Bound] = {}
        self.log_handler = _ErrorCounter(self)

    # -- hot path --------------------------------------------------------------------
    def _children(self, command: object) -> _Bound:
        bound = self._bound.get(command)
        if bound is None:
            name = getattr(command, "qualified_name", None) or "unknown"
            bound = self._bound[command] = _Bound(self, name)
        return bound

    async def timed(self, call: Call, interaction: discord.Interaction) -> None:
        """Run the tree's handler for ``interaction`` and record it (see module doc)."""
        started = time.perf_counter()
        try:
            await call(interaction)
        except BaseException as exc:
            interaction.extras.setdefault("error", exc)
            raise
        finally:
            bound = self._children(interaction.command)
            elapsed = time.perf_counter() - started
            if interaction.type is discord.InteractionType.autocomplete:
                bound.autocomplete.observe(elapsed)
            else:
                error = interaction.extras.get("error")
                bound.counters[0 if error is None else OUTCOMES.index(outcome_of(error))].inc()
                bound.latency.observe(elapsed)

    # -- reloads, scrapes ------------------------------------------------------------
    def watch_reloads(self, store: Any) -> None:
        """Time every glossary's reloads (start-up, /glossary reload, the watcher, an
        edit). A glossary registered later is wrapped at the next scrape; each reloader
        is wrapped once."""
        for glossary in store.glossaries:
            self._watch(glossary.name, store.reloader(glossary.name))

    def _watch(self, name: str, reloader: Any) -> None:
        if getattr(reloader, "_timed_by", None) is self:
            return
        reload = reloader.reload
        results = {r: self.reloads.labels(name, r) for r in ("ok", "refused", "error")}
        problems = self.reload_problems.labels(name)

        async def timed_reload(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                diff = await reload(*args, **kwargs)
            except InvalidContent as exc:
                results["refused"].inc()
                problems.set(len(exc.errors))
                raise
            except Exception:
                results["error"].inc()
                raise
            finally:
                self.reload_seconds.observe(time.perf_counter() - started)
            results["ok"].inc()
            problems.set(0)
            return diff

        reloader.reload = timed_reload
        reloader._timed_by = self  # noqa: SLF001 - the one wrapper, however often asked

    async def scrape(self, bot: discord.Client) -> bytes:
        """The text exposition, with the values read now: every glossary's size, last
        reload and content version in one query."""
        store = bot.store  # type: ignore[attr-defined]
        self.watch_reloads(store)
        for summary in await glossary_summaries(store.db):
            self.terms.labels(summary.name).set(summary.terms)
            if summary.last_reload_at is not None:
                self.last_reload.labels(summary.name).set(summary.last_reload_at)
            if summary.changed_at is not None:
                self.content_changed.labels(summary.name).set(summary.changed_at)
        for shard_id, socket in gateway_sockets(bot):
            self.gateway_connected.labels(str(shard_id)).set(int(bool(socket and socket.open)))
            latency = socket.latency if socket is not None else float("inf")
            self.gateway_latency.labels(str(shard_id)).set(latency)
        return generate_latest(self.registry)


class _ErrorCounter(logging.Handler):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.errors.labels(record.name).inc()


def gateway_sockets(bot: discord.Client) -> list[tuple[int, Any]]:
    """``(shard id, DiscordWebSocket or None)`` for each shard this process runs."""
    shards = getattr(bot, "shards", None)
    if isinstance(shards, dict):
        return [(shard_id, getattr(info._parent, "ws", None))  # noqa: SLF001
                for shard_id, info in sorted(shards.items())]
    return [(0, bot.ws)]
