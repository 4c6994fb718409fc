"""Run ``python -m bot`` (or ``glossary-bot`` subcommands) as a user would, to the end.

``bot_process`` in the harness yields a bot that has connected; these tests also need
processes that never get that far (a rejected token, no network) and one-shot commands
(``doctor``, ``backup``), so they wait for the exit instead.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: str

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def write_config(work_dir: Path, content_dir: Path, *, api_url: str | None = None,
                 gateway_url: str | None = None, database: Path | None = None,
                 extra: str = "") -> Path:
    """A config.toml for a process pointed at a fake Discord (or at nothing)."""
    lines = [f'content_dir = "{content_dir}"',
             f'database = "{database or work_dir / "proc.sqlite3"}"']
    if api_url:
        lines.append(f'discord_api_url = "{api_url}"')
    if gateway_url:
        lines.append(f'discord_gateway_url = "{gateway_url}"')
    path = work_dir / "config.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def environment(token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GLOSSARY_CONFIG", "DISCORD_TOKEN")}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return env


async def run_to_end(*args: str, token: str | None = "fake-token", timeout: float = 60,
                     stdin: bytes | None = None) -> Finished:
    """``python -m bot ARGS`` to its exit; stdout and stderr together, in order."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=REPO_ROOT, env=environment(token),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        raise AssertionError(f"python -m bot {' '.join(args)} did not finish within "
                             f"{timeout}s:\n{out.decode(errors='replace')[-3000:]}") from None
    return Finished(process.returncode or 0, out.decode(errors="replace"))
