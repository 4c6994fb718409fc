"""The scale run: N bot processes x M shards against one fake Discord with thousands of servers.

``python -m bench.scale [--processes 4] [--shards-per-process 4] [--guilds 16000]
[--seconds 20] [--terms 10000] [--database-url postgresql://...] [--keep-logs DIR]``

What runs. This process holds the fake Discord (``bot.sandbox.fake``) presenting
``--guilds`` servers spread over ``processes x shards-per-process`` shards (a server is on
shard ``(guild_id >> 22) % shard_count``, as on Discord; each shard's session gets
GUILD_CREATE for its own servers only) and the load generator. Each bot is the real one,
started as an operator starts it (``python -m bot --config FILE``), with ``shard_count``
and its own ``shard_ids``, pointed at the fake on 127.0.0.1.

* SQLite mode (default): every process opens the same SQLite file, as docs/scaling.md
  describes for one host.
* ``--database-url``: a fresh database is made on that PostgreSQL server for the run (and
  dropped after it); each process gets ``database_url``, ``database_pool_size`` and a
  ``local_index`` of its own, and a ``database`` file of its own (no file is shared, as
  between hosts).

What is measured. Start-up: from launching the processes until each has logged "Ready"
and every shard has a gateway session (this includes discord.py's 5 s pause before each
of a process's later IDENTIFYs and its 2 s wait after the last GUILD_CREATE). Then a
warm-up, then ``--seconds`` of load: ``--in-flight`` students at once, each in a random
server, typing into ``/define``'s autocomplete twice and then sending ``/define``
(cooldowns off: one student per server sends what a class would)
(injected as INTERACTION_CREATE on the right shard's session; latency is from injection
to the bot's interaction callback). Printed: interactions per second, p50/p99 per kind,
answers that were wrong or missing, per process CPU and RSS, database connections
(SQLite: connections each process holds on the file, from /proc; PostgreSQL: ``SELECT
count(*) FROM pg_stat_activity`` on the run's database, sampled during the load), the
database's size, the IDENTIFYs Discord would have refused (its limit is one per 5 s per
``max_concurrency`` bucket across all processes), and the load average.

Bounds: every wait has a timeout, the whole run a deadline; the bots are stopped with
SIGTERM (killed if they do not exit) and die with this process (``PR_SET_PDEATHSIG``);
everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bench.e2e import percentile
from bench.report import Row, short_size
from bot.sandbox.fake import FakeDiscord, FakeMember, WaitTimeout

if TYPE_CHECKING:
    from bench.core import Context

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-scale-token"
CARD_COLOUR = 0x5865F2
KIND_MIX = ("autocomplete", "autocomplete", "define")  # a student types, then sends
INTERACTION_TIMEOUT = 5.0  # Discord gives up after 3 s; the fake refuses later answers
READY_TIMEOUT = 240.0  # every process: load the glossary, identify every shard
STOP_TIMEOUT = 20.0
WARMUP_S = 3.0
MAX_SECONDS = 300.0
BUDGET_S = {False: 150.0}  # bench.run full mode only: the bound on a slow machine
EXPECTED_S = 120.0  # a full run here: 16 IDENTIFYs 5.5 s apart (~90 s), then 15 s of load
SCALE_SIZE_CAP = 10_000


@dataclass(frozen=True)
class Settings:
    processes: int = 4
    shards_per_process: int = 4
    guilds: int = 16_000
    seconds: float = 20.0
    in_flight: int = 64
    database_url: str | None = None
    pool_size: int = 10
    keep_logs: Path | None = None  # copy each bot's log here (the work dir goes)

    @property
    def shard_count(self) -> int:
        return self.processes * self.shards_per_process

    def shard_ids(self, index: int) -> list[int]:
        start = index * self.shards_per_process
        return list(range(start, start + self.shards_per_process))


@dataclass
class BotChild:
    index: int
    shard_ids: list[int]
    process: asyncio.subprocess.Process
    log_path: Path
    database: Path
    local_index: Path
    ready_at: float | None = None
    printed: bytearray = field(default_factory=bytearray)


@dataclass
class Results:
    settings: Settings
    mode: str
    terms: int
    started_all_s: float | None = None
    ready_s: list[float | None] = field(default_factory=list)
    identifies: int = 0
    identifies_too_soon: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    answered: int = 0
    wrong: int = 0
    failed: int = 0
    seconds: float = 0.0
    per_process_answered: list[int] = field(default_factory=list)
    cpu_s: list[float | None] = field(default_factory=list)
    rss_mb: list[float | None] = field(default_factory=list)
    fake_busy: float = 0.0
    fake_rss_mb: float | None = None
    connections: str = "-"
    database_size_ready: str = "-"
    database_size: str = "-"
    loadavg_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    loadavg_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    errors_logged: int = 0
    error_samples: list[str] = field(default_factory=list)  # the first few, to say why
    late_callbacks: int = 0
    stopped: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0


# ----- /proc ------------------------------------------------------------------------------


def _proc(pid: int, name: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def cpu_seconds(pid: int) -> float | None:
    stat = _proc(pid, "stat")
    if stat is None:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    for line in (_proc(pid, "status") or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def open_handles(pid: int, path: Path) -> int:
    """Descriptors a process holds on ``path`` itself: one per SQLite connection (its -wal
    and -shm files are not counted)."""
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    count = 0
    for entry in entries:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{entry}") == str(path):
                count += 1
    return count


def _die_with_parent() -> None:
    """Runs in each child before exec: SIGTERM it when this process dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# ----- PostgreSQL (only with --database-url) ----------------------------------------------


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def _pg(url: str, sql: str) -> Any:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


