"""The deployment files: the systemd unit verified by systemd itself, and the Dockerfile
parsed and its install and start commands run as a container would run them (no Docker
engine here): a fresh virtual environment, a non-root user, a read-only content dir."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from tests.support.fake_discord import FakeDiscord

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "glossary-bot.service"
NOBODY = 65534


def dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    return [(parts[0].upper(), parts[1].strip()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
            for parts in [line.strip().split(None, 1)]]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def exec_form(args: str) -> list[str]:
    return json.loads(args[args.index("["):])


def unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


# -- systemd ---------------------------------------------------------------------------

def test_the_unit_restarts_on_failure_and_can_write_only_its_state_dir():
    values = unit()
    assert values["Restart"] == ["on-failure"]
    assert values["NoNewPrivileges"] == ["yes"]
    assert values["ProtectSystem"] == ["strict"]
    assert values["ReadWritePaths"] == ["/var/lib/glossary-bot"]
    assert values["StateDirectory"] == ["glossary-bot"]
    assert values["EnvironmentFile"] == ["/etc/glossary-bot/env"]
    assert not any("DISCORD_TOKEN" in v for v in values.get("Environment", []))
    assert values["User"] == ["glossary"]
    config = tomllib.loads((REPO / "deploy" / "config.systemd.toml").read_text())
    for key in ("database", "heartbeat_file", "backup_dir"):  # all inside the writable dir
        assert config[key].startswith("/var/lib/glossary-bot/"), key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (apt-get install systemd; .ci/run does)")
def test_systemd_analyze_verifies_the_unit_without_a_warning(tmp_path):
    """verify also checks that ExecStart exists: point it at this checkout's command."""
    # the command installed beside the Python running the tests (CI's .venv, or any venv)
    installed = Path(sys.executable).with_name("glossary-bot")
    text = UNIT.read_text().replace("/opt/glossary-bot/.venv/bin/glossary-bot", str(installed))
    checked = tmp_path / "glossary-bot.service"
    checked.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(checked)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    broken = tmp_path / "broken-bot.service"
    broken.write_text(text.replace("NoNewPrivileges=", "NoNewPrivilege="))
    result = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True,
                            text=True, timeout=60)
    assert "Unknown key" in result.stderr  # the check above can fail


# -- Dockerfile ------------------------------------------------------------------------

def test_the_dockerfile_is_slim_non_root_with_volumes_and_a_healthcheck():
    assert instructions("FROM") == ["python:3.11-slim"]
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in run and users[-1] in run for run in instructions("RUN"))
    assert exec_form(instructions("VOLUME")[0]) == ["/content", "/state"]
    health = instructions("HEALTHCHECK")[0]
    assert exec_form(health) == ["glossary-bot", "health"]
    assert exec_form(instructions("CMD")[0]) == ["glossary-bot", "run"]
    config = tomllib.loads((REPO / "deploy" / "config.docker.toml").read_text())
    assert config["content_dir"] == "/content" and config["database"].startswith("/state/")
    assert config["health_port"]  # what the HEALTHCHECK asks
    assert "token" not in config


def world_readable_dir() -> Path:
    """pytest's tmp_path is private to root; the unprivileged user must read the venv."""
    path = Path(tempfile.mkdtemp(prefix="glossary-docker-"))
    path.chmod(0o755)
    return path


def build_context(root: Path) -> Path:
    """Copy what the Dockerfile's COPY lines take, into ``root`` as the image would
    lay it out; returns WORKDIR's copy (where ``pip install .`` runs)."""
    workdir = root / "src"
    for args in instructions("COPY"):
        *sources, target = shlex.split(args)
        base = workdir if not target.startswith("/") else root
        destination = base / target.lstrip("/").removeprefix("./")
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                shutil.copytree(origin, destination if len(sources) == 1 else
                                destination / origin.name, dirs_exist_ok=True)
            else:
                (destination if target.endswith("/") else destination.parent).mkdir(
                    parents=True, exist_ok=True)
                shutil.copy(origin, destination / origin.name if target.endswith("/")
                            else destination)
    return workdir


def as_nobody(*command: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("setpriv") is None or os.getuid() != 0,
                    reason="needs root and setpriv to run the bot as an unprivileged user")
