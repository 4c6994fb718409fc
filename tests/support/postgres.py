"""A real PostgreSQL for the tests: the throwaway cluster `.ci/postgres` starts.

`.ci/run` starts one and exports ``GLOSSARY_TEST_POSTGRES`` (a URL with a password, on
127.0.0.1); each test that asks for ``pg_url`` gets a new, empty database on it, dropped
afterwards, so tests never see each other's rows. Without the variable those tests skip and
say why. Tests that stop and start the server (faults) take ``own_postgres``: a private
cluster of their own, so the shared one is never interrupted.

Locally: ``eval "$(.ci/postgres start /tmp/my-pg)"`` then run pytest; ``.ci/postgres stop
/tmp/my-pg`` afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_ENV = "GLOSSARY_TEST_POSTGRES"
SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "postgres"
SKIP_REASON = (f"no PostgreSQL for the tests: {PG_ENV} is not set (`.ci/run` starts one; "
               "locally: eval \"$(.ci/postgres start /tmp/pg)\")")


def server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _admin(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def fresh_database(url: str) -> AsyncIterator[str]:
    """A new database on the server at ``url``; dropped (even if still in use) at the end."""
    name = f"glossary_test_{secrets.token_hex(6)}"
    await _admin(url, f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield with_database(url, name)
    finally:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """An empty database of its own on the tests' PostgreSQL server (skips without one)."""
    url = server_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    async for database_url in fresh_database(url):
        yield database_url


@dataclass
class OwnPostgres:
    """A private cluster a test may stop and start (``stop()``, ``start()``)."""

    directory: Path
    url: str

    def _pg_ctl(self, *args: str) -> None:
        data = self.directory / "data"
        command = [*_pg_bin("pg_ctl"), "-D", str(data), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    async def stop(self) -> None:
        await asyncio.to_thread(self._pg_ctl, "-m", "fast", "-w", "stop")

    async def start(self) -> None:
        port = urlsplit(self.url).port
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {self.directory} "
                   "-c max_connections=200 -c fsync=off")
        await asyncio.to_thread(self._pg_ctl, "-l", str(self.directory / "server.log"),
                                "-w", "-t", "60", "-o", options, "start")


def _pg_bin(name: str) -> list[str]:
    """pg_ctl as the cluster's owner: nobody when we are root (see .ci/postgres)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    binary = str(found[-1]) if found else (shutil.which(name) or name)
    return ["runuser", "-u", "nobody", "--", binary] if os.geteuid() == 0 else [binary]


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A private throwaway cluster (about a second and a half to start); skips when this
    machine has no PostgreSQL server binaries."""
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no PostgreSQL server binaries here (Debian's postgresql package)")
    directory = Path(tempfile.mkdtemp(prefix="glossary-own-pg-"))
    directory.rmdir()  # the script makes it, owned by the cluster's user
    result = subprocess.run([str(SCRIPT), "start", str(directory)], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0 or "export" not in result.stdout:
        pytest.skip(f"could not start a private PostgreSQL: {result.stderr.strip()[-300:]}")
    url = result.stdout.strip().split("=", 1)[1]
    try:
        yield OwnPostgres(directory, url)
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """Where the shared state lives, for the store's contract tests: ``None`` (SQLite, the
    default) or the URL of an empty PostgreSQL database (skips, saying why, without one).
    One fixture, so each contract test is written once and runs on both."""
    if request.param == "sqlite":
        yield None
        return
    url = server_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    async for database_url in fresh_database(url):
        yield database_url