# ----- the bots ---------------------------------------------------------------------------


def write_config(path: Path, fake: FakeDiscord, terms: Path, database: Path,
                 shard_count: int, shard_ids: list[int], database_url: str | None,
                 pool_size: int, local_index: Path) -> None:
    lines = [
        f'content_dir = "{terms}"',
        f'database = "{database}"',
        f'discord_api_url = "{fake.api_base_url}"',
        f'discord_gateway_url = "{fake.gateway_url}"',
        f"shard_count = {shard_count}",
        f"shard_ids = {shard_ids}",
        f"embed_colour = {CARD_COLOUR}",
        # One student per server sends what a whole class would: the per-student cooldown
        # (5 in 10 s) would answer "slow down" instead of the card being measured.
        "cooldown_uses = 0",
        'log_level = "INFO"',
    ]
    if database_url:
        lines += [f'database_url = "{database_url}"', f"database_pool_size = {pool_size}",
                  f'local_index = "{local_index}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def start_child(index: int, settings: Settings, fake: FakeDiscord, terms: Path,
                      work: Path, database_url: str | None) -> BotChild:
    shard_ids = settings.shard_ids(index)
    shared = database_url is None
    database = work / ("shared.sqlite3" if shared else f"bot{index}.sqlite3")
    config = work / f"bot{index}.toml"
    write_config(config, fake, terms, database, settings.shard_count, shard_ids,
                 database_url, settings.pool_size, work / f"bot{index}-index.sqlite3")
    # (with database_url, the bot's SQLite file may be its local_index instead: both are
    # counted and measured)
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLOSSARY_CONFIG", "GLOSSARY_DATABASE_URL")}
    env["DISCORD_TOKEN"] = TOKEN
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent,
    )
    return BotChild(index, shard_ids, process, work / f"bot{index}.log", database,
                    work / f"bot{index}-index.sqlite3")


async def drain(child: BotChild, loop_time: Callable[[], float]) -> None:
    """Keep reading what the bot prints (a full pipe would stall it); note when it is ready."""
    assert child.process.stdout is not None
    with child.log_path.open("wb") as log_file:
        while line := await child.process.stdout.readline():
            log_file.write(line)
            if child.ready_at is None and b"Ready as " in line:
                child.ready_at = loop_time()


