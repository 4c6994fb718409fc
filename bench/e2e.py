"""End-to-end benchmark: the glossary bot against a bare discord.py bot, through the fake Discord.

What is measured. For ``/define``, autocomplete on its ``term`` option and a click on a
related-term button: interactions per second and p50/p99 latency, from the moment the fake
injects the interaction (gateway INTERACTION_CREATE) to the moment it has the bot's
interaction callback (REST ``POST /interactions/{id}/{token}/callback``), one at a time
("sequential") and with 64 outstanding ("64 in flight"). Two bots take the same
interactions, on the same fake code, in the same run:

* the bare bot (:class:`BareBot`): a minimal ``commands.Bot`` with the same ``/define``
  definition, an autocomplete returning 10 fixed choices and a persistent ``DynamicItem``
  button on the glossary's custom_id template, each answering one fixed embed shaped like a
  card (the card's sections at typical lengths, no buttons). It does nothing a bot could
  skip, so it is the floor: nothing built on discord.py answers faster on this machine;
* the glossary bot: the real ``GlossaryBot`` with every extension, on a real ``Store``
  (SQLite in a temporary directory) loaded from the benchmark glossary, cooldowns off,
  its start-up heap frozen as ``glossary-bot run`` does (``freeze_heap``).

``--sides A,B`` measures two other sides against each other the same way: the bare bot
plus one piece of the glossary bot, or the glossary bot minus one (``bench.ablation``),
to find where a gap between the two goes (``bare+cards`` answers the glossary's own cards:
against it, ``/define``'s gap is our path alone). ``REST requests per answer`` counts what the
fake answered (the callback alone is 1).

The figures with a target: the throughput ratio glossary/bare (>= 0.9 for ``/define`` and
autocomplete) and, for autocomplete, the bot CPU per answer glossary/bare (<= 1.1).

With ``--postgres`` (issue 20) the two sides are both the glossary bot instead: ``sqlite``
(everything in one SQLite file, the default) and ``postgresql`` (shared state in a fresh
PostgreSQL database, the glossary in the child's local SQLite index), same interactions,
same ABBA rounds; the target is then throughput postgresql/sqlite >= 0.95 for ``/define``
and autocomplete. The server is ``--database-url``, else ``GLOSSARY_TEST_POSTGRES``, else a
throwaway cluster ``.ci/postgres`` starts and stops (``bench.postgres``).

Process layout. Three processes: this one runs both fakes and the load generator (the
fake's injection API works only in the process that owns the fake); each bot runs in its
own child (``python -m bench.e2e --serve-bot ...``), pointed at its own fake on 127.0.0.1.
So the fake's CPU never shares the bot's event loop, and both bots are treated identically:
same fake code, same kind of child (``NetworkGuard`` on, as in the tests), same payloads and
query sequence. How busy this process was is reported: near one full core would mean the
fake, not the bot, set the pace. Only one bot is driven at a time; the other idles.

Noise. Machines are shared: rounds alternate between the bots (bare then glossary, then
glossary then bare: ABBA), so drift hits both alike. Every figure is the median over
rounds, and each ratio the median of the per-round pairs, each pair measured back to back.

Schema validation is off (the sandbox's ``FakeDiscord``, not the tests'): jsonschema against
Discord's 1 MB OpenAPI description costs the fake 6-9 ms per card or choices callback
(measured), several times what the bare bot spends on a whole interaction, so it would
measure jsonschema. The tests validate the same kinds of answers (cards, choices).

Latency ends when ``InteractionReply.wait_callback`` returns, within one event-loop turn of
the fake storing the callback; the fake's records of finished interactions are dropped
between rounds (:meth:`_Side.reset`) so they cannot grow by hundreds of MB.

Bounds: every wait has a timeout, the run fits ``ctx.deadline`` (rounds shrink, then are
cut, to fit), ``--quick`` takes well under a minute, a full run under two. The bots stop
when their stdin closes (so also if this process dies), each Store is closed, and
discord.py's process-wide ``Route.BASE`` and ``DEFAULT_GATEWAY`` are put back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bench.report import Row, Target, short_size
from bot.sandbox.fake import FakeAddress, FakeDiscord, InteractionReply, WaitTimeout
from bot.sandbox.running import bot_against_fake

if TYPE_CHECKING:
    from bench.core import Context

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
CARD_COLOUR = 0x5865F2  # both bots' cards; an answer in another colour is an error message
IN_FLIGHT = 64
SEQUENTIAL, CONCURRENT = "sequential", f"{IN_FLIGHT} in flight"
MODES: tuple[tuple[str, int], ...] = ((SEQUENTIAL, 1), (CONCURRENT, IN_FLIGHT))
KINDS: tuple[tuple[str, str], ...] = (
    ("define", "/define"), ("autocomplete", "autocomplete"), ("click", "related click"),
)
SIDES = ("bare", "glossary")  # (the floor, the measured); --postgres: sqlite, postgresql
TARGET_RATIO = 0.9
TARGET_KINDS = ("define", "autocomplete")
TARGET_CPU_RATIO = {"autocomplete": 1.1}  # bot CPU per answer, glossary/bare, at most
PG_SIDES = ("sqlite", "postgresql")
PG_TARGET_RATIO = 0.95  # issue 20: /define and autocomplete with PostgreSQL vs SQLite mode
CHILD_SIDES = ("bare", "glossary", *PG_SIDES)
PG_URL_ENV = "GLOSSARY_DATABASE_URL"  # to the postgresql child: no password in `ps`
E2E_SIZE_CAP = 10_000  # the largest glossary used: e2e measures the Discord path, not scale
INTERACTION_TIMEOUT = 5.0  # Discord gives up after 3 s; the fake refuses such late answers
READY_TIMEOUT = 45.0  # a child bot: start, load the glossary, sync, connect
STOP_TIMEOUT = 15.0
GUILD_READY_TIMEOUT = 0.1  # discord.py waits this long after the last GUILD_CREATE
BUDGET_CAP_S = {True: 70.0, False: 160.0}  # quick, full (each includes the warm-up pass)
CLEANUP_S = 10.0  # kept back from ctx.deadline for stopping the bots
SETUP_S = 20.0  # starting both bots, the warm-up pass over every query, stopping (estimate)
ROUND_OVERHEAD_S = 0.15  # draining in-flight answers, resetting the fake
SLUG_PATTERN = r"[a-z0-9][a-z0-9-]{0,44}"  # as the glossary's related-term buttons
FAILED = "failed"
ANSWER_SAMPLES = 30  # answers whose JSON size is averaged after each warm-up


# ----- the bare bot (runs in a child) -----------------------------------------------------


def _filler(length: int) -> str:
    sentence = "A fixed answer that the bare bot sends every time, as long as a card section. "
    return (sentence * (length // len(sentence) + 1))[:length].rstrip()


def fixed_card() -> discord.Embed:
    """A card-shaped embed at the benchmark glossary's typical lengths, so both bots send
    (and the fake parses) about the same bytes; only the work behind them differs."""
    embed = discord.Embed(title="Fixed card", description=_filler(750), colour=CARD_COLOUR)
    for name, length in (("💡 Why it matters", 650), ("🎓 In the course", 420),
                         ("🌍 In the real world", 480), ("⚠️ Common mistakes", 600)):
        embed.add_field(name=name, value=_filler(length), inline=False)
    embed.set_footer(text="📖 Glossary · databases · also called Fixed")
    return embed


FIXED_CARD = fixed_card()
FIXED_CHOICE_COUNT = 10  # about what the glossary offers for the benchmark's typing mix
FIXED_CHOICES = [app_commands.Choice(name=f"Fixed choice {i}", value=f"fixed-{i}")
                 for i in range(FIXED_CHOICE_COUNT)]


class FixedCardButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:(?P<mode>[tbn]):(?P<slug>{SLUG_PATTERN})(?::(?P<origin>{SLUG_PATTERN}))?",
):
    """The glossary's related-term custom_ids, answered (privately) with the fixed card."""

    def __init__(self, slug: str) -> None:
        super().__init__(discord.ui.Button(label=slug, custom_id=f"gl:t:{slug}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any, /
    ) -> FixedCardButton:
        return cls(match["slug"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=FIXED_CARD, ephemeral=True)


@app_commands.command(name="define", description="Show the glossary card for a term")
@app_commands.describe(term="The term to look up", private="Only you see the card")
async def _bare_define(
    interaction: discord.Interaction,
    term: app_commands.Range[str, 1, 100],
    private: bool | None = None,
) -> None:
    await interaction.response.send_message(embed=FIXED_CARD, ephemeral=bool(private))


@_bare_define.autocomplete("term")
async def _bare_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return FIXED_CHOICES


class BareBot(commands.Bot):
    """The floor: the glossary's command definition and custom_ids, a fixed answer."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # what GlossaryBot asks for
        super().__init__(command_prefix=commands.when_mentioned, help_command=None,
                         intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=GUILD_READY_TIMEOUT)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(FixedCardButton)
        self.tree.add_command(_bare_define)
        await self.tree.sync()


# ----- a bot child: ``python -m bench.e2e --serve-bot bare|glossary ...`` -----------------


async def _stdin_closed() -> None:
    """Returns when the parent closes our stdin (or dies): the stop signal, no threads."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    try:
        while await reader.read(4096):
            pass
    finally:
        transport.close()


async def _run_bot(bot: commands.Bot, address: FakeAddress, deadline: float,
                   ready: Callable[[commands.Bot], None] | None = None,
                   profile: Path | None = None) -> None:
    """Start, say "ready" on stdout, serve until stdin closes (or the deadline), close.
    With ``profile``, cProfile runs from "ready" until stdin closes: serving only, so two
    sides' calls per answer compare (start-up differs by thousands of calls)."""
    async with bot_against_fake(bot, address, token=TOKEN, ready_timeout=READY_TIMEOUT):
        if ready is not None:
            ready(bot)
        profiler = cProfile.Profile() if profile is not None else None
        if profiler is not None:
            profiler.enable()
        print("ready", flush=True)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_stdin_closed(), max(deadline - time.time(), 1.0))
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)


