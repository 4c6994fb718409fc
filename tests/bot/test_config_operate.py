"""The config keys for operating the bot: off by default, paths beside the config file,
and impossible values refused at start-up with the key named."""

from __future__ import annotations

import pytest

from bot.config import Config, load_config
from bot.errors import ConfigError


def load(tmp_path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, environ={})


def test_health_metrics_heartbeat_and_backups_are_off_by_default(tmp_path):
    config = load(tmp_path, "")
    assert config.health_port is None and config.heartbeat_file is None
    assert config.backup_dir is None and config.log_format == "text"


def test_paths_are_relative_to_the_config_file(tmp_path):
    config = load(tmp_path, 'heartbeat_file = "state/beat.json"\nbackup_dir = "backups"\n'
                  "health_port = 8080\nbackup_keep = 3\n")
    assert config.heartbeat_file == tmp_path / "state" / "beat.json"
    assert config.backup_dir == tmp_path / "backups"
    assert (config.health_port, config.backup_keep) == (8080, 3)


@pytest.mark.parametrize(("text", "message"), [
    ("health_port = 70000\n", "health_port must be a port number"),
    ("health_port = \"8080\"\n", "health_port must be a whole number"),
    ("health_max_heartbeat_age = 0\n", "health_max_heartbeat_age must be more than 0"),
    ("backup_keep = 0\n", "backup_keep must be 1 or more"),
    ('log_format = "yaml"\n', "log_format must be one of text, json"),
])
def test_impossible_values_are_refused_with_the_key_named(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_the_example_config_loads_with_every_operating_key_uncommented(tmp_path):
    from tests.conftest import REPO_ROOT

    lines = (REPO_ROOT / "config.example.toml").read_text().splitlines()
    keys = ("health_port", "health_max_heartbeat_age", "heartbeat_file", "backup_dir",
            "backup_keep", "log_format")
    opened = [line[2:] if line.startswith("# ") and line[2:].split(" =")[0] in keys
              else line for line in lines]
    config = load(tmp_path, "\n".join(opened) + "\n")
    assert config.health_port == 8080 and config.backup_keep == 7