async def stop_child(child: BotChild) -> None:
    if child.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(child.process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"


def errors_logged(path: Path) -> list[str]:
    """ERROR lines and uncaught tracebacks a bot printed (the log goes with the work dir)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        if " ERROR " in line or "[ERROR" in line:
            found.append(line)
        elif line.startswith("Traceback"):
            # the exception is the traceback's last line: the first one not indented
            after = next((later for later in lines[number + 1:]
                          if later and not later.startswith((" ", "\t"))), "")
            found.append(f"Traceback ... {after}")
    return found


# ----- the load ---------------------------------------------------------------------------


class Load:
    """Students in random servers; payloads built as Discord sends them."""

    def __init__(self, fake: FakeDiscord, queries: dict[str, list[str]], seed: int = 20) -> None:
        self.fake = fake
        self.rng = random.Random(seed)
        self.students: list[FakeMember] = [
            next(m for m in g.members if m.username == "student") for g in fake.guilds
        ]
        self.queries = queries
        self._data: dict[tuple[str, str], dict[str, Any]] = {}

    def payload(self, kind: str) -> tuple[dict[str, Any], FakeMember]:
        query = self.rng.choice(self.queries[kind])
        data = self._data.get((kind, query))
        if data is None:
            focused = "term" if kind == "autocomplete" else None
            data = self._data[(kind, query)] = self.fake.command_data(
                "define", (), {"term": query}, focused=focused)
        student = self.rng.choice(self.students)
        type_ = 4 if kind == "autocomplete" else 2
        return self.fake.interaction_payload(type_, data, member=student), student


def answer_ok(kind: str, callback: dict[str, Any]) -> bool:
    data = callback.get("data") or {}
    if kind == "autocomplete":
        return callback.get("type") == 8 and "choices" in data
    embeds = data.get("embeds") or []
    return callback.get("type") == 4 and bool(embeds) and embeds[0].get("color") == CARD_COLOUR


def workload(glossary: Path) -> dict[str, list[str]]:
    queries = json.loads((glossary / "queries.json").read_text(encoding="utf-8"))
    return {
        "define": queries["slug"] + queries["odd_spelling"],
        "autocomplete": queries["prefix_1_3"] + queries["prefix_4_10"]
        + [typo for typo, _ in queries["typo"]],
    }


async def drive(load: Load, seconds: float, in_flight: int, shard_count: int,
                shards_per_process: int, results: Results | None) -> None:
    """``in_flight`` students at once for ``seconds``; figures into ``results`` (None: warm-up)."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds
    started = last = loop.time()

    async def student(number: int) -> None:
        nonlocal last
        step = number
        while loop.time() < stop_at:
            kind = KIND_MIX[step % len(KIND_MIX)]
            step += 1
            payload, member = load.payload(kind)
            try:
                reply = await load.fake.inject(payload, kind, timeout=INTERACTION_TIMEOUT)
                await reply.wait_callback(INTERACTION_TIMEOUT)
            except WaitTimeout:
                if results is not None:
                    results.failed += 1
                continue
            if results is None or reply.injected_at is None:
                continue
            now = loop.time()
            last = max(last, now)
            results.latencies.setdefault(kind, []).append(now - reply.injected_at)
            results.answered += 1
            results.wrong += not answer_ok(kind, reply.callback or {})
            shard = (member.guild_id >> 22) % shard_count
            results.per_process_answered[shard // shards_per_process] += 1

    await asyncio.gather(*(student(n) for n in range(in_flight)))
    if results is not None:
        results.seconds = max(last - started, 1e-9)


# ----- the run ----------------------------------------------------------------------------


async def measure(settings: Settings, glossary: Path, terms: int, log: Callable[[str], None],
                  deadline: float) -> Results:
    mode = "postgresql" if settings.database_url else "sqlite"
    results = Results(settings, mode, terms,
                      per_process_answered=[0] * settings.processes)
    results.loadavg_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="glossary-bench-scale-"))
    children: list[BotChild] = []
    drains: list[asyncio.Task[None]] = []
    run_url: str | None = None
    built = time.monotonic()
    # IDENTIFYs obey max_concurrency as on Discord: a process that started out of turn
    # would be refused (op 9) and show as a slower start-up and a count below.
    fake = FakeDiscord(shard_count=settings.shard_count, guild_count=settings.guilds,
                       enforce_identify_limit=True)
    fake.dispatch_message_events = False  # nobody here reads channel messages
    log(f"scale: fake with {settings.guilds} servers over {settings.shard_count} shards built "
        f"in {time.monotonic() - built:.1f} s")
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(loop.time() + (deadline - time.monotonic())):
            await fake.start()
            if settings.database_url:
                name = f"glossary_scale_{secrets.token_hex(4)}"
                await _pg(settings.database_url, f'CREATE DATABASE "{name}" TEMPLATE template0')
                run_url = _with_database(settings.database_url, name)
            launched = loop.time()
            for index in range(settings.processes):
                child = await start_child(index, settings, fake, glossary / "terms", work,
                                          run_url)
                children.append(child)
                drains.append(asyncio.create_task(drain(child, loop.time)))

            def all_ready() -> bool:
                for child in children:
                    if child.process.returncode is not None:
                        raise RuntimeError(f"bot {child.index} exited "
                                           f"({child.process.returncode}): {_tail(child.log_path)}")
                return (all(c.ready_at is not None for c in children)
                        and len(fake.connected_sessions()) >= settings.shard_count
                        and bool(fake.commands.get(None)))

            while not all_ready():
                if loop.time() - launched > READY_TIMEOUT:
                    raise RuntimeError(f"not every shard was ready within {READY_TIMEOUT:.0f} s: "
                                       + "; ".join(_tail(c.log_path, 2) for c in children))
                await asyncio.sleep(0.1)
            results.started_all_s = loop.time() - launched
            results.ready_s = [None if c.ready_at is None else c.ready_at - launched
                               for c in children]
            results.identifies = fake.identify_count
            results.identifies_too_soon = fake.identifies_too_soon() + fake.identifies_refused
            log(f"scale: {settings.processes} processes, {settings.shard_count} shards ready "
                f"in {results.started_all_s:.1f} s")

            results.database_size_ready = await _database_size(children, run_url, work)
            load = Load(fake, workload(glossary))
            await drive(load, WARMUP_S, settings.in_flight, settings.shard_count,
                        settings.shards_per_process, None)
            fake.forget_history()
            cpu_before = [cpu_seconds(c.process.pid) for c in children]
            fake_before = time.process_time()
            sampler = asyncio.create_task(_sample_connections(children, run_url, results,
                                                              settings.seconds / 2))
            await drive(load, settings.seconds, settings.in_flight, settings.shard_count,
                        settings.shards_per_process, results)
            await sampler
            results.fake_busy = (time.process_time() - fake_before) / results.seconds
            results.cpu_s = [None if b is None or a is None else a - b for b, a in zip(
                cpu_before, (cpu_seconds(c.process.pid) for c in children), strict=True)]
            results.rss_mb = [rss_mb(c.process.pid) for c in children]
            results.fake_rss_mb = rss_mb(os.getpid())
            results.late_callbacks = len(fake.late_callbacks)
            results.database_size = await _database_size(children, run_url, work)
            results.loadavg_after = os.getloadavg()
            log(f"scale: {results.answered} answers in {results.seconds:.1f} s")
    except TimeoutError:
        results.stopped = "hit the time bound"
    except (RuntimeError, OSError, WaitTimeout) as exc:
        results.stopped = f"failed: {exc}"
    finally:
        await asyncio.gather(*(stop_child(c) for c in children), return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*drains, return_exceptions=True), 10)
        logged = [line for c in children for line in errors_logged(c.log_path)]
        results.errors_logged = len(logged)
        results.error_samples = list(dict.fromkeys(line[:300] for line in logged))[:5]
        await fake.stop()
        if run_url and settings.database_url:
            with contextlib.suppress(Exception):
                await _pg(settings.database_url,
                          f'DROP DATABASE IF EXISTS "{urlsplit(run_url).path[1:]}" WITH (FORCE)')
        if results.stopped:
            log(f"scale: {results.stopped}")
        if settings.keep_logs is not None:  # whole tracebacks, beyond the samples printed
            settings.keep_logs.mkdir(parents=True, exist_ok=True)
            for child in children:
                with contextlib.suppress(OSError):
                    shutil.copy2(child.log_path, settings.keep_logs / child.log_path.name)
            log(f"scale: bot logs kept in {settings.keep_logs}")
        shutil.rmtree(work, ignore_errors=True)
    return results