async def serve_bot(side: str, api_url: str, gateway_url: str, terms: Path, database: Path,
                    deadline: float, profile: Path | None = None) -> None:
    """One bot in this process, pointed at a fake on loopback; nothing else reachable.
    A side with pieces added or taken away (``bare+sharded``) is a bench.ablation variant."""
    from bench import ablation
    from bot.client import GlossaryBot
    from bot.config import Config
    from bot.store import Store

    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here
    store: Store | None = None
    variant = None
    if side not in CHILD_SIDES:
        variant = ablation.parse(side)
        side = variant.base
        if side == "glossary":
            ablation.patch_glossary(variant)
    try:
        if side == "bare":
            if variant:
                store = await ablation.open_store(variant, terms, database)
            bot: commands.Bot = (ablation.bare_class(variant, BareBot, store) if variant
                                 else BareBot)()
        else:
            url = os.environ.get(PG_URL_ENV) if side == "postgresql" else None
            store = await Store.open(database, database_url=url)
            # Loaded here, not only in setup_hook, so invalid content fails loudly
            # instead of leaving the bot serving an empty glossary.
            diff = await store.reloads.reload(terms)
            print(f"glossary loaded: {diff.term_count} terms", file=sys.stderr, flush=True)
            config = Config(token=TOKEN, content_dir=terms, database=database,
                            database_url=url, local_index=database,
                            cooldown_uses=0, embed_colour=CARD_COLOUR, log_level="WARNING")
            # freeze_heap: as `glossary-bot run` serves (bot.client._serve)
            bot = GlossaryBot(config, store, guild_ready_timeout=GUILD_READY_TIMEOUT,
                              freeze_heap=ablation.freezes_heap(variant))
        # refuses anything but loopback, and any request elsewhere (NetworkGuard)
        await _run_bot(bot, FakeAddress(api_url, gateway_url), deadline,
                       ablation.after_ready(variant) if variant else None, profile)
    finally:
        if store is not None:
            await store.close()


