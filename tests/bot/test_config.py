"""Configuration: TOML file, environment overrides, and the token kept out of sight."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.errors import ConfigError, MissingToken


def test_file_values_and_environment_token(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('token = "from-file"\ncontent_dir = "terms"\ndev_guild_id = 42\n'
                    'embed_colour = "#00ff00"\nmoderator_role = "Mentors"\n')
    config = load_config(path, environ={"DISCORD_TOKEN": "from-env"})
    assert config.token == "from-env"
    assert config.content_dir == tmp_path / "terms"
    assert config.dev_guild_id == 42
    assert config.embed_colour == 0x00FF00
    assert config.moderator_role == "Mentors"
    assert "from-env" not in repr(config)


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "elsewhere.toml"
    path.write_text('course_name = "Night School"\n')
    config = load_config(environ={"GLOSSARY_CONFIG": str(path)})
    assert config.course_name == "Night School"


def test_no_file_is_fine_unless_asked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}).content_dir == Path("data/terms")
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_missing_token_says_how_to_get_one():
    with pytest.raises(MissingToken, match="DISCORD_TOKEN"):
        load_config(environ={"DISCORD_TOKEN": "   "}).require_token()


def test_wrong_types_are_config_errors(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('dev_guild_id = "not a number"\n')
    with pytest.raises(ConfigError):
        load_config(path, environ={})


def test_example_config_is_valid():
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    config = load_config(example, environ={})
    assert config.course_name == "VCA"
    assert config.token == ""


def test_unknown_timezone_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="unknown timezone"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('log_level = "LOUD"', "log_level must be one of"),
        ("log_level = 5", "log_level must be text"),
        ("timezone = 5", "timezone must be text"),
        ('auto_reload = "false"', "auto_reload must be true or false"),
        ('cooldown_uses = "five"', "cooldown_uses must be a whole number"),
        ("cooldown_uses = true", "cooldown_uses must be a whole number"),
        ("cooldown_seconds = 0", "cooldown_seconds more than 0"),
        ("content_dir = 3", "content_dir must be a path"),
        ('embed_colour = "#zzzzzz"', "embed_colour must be a whole number"),
        ("embed_colour = 99999999", "embed_colour must be a colour"),
        ('course_name = " "', "course_name must not be empty"),
        ("shard_ids = [0, 1]", "shard_ids needs shard_count"),
        ("shard_count = 2\nshard_ids = [2]", "each id must be below it"),
        ('shard_ids = ["a"]', "shard_ids must be a list of whole numbers"),
    ],
)
def test_every_wrong_value_is_a_clear_config_error(tmp_path, line, words):
    path = tmp_path / "config.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=words) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}: ")


def test_a_whole_number_is_fine_where_a_number_is_expected(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("cooldown_seconds = 10\nshard_count = 2\nshard_ids = [1]\n")
    config = load_config(path, environ={})
    assert config.cooldown_seconds == 10.0 and isinstance(config.cooldown_seconds, float)
    assert config.shard_ids == (1,)


def test_example_config_documents_every_key():
    text = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    documented = set(re.findall(r"^#? ?([a-z_]+) = ", text, re.MULTILINE))
    assert {f.name for f in fields(Config)} <= documented


def test_a_postgresql_database_is_shared_state_and_the_url_never_shows(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('database = "postgresql://glossary:pw-123@db:5432/g"\n', encoding="utf-8")
    config = load_config(path, environ={})
    assert config.database_url == "postgresql://glossary:pw-123@db:5432/g"
    assert "pw-123" not in repr(config)
    overridden = load_config(path, environ={"GLOSSARY_DATABASE_URL": "postgresql://other/x"})
    assert overridden.database_url == "postgresql://other/x"
    path.write_text('database_url = "mysql://nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="postgresql://"):
        load_config(path, environ={})