async def _sample_connections(children: list[BotChild], run_url: str | None,
                              results: Results, after: float) -> None:
    """Connections in use halfway through the load."""
    await asyncio.sleep(after)
    sqlite = [open_handles(c.process.pid, c.database) + open_handles(c.process.pid, c.local_index)
              for c in children]
    text = f"SQLite: {sum(sqlite)} on the database file(s) ({'/'.join(map(str, sqlite))})"
    if run_url:
        try:
            count = await _pg(run_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                       "current_database() AND pid <> pg_backend_pid()")
        except Exception as exc:  # noqa: BLE001 - a figure we could not read, said so
            text += f"; PostgreSQL: unreadable ({exc.__class__.__name__})"
        else:
            text += f"; PostgreSQL: {count} (pg_stat_activity)"
            if count == 0:
                results.notes.append("no bot process connected to PostgreSQL: this build "
                                     "keeps shared state in SQLite even with database_url")
    results.connections = text


async def _database_size(children: list[BotChild], run_url: str | None, work: Path) -> str:
    files = {f for c in children for f in (c.database, c.local_index) if f.exists()}
    main = sum(f.stat().st_size for f in files if f.exists())
    wal = sum(w.stat().st_size for w in (f.with_name(f.name + "-wal") for f in files)
              if w.exists())
    text = f"SQLite {main / 1e6:.1f} MB + WAL {wal / 1e6:.1f} MB in {len(files)} file(s)"
    if run_url:
        with contextlib.suppress(Exception):
            size = await _pg(run_url, "SELECT pg_database_size(current_database())")
            text += f"; PostgreSQL {size / 1e6:.1f} MB"
    return text