# ----- the load generator (this process, next to the fakes) -------------------------------


class CountingFake(FakeDiscord):
    """The sandbox's stand-in, counting the REST requests it answers: a bot that makes two
    requests where the other makes one pays a whole HTTP round trip more per answer."""

    requests = 0

    def _on_request(self, record: Any) -> None:
        self.requests += 1


Built = tuple[int, dict[str, Any], dict[str, Any] | None]  # (type, data, message)


@dataclass
class _Side:
    """One bot with its own fake: its interactions, its queries, its child process."""

    name: str
    fake: CountingFake
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    queries: dict[str, Iterator[str]] = field(default_factory=dict)  # per kind, own cycle
    cycle_length: dict[str, int] = field(default_factory=dict)  # distinct queries per kind
    _built: dict[tuple[str, str], Built] = field(default_factory=dict)

    def payload(self, kind: str, query: str) -> dict[str, Any]:
        """A fresh interaction (new id and token) from the fake's default student; the
        parts that do not change are built once per query."""
        built = self._built.get((kind, query))
        if built is None:
            built = self._built[(kind, query)] = self._build(kind, query)
        type_, data, message = built
        return self.fake.interaction_payload(type_, data, message=message)

    def _build(self, kind: str, query: str) -> Built:
        # Option types come from the commands the bot synced to its fake, as in the tests.
        if kind == "define":
            return 2, self.fake.command_data("define", (), {"term": query}), None
        if kind == "autocomplete":
            return 4, self.fake.command_data("define", (), {"term": query}, focused="term"), None
        # A public card "from before a restart" carrying the button: what a student clicks.
        message = self.fake.synthetic_message(query)
        return 3, {"custom_id": query, "component_type": 2}, message

    def bot_cpu(self) -> float | None:
        return _cpu_seconds(self.process.pid) if self.process else None

    def bot_rss_mb(self) -> float | None:
        return _rss_mb(self.process.pid) if self.process else None

    def reset(self) -> None:
        """Drop the fake's records of finished interactions between rounds: over tens of
        thousands of interactions they grow by hundreds of MB and slow the collector."""
        self.fake.forget_history()


