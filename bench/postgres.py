"""A PostgreSQL database for a benchmark run: a scratch database on a given server, or on
a throwaway cluster started for the run (``.ci/postgres``), dropped and stopped after.

``bench.e2e --postgres`` uses it; the server is ``--database-url``, else the tests'
``GLOSSARY_TEST_POSTGRES``, else a cluster of its own (Debian's postgresql must be
installed; ``.ci/postgres`` installs it when run as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres"
SERVER_ENV = "GLOSSARY_TEST_POSTGRES"


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def _throwaway_cluster(log: Callable[[str], None]) -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="glossary-bench-pg-"))
    directory.rmdir()  # the script makes it, owned by the cluster's user
    result = subprocess.run([str(SCRIPT), "start", str(directory)], capture_output=True,
                            text=True, timeout=180, check=False)
    if result.returncode != 0 or "=" not in result.stdout:
        raise RuntimeError(f"could not start a PostgreSQL cluster: {result.stderr[-300:]}")
    log(f"postgres: a throwaway cluster in {directory}")
    try:
        yield result.stdout.strip().split("=", 1)[1]
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True,
                       timeout=120, check=False)


@contextlib.contextmanager
def scratch_database(server: str | None, log: Callable[[str], None] = print) -> Iterator[str]:
    """The URL of a new, empty database; dropped at the end (the cluster too, if ours)."""
    with contextlib.ExitStack() as stack:
        server = server or os.environ.get(SERVER_ENV) or stack.enter_context(
            _throwaway_cluster(log))
        name = f"glossary_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}" TEMPLATE template0'))
        try:
            yield _with_database(server, name)
        finally:
            asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