# ----- output -----------------------------------------------------------------------------


def _ms(samples: Sequence[float]) -> str:
    if not samples:
        return "-"
    return (f"p50 {percentile(samples, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.1f} ms")


def _fmt(values: Sequence[float | None], spec: str) -> str:
    return "/".join("-" if v is None else format(v, spec) for v in values)


def report(results: Results) -> list[str]:
    s = results.settings
    lines = [
        f"scale run ({results.mode}): {s.processes} processes x {s.shards_per_process} shards = "
        f"{s.shard_count} shards, {s.guilds} servers ({s.guilds // max(1, s.shard_count)} per "
        f"shard), glossary {short_size(results.terms)}, {s.in_flight} students at once",
        "  start-up to all shards ready: "
        + ("-" if results.started_all_s is None else f"{results.started_all_s:.1f} s")
        + f" (per process {_fmt(results.ready_s, '.1f')} s); {results.identifies} IDENTIFYs, "
        f"{results.identifies_too_soon} of them within 5 s of another in their bucket "
        "(refused with op 9, as Discord refuses them: max_concurrency 1)",
        f"  interactions/s: {results.rate:.0f} ({results.answered} answers in "
        f"{results.seconds:.1f} s; per process {'/'.join(map(str, results.per_process_answered))})",
    ]
    for kind in ("define", "autocomplete"):
        samples = results.latencies.get(kind, [])
        lines.append(f"  {kind}: {len(samples)} answers, {_ms(samples)}")
    total_cpu = sum(c for c in results.cpu_s if c is not None)
    lines += [
        f"  wrong answers {results.wrong}, unanswered {results.failed}, late "
        f"{results.late_callbacks}, errors logged {results.errors_logged}",
        f"  bot CPU during the load: {_fmt(results.cpu_s, '.1f')} s "
        f"({total_cpu * 1000 / max(1, results.answered):.2f} ms per answer, all processes)",
        f"  bot RSS at the end: {_fmt(results.rss_mb, '.0f')} MB; fake + load generator "
        f"{results.fake_rss_mb or 0:.0f} MB, busy {results.fake_busy:.2f} core "
        "(near 1 = the fake sets the pace)",
        f"  connections: {results.connections}",
        f"  database size: {results.database_size_ready} when ready; "
        f"{results.database_size} after the load",
        f"  load average before {_fmt(results.loadavg_before, '.2f')}, after "
        f"{_fmt(results.loadavg_after, '.2f')} ({os.cpu_count()} cores)",
    ]
    lines += [f"  note: {note}" for note in results.notes]
    lines += [f"  error logged: {line}" for line in results.error_samples]
    if results.stopped:
        lines.append(f"  stopped: {results.stopped}")
    return lines


