"""``glossary-bot sandbox`` as a process: prints its address, serves, stops cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from tests.conftest import REPO_ROOT

START_TIMEOUT = 30.0
ADDRESS = re.compile(rb"Sandbox running at (http://127\.0\.0\.1:(\d+)/)")


def write_config(tmp_path: Path, config: Config) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'content_dir = "{config.content_dir}"\ndatabase = "{config.database}"\n',
                    encoding="utf-8")
    return path


def no_token_env() -> dict[str, str]:
    """No token and no config from the environment: the sandbox needs neither."""
    return {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "GLOSSARY_CONFIG")}


async def start_sandbox(tmp_path: Path, config: Config, *args: str,
                        stderr_path: Path) -> asyncio.subprocess.Process:
    with stderr_path.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(write_config(tmp_path, config)),
            "sandbox", *args, cwd=REPO_ROOT, env=no_token_env(),
            stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )


def listening_hosts(pid: int) -> list[str]:
    """The local addresses of the process's listening TCP sockets, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    hosts = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                    continue
                address = fields[1].split(":")[0]
                if len(address) == 8:
                    hosts.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))
                    hosts.append(socket.inet_ntop(socket.AF_INET6, raw))
    return hosts


async def test_prints_its_address_serves_the_page_and_stops_on_sigterm(tmp_path, config):
    stderr_path = tmp_path / "stderr.txt"
    child = await start_sandbox(tmp_path, config, "--port", "0", stderr_path=stderr_path)
    try:
        assert child.stdout is not None
        output = b""
        async with asyncio.timeout(START_TIMEOUT):
            while not (match := ADDRESS.search(output)):
                line = await child.stdout.readline()
                assert line, "exited early: " + stderr_path.read_text(errors="replace")[-2000:]
                output += line
        url = match.group(1).decode()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            async with http.get(url) as response:
                assert response.status == 200
                assert "Glossary Sandbox" in await response.text()
            async with http.post(url + "api/command", json={"text": "/define backend"}) as r:
                result = await r.json()
        assert result["message"]["embeds"][0]["title"] == "backend"
        if os.path.isdir(f"/proc/{child.pid}/fd"):
            hosts = listening_hosts(child.pid)
            assert len(hosts) >= 2 and set(hosts) == {"127.0.0.1"}, hosts
        assert (config.database.parent / "sandbox.sqlite3").exists()
        assert not config.database.exists()
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        await asyncio.wait_for(child.wait(), 20)
    errors = stderr_path.read_text(errors="replace")
    assert child.returncode == 0, errors[-3000:]
    assert "Traceback" not in errors


async def test_a_taken_port_is_a_clear_error_with_status_2(tmp_path, config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stderr_path = tmp_path / "stderr.txt"
        child = await start_sandbox(tmp_path, config, "--port", str(port),
                                    stderr_path=stderr_path)
        try:
            await asyncio.wait_for(child.wait(), START_TIMEOUT)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    errors = stderr_path.read_text(errors="replace")
    assert child.returncode == 2, errors
    assert f"error: cannot listen on 127.0.0.1:{port}" in errors
    assert "--port" in errors
    assert "Traceback" not in errors


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_an_impossible_port_is_a_usage_error(port, tmp_path, config, capsys):
    from bot.cli import main

    assert main(["--config", str(write_config(tmp_path, config)), "sandbox", "--port", port]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