async def test_the_dockerfile_commands_install_and_run_as_non_root_on_read_only_content():
    root = world_readable_dir()
    try:
        await _install_and_run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _install_and_run(root: Path) -> None:
    workdir = build_context(root)
    python = shutil.which("python3.11", path="/usr/bin:/bin") or shutil.which("python3.11")
    venv = root / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": str(root / "state")}
    for instruction, args in dockerfile():
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    pip_runs = [run for run in instructions("RUN") if run.startswith("pip ")]
    assert pip_runs == ["pip install ."]
    for run in pip_runs:  # as root, as docker build runs them
        subprocess.run(shlex.split(run), cwd=workdir, env={**os.environ, **env}, check=True,
                       timeout=900, capture_output=True)
    content, state = root / "content", root / "state"
    state.mkdir()
    os.chown(state, NOBODY, NOBODY)
    for path in [content, *content.rglob("*")]:  # read-only, as a :ro volume
        path.chmod(0o555 if path.is_dir() else 0o444)
    async with FakeDiscord() as fake:
        config = tomllib.loads((root / "etc/glossary-bot/config.toml").read_text())
        lines = [f'{key} = {json.dumps(value)}' for key, value in config.items()
                 if key not in ("content_dir", "database", "backup_dir", "health_port")]
        port = _free_port()
        lines += [f'content_dir = "{content}"', f'database = "{state}/glossary.sqlite3"',
                  f'backup_dir = "{state}/backups"', f"health_port = {port}",
                  f'discord_api_url = "{fake.api_base_url}"',
                  f'discord_gateway_url = "{fake.gateway_url}"']
        config_path = root / "config.toml"
        config_path.write_text("\n".join(lines) + "\n")
        env.update(GLOSSARY_CONFIG=str(config_path), DISCORD_TOKEN="fake-token")
        process = await asyncio.create_subprocess_exec(
            *as_nobody(*exec_form(instructions("CMD")[0])), cwd=state, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await fake.wait_until(lambda: fake.commands.get(None), 60, "the command sync")
            await fake.wait_for_session(timeout=20)
            reply = await fake.slash("define", term="backend")
            assert reply.embeds[0]["title"] == "backend"
            health = as_nobody(*exec_form(instructions("HEALTHCHECK")[0]))
            for _ in range(100):
                check = await asyncio.to_thread(subprocess.run, health, env=env,
                                                capture_output=True, text=True, timeout=30)
                if check.returncode == 0:
                    break
                await asyncio.sleep(0.2)
            assert check.returncode == 0, check.stderr
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(process.communicate(), 30)
    output = out.decode(errors="replace")
    assert process.returncode == 0, output[-3000:]
    assert (state / "glossary.sqlite3").stat().st_uid == NOBODY
    assert list((state / "backups").glob("glossary-*.sqlite3"))  # the daily one, at start
    assert all(json.loads(line) for line in output.splitlines())  # log_format = "json"
    assert not stat.S_IMODE(content.stat().st_mode) & 0o222


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- PostgreSQL variant ------------------------------------------------------------------

POSTGRES_COMPOSE = REPO / "compose.postgres.yaml"
PG_ENV_URL = "postgresql://glossary:secret@db.example.org:5432/glossary"


def compose(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_the_postgres_compose_override_adds_a_healthy_server_with_a_volume():
    """No Docker engine here: the override is read as compose would merge it."""
    base, override = compose(REPO / "compose.yaml"), compose(POSTGRES_COMPOSE)
    assert set(override["services"]) == {"postgres", "glossary-bot"}
    assert "glossary-bot" in base["services"]  # the override names the same service
    postgres = override["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume, target = postgres["volumes"][0].split(":")[:2]
    assert target == "/var/lib/postgresql/data" and volume in override["volumes"]
    assert "ports" not in postgres  # reachable from the bot's network only
    password = postgres["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")  # from .env, never written here
    bot = override["services"]["glossary-bot"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = bot["environment"]["GLOSSARY_DATABASE_URL"]
    user, database = postgres["environment"]["POSTGRES_USER"], postgres["environment"][
        "POSTGRES_DB"]
    assert re.fullmatch(rf"postgresql://{user}:\$\{{POSTGRES_PASSWORD:\?[^}}]*\}}@postgres:5432/"
                        rf"{database}", url), url


def test_the_container_config_takes_the_url_from_compose_and_keeps_its_index_in_state():
    from bot.config import load_config

    url = compose(POSTGRES_COMPOSE)["services"]["glossary-bot"]["environment"][
        "GLOSSARY_DATABASE_URL"]
    substituted = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "secret", url)
    config = load_config(REPO / "deploy" / "config.docker.toml",
                         {"GLOSSARY_DATABASE_URL": substituted})
    assert config.database_url == substituted
    assert str(config.local_index).startswith("/state/")  # the only writable volume
    without = load_config(REPO / "deploy" / "config.docker.toml", {})
    assert without.database_url is None  # plain compose.yaml: SQLite, as before


def test_the_postgres_host_config_loads_and_keeps_the_password_out_of_the_file():
    from bot.config import load_config

    path = REPO / "deploy" / "config.postgres.toml"
    raw = tomllib.loads(path.read_text())
    assert "database_url" not in raw and "token" not in raw
    assert not str(raw.get("database", "")).startswith("postgres")
    config = load_config(path, {"GLOSSARY_DATABASE_URL": PG_ENV_URL})
    assert config.database_url == PG_ENV_URL and config.database_pool_size >= 1
    for key in ("database", "local_index", "heartbeat_file"):  # the unit's writable dir
        assert str(getattr(config, key)).startswith("/var/lib/glossary-bot/"), key
    assert config.local_index != config.database
    assert load_config(path, {}).database_url is None  # the URL comes from the env file


def test_the_template_unit_differs_from_the_unit_only_in_its_instance_config():
    single = [line for line in UNIT.read_text().splitlines() if not line.startswith("#")]
    template = [line for line in (REPO / "deploy" / "glossary-bot@.service").read_text()
                .splitlines() if not line.startswith("#")]
    changed = [(a, b) for a, b in zip(single, template, strict=True) if a != b]
    assert [b for _, b in changed] == [
        "Description=glossary-bot %i, the Discord glossary for the class",
        "Environment=GLOSSARY_CONFIG=/etc/glossary-bot/%i.toml",
    ]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (apt-get install systemd; .ci/run does)")
def test_systemd_analyze_verifies_an_instance_of_the_template_unit(tmp_path):
    installed = Path(sys.executable).with_name("glossary-bot")
    text = (REPO / "deploy" / "glossary-bot@.service").read_text().replace(
        "/opt/glossary-bot/.venv/bin/glossary-bot", str(installed))
    instance = tmp_path / "glossary-bot@shards-0-3.service"
    instance.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    instance.write_text(text.replace("ProtectHome=", "ProtectHomes="))
    result = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True,
                            text=True, timeout=60)
    assert "Unknown key" in result.stderr  # the check above can fail