def rows(results: Results, size: int) -> list[Row]:
    """The scale run in bench.run's table (figures only: the issue sets no target here)."""
    s = results.settings
    section = (f"scale ({results.mode}, {s.processes} x {s.shards_per_process} shards, "
               f"{s.guilds} servers, real bot processes)")

    def pair(kind: str) -> tuple[float, float] | str:
        samples = results.latencies.get(kind, [])
        if not samples:
            return "-"
        return percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000

    rss = [r for r in results.rss_mb if r is not None]
    return [
        Row(section, "start-up to all shards ready", "s", {size: results.started_all_s},
            note=f"{results.identifies_too_soon} IDENTIFYs refused (op 9)"),
        Row(section, "interactions/s (autocomplete x2 : /define)", "/s", {size: results.rate},
            note=f"{s.in_flight} in flight, fake busy {results.fake_busy:.2f} core"),
        Row(section, "  /define p50/p99", "ms", {size: pair("define")}),
        Row(section, "  autocomplete p50/p99", "ms", {size: pair("autocomplete")}),
        Row(section, "bot RSS per process (max)", "MB", {size: max(rss) if rss else None}),
        Row(section, "wrong + unanswered + errors logged", "n",
            {size: float(results.wrong + results.failed + results.errors_logged)},
            note=results.stopped[:120] or results.connections[:120]),
    ]


def time_needed(quick: bool) -> float:
    """Heavy (16 shards in 4 processes): only in a full bench.run, not with --quick."""
    return 0.0 if quick else EXPECTED_S


def collect(ctx: Context, log: Callable[[str], None] = print) -> list[Row]:
    modest = [s for s in ctx.sizes if s <= SCALE_SIZE_CAP]
    size = max(modest) if modest else min(ctx.sizes)
    section = "scale (python -m bench.scale)"
    if ctx.quick:
        return [Row(section, "scale run", "", {size: "skipped"},
                    note="not in --quick: python -m bench.scale")]
    deadline = min(ctx.deadline - ctx.reserve, time.monotonic() + BUDGET_S[False])
    if deadline - time.monotonic() < 90:
        return [Row(section, "scale run", "", {size: "skipped"},
                    note="not enough time left in the run")]
    settings = Settings(seconds=15.0)
    results = asyncio.run(measure(settings, ctx.glossaries[size], size, log, deadline))
    for line in report(results):
        log(line)
    return rows(results, size)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split(
        "\n", 1)[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--shards-per-process", type=int, default=4)
    parser.add_argument("--guilds", type=int, default=16_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the load")
    parser.add_argument("--in-flight", type=int, default=64, help="students at once")
    parser.add_argument("--terms", type=int, default=10_000, help="glossary size")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server: a fresh database is made on it for the run")
    parser.add_argument("--pool-size", type=int, default=10,
                        help="database_pool_size of each process (PostgreSQL mode)")
    parser.add_argument("--keep-logs", type=Path, default=None, metavar="DIR",
                        help="copy each bot's log (bot0.log, ...) into DIR after the run")
    args = parser.parse_args(argv)
    if min(args.processes, args.shards_per_process, args.guilds, args.in_flight) < 1:
        parser.error("--processes, --shards-per-process, --guilds and --in-flight must be >= 1")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be more than 0 and at most {MAX_SECONDS:.0f}")
    from bench.generate import ensure_glossary

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    settings = Settings(args.processes, args.shards_per_process, args.guilds, args.seconds,
                        args.in_flight, args.database_url, args.pool_size, args.keep_logs)
    glossary = ensure_glossary(args.terms)
    deadline = time.monotonic() + READY_TIMEOUT + WARMUP_S + args.seconds + 60
    results = asyncio.run(measure(settings, glossary, args.terms, log, deadline))
    print("\n".join(report(results)))
    if results.stopped:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