def _proc_file(pid: int, name: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(encoding="ascii")
    except OSError:  # not Linux, or the process is gone
        return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all threads (aiosqlite's included)."""
    stat = _proc_file(pid, "stat")
    if stat is None:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float | None:
    status = _proc_file(pid, "status")
    for line in (status or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest rank, as bench.core: with few samples p99 is honestly the maximum."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def _answer_ok(kind: str, callback: dict[str, Any]) -> bool:
    """The answer a working bot gives: choices, or a card (not an error or "not found")."""
    data = callback.get("data") or {}
    if kind == "autocomplete":
        return callback.get("type") == 8 and bool(data.get("choices"))
    embeds = data.get("embeds") or []
    return callback.get("type") == 4 and bool(embeds) and embeds[0].get("color") == CARD_COLOUR


@dataclass(frozen=True)
class RoundResult:
    answered: int
    failed: int  # no callback within INTERACTION_TIMEOUT (a late one is refused by the fake)
    wrong: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    bot_cpu_ms: float | None  # per answer
    fake_busy: float  # share of one core this process (fakes + load generator) used
    requests: float = 0.0  # REST requests the fake answered per answer (the callback: 1)
    fake_cpu_ms: float | None = None  # this process's CPU per answer (fake + load generator)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0


async def _interact(side: _Side, kind: str) -> tuple[float, InteractionReply] | None:
    """One interaction: (seconds from injection to callback, reply), None on timeout."""
    payload = side.payload(kind, next(side.queries[kind]))
    try:
        reply = await side.fake.inject(payload, kind, timeout=INTERACTION_TIMEOUT)
        await reply.wait_callback(INTERACTION_TIMEOUT)
    except WaitTimeout:  # the fake's timeouts: no gateway session, or no answer in time
        return None
    if reply.injected_at is None:
        return None
    return asyncio.get_running_loop().time() - reply.injected_at, reply


async def run_round(side: _Side, kind: str, in_flight: int, seconds: float) -> RoundResult:
    """``in_flight`` workers inject back to back for ``seconds``, then drain. Throughput
    is answers over the time from the first injection to the last answer."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    failed = wrong = 0
    cpu_before, fake_before = side.bot_cpu(), time.process_time()
    requests_before = side.fake.requests
    started = last = loop.time()
    stop_at = started + seconds

    async def worker() -> None:
        nonlocal failed, wrong, last
        while loop.time() < stop_at:
            outcome = await _interact(side, kind)
            if outcome is None:
                failed += 1
                continue
            latency, reply = outcome
            latencies.append(latency)
            last = max(last, loop.time())
            wrong += not _answer_ok(kind, reply.callback or {})

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = max(last - started, 1e-9)
    cpu_after, fake_after = side.bot_cpu(), time.process_time()
    side.reset()
    bot_cpu = None
    if cpu_before is not None and cpu_after is not None and latencies:
        bot_cpu = (cpu_after - cpu_before) * 1000 / len(latencies)
    return RoundResult(
        answered=len(latencies), failed=failed, wrong=wrong, seconds=elapsed,
        p50_ms=percentile(latencies, 0.5) * 1000 if latencies else None,
        p99_ms=percentile(latencies, 0.99) * 1000 if latencies else None,
        bot_cpu_ms=bot_cpu, fake_busy=(fake_after - fake_before) / elapsed,
        requests=(side.fake.requests - requests_before) / max(len(latencies), 1),
        fake_cpu_ms=(fake_after - fake_before) * 1000 / len(latencies) if latencies else None,
    )


def workload(glossary: Path) -> dict[str, list[str]]:
    """What students send, from the glossary's sample queries (the same for both bots):
    /define by slug and by odd spelling, autocomplete on short and long prefixes and on
    one-edit typos, clicks on a related term of another card."""
    queries = json.loads((glossary / "queries.json").read_text(encoding="utf-8"))
    slugs: list[str] = queries["slug"]
    typos = [typo for typo, _ in queries["typo"]]
    return {
        "define": [q for pair in zip(slugs, queries["odd_spelling"], strict=False) for q in pair],
        "autocomplete": [q for trio in zip(queries["prefix_1_3"], queries["prefix_4_10"], typos,
                                           strict=False) for q in trio],
        "click": [f"gl:t:{slug}:{origin}"
                  for slug, origin in zip(slugs, slugs[1:] + slugs[:1], strict=True)],
    }


# ----- orchestration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How long each measurement runs; shrunk to fit the time left."""

    rounds: int
    round_seconds: float
    warmup_seconds: float

    def estimate(self) -> float:
        cells = len(KINDS) * len(MODES) * len(SIDES)
        return (SETUP_S + len(KINDS) * len(SIDES) * (self.warmup_seconds + ROUND_OVERHEAD_S)
                + self.rounds * cells * (self.round_seconds + ROUND_OVERHEAD_S))


def time_needed(quick: bool) -> float:
    """What bench.run leaves this module: the full plan's estimate and the cleanup (its cap,
    BUDGET_CAP_S, is a bound for a slow machine, not what a run takes)."""
    full = Plan(3, 0.4, 0.25) if quick else Plan(5, 1.0, 0.5)
    return full.estimate() + CLEANUP_S


def plan_for(quick: bool, available: float) -> Plan | None:
    """The full plan if it fits, else shorter rounds, then fewer; None if nothing fits."""
    full = Plan(3, 0.4, 0.25) if quick else Plan(5, 1.0, 0.5)
    for rounds in sorted({full.rounds, 3, 1}, reverse=True):
        if rounds > full.rounds:
            continue
        fixed = Plan(rounds, 0.0, full.warmup_seconds).estimate()
        per_second = Plan(rounds, 1.0, 0.0).estimate() - Plan(rounds, 0.0, 0.0).estimate()
        seconds = min(full.round_seconds, (available - fixed) / per_second)
        if seconds >= 0.2:
            return Plan(rounds, round(seconds, 2), full.warmup_seconds)
    return None


def pick_size(sizes: Sequence[int]) -> int:
    """The largest size up to 10k (the Discord path, not scale, is under test here)."""
    modest = [s for s in sizes if s <= E2E_SIZE_CAP]
    return max(modest) if modest else min(sizes)


@dataclass
class Results:
    """Everything measured, kept as it comes so a run cut short still reports."""

    size: int
    plan: Plan
    rounds: dict[tuple[str, str, str], list[RoundResult]] = field(default_factory=dict)
    answer_bytes: dict[tuple[str, str], int] = field(default_factory=dict)
    rss_mb: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    errors_logged: dict[str, int] = field(default_factory=dict)
    stopped: str = ""  # why the run ended early, if it did
    seconds: float = 0.0

    def add(self, side: str, kind: str, mode: str, result: RoundResult) -> None:
        self.rounds.setdefault((side, kind, mode), []).append(result)

    def get(self, side: str, kind: str, mode: str) -> list[RoundResult]:
        return self.rounds.get((side, kind, mode), [])


async def _start_side(name: str, glossary: Path, work: Path, child_deadline: float,
                      stack: contextlib.AsyncExitStack, profile_dir: Path | None,
                      database_url: str | None = None) -> _Side:
    """A fake on 127.0.0.1 and a bot child pointed at it; both undone by ``stack``."""
    fake = CountingFake()  # the sandbox's stand-in: no schema validation, see the docstring
    await fake.start()  # 127.0.0.1 only, a free port
    stack.push_async_callback(fake.stop)
    mix = workload(glossary)
    side = _Side(name, fake, work / f"{name}.log",
                 queries={kind: itertools.cycle(mix[kind]) for kind, _ in KINDS},
                 cycle_length={kind: len(mix[kind]) for kind, _ in KINDS})
    command = [sys.executable, "-m", "bench.e2e", "--serve-bot", name,
               "--api-url", fake.api_base_url, "--gateway-url", fake.gateway_url,
               "--terms", str(glossary / "terms"), "--database", str(work / f"{name}.sqlite3"),
               "--deadline", str(child_deadline)]
    if profile_dir is not None:
        command += ["--profile-out", str(profile_dir / f"{name}.prof")]
    env = {**os.environ,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop(PG_URL_ENV, None)
    if name == "postgresql":
        assert database_url is not None, "the postgresql side needs a database URL"
        env[PG_URL_ENV] = database_url
    with side.log_path.open("wb") as log_file:
        side.process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=log_file,
        )
    stack.push_async_callback(_stop_process, side.process)
    return side


async def _stop_process(process: asyncio.subprocess.Process) -> None:
    """Close its stdin (the bot's stop signal); kill it if it does not exit in time."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _ready(side: _Side) -> None:
    assert side.process is not None and side.process.stdout is not None
    try:
        line = await asyncio.wait_for(side.process.stdout.readline(), READY_TIMEOUT)
    except TimeoutError:
        line = b""
    if line.strip() != b"ready":
        raise RuntimeError(f"the {side.name} bot did not start: {_tail(side.log_path)}")
    await side.fake.wait_for_session(timeout=INTERACTION_TIMEOUT)


def _errors_logged(path: Path) -> int:
    """ERROR records and uncaught tracebacks a bot wrote to its log."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    return sum(line.startswith(("ERROR", "Traceback")) for line in text.splitlines())


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"


async def _every_query_once(side: _Side, kind: str) -> None:
    """One pass over the query cycle (64 in flight), so what a bot remembers per query
    (cards, rendered choices) is warm for every query before the rounds, however short
    they are: the rounds then measure a class asking what it asked before."""
    left = side.cycle_length.get(kind, 0)

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await _interact(side, kind)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


async def _warm_up(side: _Side, kind: str, seconds: float, results: Results) -> None:
    """Fill every cache (discord.py's, SQLite's, the store's) before measuring, and note
    the mean size of its answers. A bot that answers nothing, or not what was asked (errors,
    "not found", no choices), stops the run: its speed would be the error path's."""
    warm = await run_round(side, kind, IN_FLIGHT, seconds)
    await _every_query_once(side, kind)
    if warm.answered == 0 or warm.wrong:
        raise RuntimeError(f"the {side.name} bot answered {warm.wrong} of {warm.answered} "
                           f"{kind} interactions wrongly in the warm-up ({warm.failed} "
                           f"unanswered): {_tail(side.log_path)}")
    sizes: list[int] = []
    for _ in range(ANSWER_SAMPLES):
        outcome = await _interact(side, kind)
        if outcome is not None:
            sizes.append(len(json.dumps(outcome[1].callback)))
    if sizes:
        results.answer_bytes[(side.name, kind)] = round(statistics.mean(sizes))
    side.reset()


async def _rounds(sides: list[_Side], plan: Plan, deadline: float, results: Results,
                  log: Callable[[str], None]) -> None:
    """Each round: every kind and mode for both bots, in ABBA order across rounds."""
    needed = (plan.round_seconds + ROUND_OVERHEAD_S) * len(KINDS) * len(MODES) * len(SIDES)
    for number in range(plan.rounds):
        if time.monotonic() + needed > deadline:
            results.stopped = f"{number} of {plan.rounds} rounds (time bound)"
            log(f"e2e: stopping after {number} rounds to stay within the time bound")
            return
        order = sides if number % 2 == 0 else sides[::-1]
        for kind, _ in KINDS:
            for mode, in_flight in MODES:
                for side in order:
                    results.add(side.name, kind, mode,
                                await run_round(side, kind, in_flight, plan.round_seconds))
        log(f"e2e: round {number + 1}/{plan.rounds} done")


async def measure(glossary: Path, size: int, plan: Plan, deadline: float,
                  log: Callable[[str], None], profile_dir: Path | None = None,
                  database_url: str | None = None) -> Results:
    """Start both bots, warm up, then the interleaved rounds. Stops by ``deadline``
    (time.monotonic()), keeping whatever it measured; the bots are stopped after it."""
    results = Results(size, plan)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="glossary-bench-e2e-"))
    sides: list[_Side] = []
    try:
        async with contextlib.AsyncExitStack() as stack:  # outside the timeout: always runs
            try:
                async with asyncio.timeout_at(deadline):  # the loop's clock is monotonic
                    # The children stop by themselves a little after our own deadline.
                    child_deadline = time.time() + (deadline - time.monotonic()) + 30
                    for name in SIDES:
                        sides.append(await _start_side(name, glossary, work, child_deadline,
                                                       stack, profile_dir, database_url))
                    await asyncio.gather(*(_ready(side) for side in sides))
                    log(f"e2e: both bots ready in {time.monotonic() - started:.1f} s; "
                        f"{plan.rounds} rounds of {plan.round_seconds:g} s per measurement")
                    for side in sides:
                        for kind, _ in KINDS:
                            await _warm_up(side, kind, plan.warmup_seconds, results)
                    before = {side.name: side.bot_rss_mb() for side in sides}
                    await _rounds(sides, plan, deadline, results, log)
                    results.rss_mb = {s.name: (before[s.name], s.bot_rss_mb()) for s in sides}
            except WaitTimeout as exc:  # the fake waited in vain: a failure, not the bound
                results.stopped = f"{FAILED}: {exc}"
            except TimeoutError:
                results.stopped = "hit the time bound"
            except (RuntimeError, OSError) as exc:
                results.stopped = f"{FAILED}: {exc}"
            if results.stopped:
                log(f"e2e: {results.stopped}")
    finally:
        results.errors_logged = {side.name: _errors_logged(side.log_path) for side in sides}
        shutil.rmtree(work, ignore_errors=True)
        results.seconds = time.monotonic() - started
    return results


# ----- rows -------------------------------------------------------------------------------


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _pair(first: float | None, second: float | None) -> tuple[float, float] | str:
    return "-" if first is None or second is None else (first, second)


def _ratio_checked(value: object) -> float | None:
    """A run that failed misses the target; one skipped for lack of time has no verdict."""
    if value == FAILED:
        return float("-inf")
    return float(value) if isinstance(value, int | float) else None


def _worst(value: object) -> float | None:
    """A pair of both sides meets a "none" target only if both sides do."""
    return max(value) if isinstance(value, tuple) else None


def _section(size: int) -> str:
    backends = ", SQLite vs PostgreSQL" if SIDES == PG_SIDES else ""
    return (f"end-to-end (glossary {short_size(size)}, fake Discord on 127.0.0.1, "
            f"own processes{backends})")


def _pair_label() -> str:
    """"bare/glossary": the sides in the order the figures are given."""
    return "/".join(SIDES)


def _ratio_label() -> str:
    """"glossary/bare": the measured side over the floor."""
    return f"{SIDES[1]}/{SIDES[0]}"


def _ratio_row(section: str, name: str, size: int, ratio: object, targeted: bool) -> Row:
    if not targeted:
        return Row(section, name, "x", {size: ratio}, note="no target")
    if SIDES not in (("bare", "glossary"), PG_SIDES):  # --sides: an ablation, no verdict
        return Row(section, name, "x", {size: ratio}, note="no target")
    target = PG_TARGET_RATIO if SIDES == PG_SIDES else TARGET_RATIO
    return Row(section, name, "x", {size: ratio}, Target.at_least(target, (size,)),
               checked=_ratio_checked)


def _cpu_ratio_row(results: Results, section: str, kind: str, label: str) -> Row:
    """Bot CPU per answer glossary/bare, the median of the back-to-back pairs."""
    size = results.size
    pairs = zip(results.get(SIDES[0], kind, CONCURRENT), results.get(SIDES[1], kind, CONCURRENT),
                strict=False)
    ratio = _median([g.bot_cpu_ms / b.bot_cpu_ms for b, g in pairs
                     if b.bot_cpu_ms and g.bot_cpu_ms is not None])
    name = f"  {label}: bot CPU per answer {_ratio_label()}"
    limit = TARGET_CPU_RATIO.get(kind) if SIDES == ("bare", "glossary") else None
    if limit is None:
        return Row(section, name, "x", {size: ratio}, note="no target")
    return Row(section, name, "x", {size: ratio}, Target(limit, (size,)),
               note="median of the round pairs")


def rows(results: Results) -> list[Row]:
    """The e2e section of the table: per kind and mode both bots and their ratio, then
    where the time went (CPU per answer, how busy the fake was) and the sanity checks."""
    size, section = results.size, _section(results.size)
    note = (f"median of {results.plan.rounds} rounds x {results.plan.round_seconds:g} s, "
            f"{_pair_label()} ABBA")

    missing = FAILED if results.stopped.startswith(FAILED) else "-"

    def at(value: object) -> dict[int, Any]:
        return {size: value}

    def both(kind: str, mode: str, figure: Callable[[RoundResult], float | None]) -> object:
        return _pair(*(_median([figure(r) for r in results.get(side, kind, mode)])
                       for side in SIDES))

    out: list[Row] = []
    for kind, label in KINDS:
        for mode, _ in MODES:
            name = f"{label}, {mode}"
            bare, gloss = results.get(SIDES[0], kind, mode), results.get(SIDES[1], kind, mode)
            ratio = _median([g.rate / b.rate for b, g in zip(bare, gloss, strict=False)
                             if b.rate > 0])
            out += [
                Row(section, f"{name}: interactions/s {_pair_label()}", "/s",
                    at(both(kind, mode, lambda r: r.rate)), note=note),
                Row(section, f"  p50/p99 {SIDES[0]}", "ms", at(_pair(
                    _median([r.p50_ms for r in bare]), _median([r.p99_ms for r in bare])))),
                Row(section, f"  p50/p99 {SIDES[1]}", "ms", at(_pair(
                    _median([r.p50_ms for r in gloss]), _median([r.p99_ms for r in gloss])))),
                _ratio_row(section, f"  {name}: throughput {_ratio_label()}", size,
                           missing if ratio is None else ratio, kind in TARGET_KINDS),
            ]
        out += [
            Row(section, f"  {label}: bot CPU per answer {_pair_label()}", "ms",
                at(both(kind, CONCURRENT, lambda r: r.bot_cpu_ms)),
                note=f"{CONCURRENT}; all the bot's threads"),
            _cpu_ratio_row(results, section, kind, label),
            Row(section, f"  {label}: fake process busy {_pair_label()}", "core",
                at(both(kind, CONCURRENT, lambda r: r.fake_busy)),
                note="near 1 = the fake sets the pace"),
            Row(section, f"  {label}: fake CPU per answer {_pair_label()}", "ms",
                at(both(kind, SEQUENTIAL, lambda r: r.fake_cpu_ms)),
                note=f"{SEQUENTIAL}; the fake's share of the latency (load generator "
                "included)"),
            Row(section, f"  {label}: REST requests per answer {_pair_label()}", "n",
                at(both(kind, CONCURRENT, lambda r: r.requests)),
                note="1 = the callback alone"),
            Row(section, f"  {label}: answer JSON {_pair_label()}", "B", at(_pair(
                *(results.answer_bytes.get((side, kind)) for side in SIDES))),
                note="mean size of one answer"),
        ]
    totals = {side: [r for (s, _, _), rs in results.rounds.items() if s == side for r in rs]
              for side in SIDES}
    bad = {side: sum(r.failed + r.wrong for r in rs) + results.errors_logged.get(side, 0)
           for side, rs in totals.items()}
    before, after = ({side: results.rss_mb.get(side, (None, None))[i] for side in SIDES}
                     for i in (0, 1))
    growth = "/".join("-" if before[s] is None or after[s] is None
                      else f"+{after[s] - before[s]:.0f}" for s in SIDES)
    out += [
        Row(section, f"answered {_pair_label()}", "n",
            at(_pair(*(sum(r.answered for r in totals[side]) for side in SIDES)))),
        Row(section, f"failed + wrong answers + errors logged {_pair_label()}", "n",
            at(_pair(bad[SIDES[0]], bad[SIDES[1]])), Target(0.0, (size,), "none"),
            checked=_worst),
        Row(section, f"bot RSS at the end {_pair_label()}", "MB",
            at(_pair(after[SIDES[0]], after[SIDES[1]])), note=f"{growth} MB during the rounds"),
        Row(section, "e2e wall time", "s", at(results.seconds),
            note=results.stopped[:160] or "complete"),
    ]
    return out


def skipped_rows(size: int, reason: str) -> list[Row]:
    return [_ratio_row(_section(size), f"/define throughput {_ratio_label()}", size, "skipped",
                       True),
            Row(_section(size), "e2e", "", {size: "skipped"}, note=reason)]


def collect(ctx: Context, log: Callable[[str], None] = print, *,
            profile_dir: Path | None = None, database_url: str | None = None) -> list[Row]:
    """Run the end-to-end benchmark on one modest glossary within the time left."""
    size = pick_size(ctx.sizes)
    deadline = min(ctx.deadline - CLEANUP_S, time.monotonic() + BUDGET_CAP_S[ctx.quick])
    plan = plan_for(ctx.quick, deadline - time.monotonic())
    if plan is None:
        log(f"e2e: skipped, {ctx.deadline - time.monotonic():.0f} s left is not enough")
        return skipped_rows(size, "skipped: not enough time left in the run")
    log(f"e2e: glossary {short_size(size)}, ~{plan.estimate():.0f} s planned")
    results = asyncio.run(measure(ctx.glossaries[size], size, plan, deadline, log, profile_dir,
                                  database_url))
    log(f"e2e: done in {results.seconds:.0f} s")
    return rows(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone: ``python -m bench.e2e [--size N] [--quick] [--kinds K,K] [--profile DIR]
    [--postgres [--database-url URL]]``; the benchmark also runs this module as each bot's
    child (``--serve-bot``)."""
    global KINDS, SIDES  # noqa: PLW0603 - --kinds and --postgres narrow the standalone run
    parser = argparse.ArgumentParser(
        prog="python -m bench.e2e",
        description="The end-to-end benchmark alone (or, with --serve-bot, one bot for it).",
    )
    parser.add_argument("--size", type=int, default=1_000, help="glossary size (default 1000)")
    parser.add_argument("--quick", action="store_true", help="short rounds (~25 s)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run the bots under cProfile once ready (serving only, warm-up "
                        "included): DIR/bare.prof, DIR/glossary.prof")
    parser.add_argument("--kinds", help="only these, comma-separated (define,autocomplete,"
                        "click): more rounds of them in the same budget")
    parser.add_argument("--postgres", action="store_true",
                        help="compare the glossary bot with SQLite against it with PostgreSQL "
                        "(issue 20) instead of against the bare bot")
    parser.add_argument("--database-url", metavar="URL",
                        help="with --postgres: the server to create a scratch database on "
                        "(default: $GLOSSARY_TEST_POSTGRES, else a throwaway cluster)")
    child = parser.add_argument_group("a bot child (started by the benchmark itself)")
    parser.add_argument("--sides", metavar="A,B", help="measure these two sides against "
                        "each other instead: bare or glossary with bench.ablation pieces added "
                        "or taken away, e.g. glossary,glossary-listener or bare,bare+sharded")
    child.add_argument("--serve-bot", metavar="SIDE",
                       help=f"one of {', '.join(CHILD_SIDES)}, or a bench.ablation variant")
    child.add_argument("--api-url")
    child.add_argument("--gateway-url")
    child.add_argument("--terms", type=Path)
    child.add_argument("--database", type=Path)
    child.add_argument("--deadline", type=float, help="time.time() to stop by")
    child.add_argument("--profile-out", type=Path, help="cProfile what is served, to here")
    args = parser.parse_args(argv)
    if args.serve_bot:
        import logging

        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")
        asyncio.run(serve_bot(args.serve_bot, args.api_url, args.gateway_url, args.terms,
                              args.database, args.deadline, args.profile_out))
        return 0

    if args.sides:
        from bench import ablation

        SIDES = tuple(args.sides.split(","))
        if len(SIDES) != 2 or SIDES[0] == SIDES[1]:
            parser.error("--sides: two different sides, comma-separated")
        for side in SIDES:
            try:
                ablation.parse(side)
            except ValueError as exc:
                parser.error(f"--sides: {exc}")
    if args.kinds:
        chosen = set(args.kinds.split(","))
        KINDS = tuple(kind for kind in KINDS if kind[0] in chosen)
        if not KINDS:
            parser.error(f"--kinds: none of {sorted(chosen)} is a kind")

    from bench.core import Context
    from bench.generate import ensure_glossary
    from bench.report import render

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    glossaries = {args.size: ensure_glossary(args.size)}
    with contextlib.ExitStack() as stack:
        url = None
        if args.postgres:
            from bench.postgres import scratch_database

            SIDES = PG_SIDES
            url = stack.enter_context(scratch_database(args.database_url, log))
        ctx = Context(sizes=(args.size,), quick=args.quick, glossaries=glossaries,
                      deadline=time.monotonic() + BUDGET_CAP_S[args.quick] + CLEANUP_S)
        print(render(collect(ctx, log, profile_dir=args.profile, database_url=url), ctx.sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
