"""Configuration: a TOML file into a frozen dataclass, with environment overrides.

The token may live only in the environment (``DISCORD_TOKEN``) so that ``config.toml``
can be shared between moderators without leaking it.
"""

from __future__ import annotations

import os
import tomllib
import types
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError, MissingToken
from bot.glossaries import DEFAULT_NAME, GlossaryMap, GlossarySpec
from bot.glossaries import problems as glossary_problems

CONFIG_ENV = "GLOSSARY_CONFIG"
TOKEN_ENV = "DISCORD_TOKEN"
DATABASE_URL_ENV = "GLOSSARY_DATABASE_URL"
DEFAULT_CONFIG_PATH = Path("config.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")

TOKEN_HELP = (
    "No Discord bot token found.\n"
    "Create an application at https://discord.com/developers/applications, open Bot > "
    "Reset Token, copy it, then either export DISCORD_TOKEN=... or set token = \"...\" "
    "in config.toml (see config.example.toml)."
)


@dataclass(frozen=True)
class Config:
    token: str = field(default="", repr=False)
    content_dir: Path = Path("data/terms")
    database: Path = Path("state/glossary.sqlite3")
    # Shared state in PostgreSQL (docs/scaling.md): ``database = "postgresql://..."`` in the
    # file or GLOSSARY_DATABASE_URL in the environment; ``local_index`` is then this
    # process's SQLite read index. Not in repr: the URL may hold a password.
    database_url: str | None = field(default=None, repr=False)
    database_pool_size: int = 10
    local_index: Path = Path("state/local-index.sqlite3")
    course_name: str = "VCA"
    dev_guild_id: int | None = None
    moderator_role: str | None = None
    cooldown_uses: int = 5
    cooldown_seconds: float = 10.0
    embed_colour: int = 0x5865F2
    auto_reload: bool = False
    timezone: str = "UTC"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object a line, for journald and collectors
    # Operating it (docs/deploy.md): health endpoint and metrics on 127.0.0.1, off unless
    # a port is given (0 picks a free one); a heartbeat file for setups without HTTP.
    health_port: int | None = None
    health_max_heartbeat_age: float = 90.0
    heartbeat_file: Path | None = None
    # Daily online backups into this directory, keeping the newest backup_keep.
    backup_dir: Path | None = None
    backup_keep: int = 7
    # Glossaries besides the default one (content_dir + course_name), from [glossaries.NAME]
    # tables; a [glossaries.<default_glossary>] table may add servers, owners and editors.
    glossaries: tuple[GlossarySpec, ...] = ()
    default_glossary: str = DEFAULT_NAME
    # Authoring (issue 19): each edit from Discord a git commit of that file when the
    # content directory is a git work tree (a [glossaries.NAME] table may say otherwise);
    # and whether a server's moderators may start their own glossary (/glossary create).
    commit_edits: bool = False
    allow_server_glossaries: bool = False
    miss_retention_days: int = 30  # how long what students typed for a missing term is kept
    quiz_retention_days: int = 180  # quizzes and their answers (scores stay)
    # Where discord.py connects: left empty for Discord itself; the sandbox and the smoke
    # test point these at a local stand-in.
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None

    @property
    def glossary_map(self) -> GlossaryMap:
        """Every glossary, the default one built from content_dir and course_name unless a
        table of its own gives them."""
        specs = list(self.glossaries)
        default = next((s for s in specs if s.name == self.default_glossary), None)
        if default is None:
            specs.insert(0, GlossarySpec(self.default_glossary, self.course_name,
                                         self.content_dir))
        return GlossaryMap(tuple(specs), self.default_glossary)

    def require_token(self) -> str:
        if not self.token.strip():
            raise MissingToken(TOKEN_HELP)
        return self.token.strip()


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


_PATH_KEYS = {"content_dir", "database", "heartbeat_file", "backup_dir", "local_index"}


def _coerce(key: str, value: Any, base_dir: Path) -> Any:
    if key in _PATH_KEYS:
        path = Path(value).expanduser()
        return path if path.is_absolute() else base_dir / path
    if key == "shard_ids" and value is not None:
        return tuple(int(v) for v in value)
    if key == "dev_guild_id" and value not in (None, "", 0):
        return int(value)
    if key == "dev_guild_id":
        return None
    if key == "embed_colour" and isinstance(value, str):
        return int(value.lstrip("#"), 16)
    return value


def load_config(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the config file (if any) and apply environment overrides.

    A missing file is fine only when it was not asked for explicitly: a newcomer can run
    the bot with nothing but ``DISCORD_TOKEN`` set.
    """
    env = os.environ if environ is None else environ
    explicit = path is not None or CONFIG_ENV in env
    config_path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    raw: dict[str, Any] = {}
    if config_path.is_file():
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    elif explicit:
        raise ConfigError(f"{config_path}: config file not found")
    base_dir = config_path.parent if config_path.is_file() else Path.cwd()
    if isinstance(raw.get("database"), str) and is_postgres_url(raw["database"]):
        raw["database_url"] = raw.pop("database")
    tables = raw.pop("glossaries", {})
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{config_path}: unknown key(s): {', '.join(unknown)}")
    hints = get_type_hints(Config)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            values[key] = _coerce(key, value, base_dir)
        except (TypeError, ValueError):
            values[key] = value  # reported just below, with what was expected
        if not _has_type(values[key], hints[key]):
            raise ConfigError(f"{config_path}: {key} must be {_describe(hints[key])}, "
                              f"not {value!r}")
        if hints[key] is float:
            values[key] = float(values[key])
    values["glossaries"] = _glossary_specs(tables, values, base_dir, config_path)
    config = Config(**values)
    for problem in _problems(config):
        raise ConfigError(f"{config_path}: {problem}")
    if env.get(TOKEN_ENV):
        config = replace(config, token=env[TOKEN_ENV])
    if env.get(DATABASE_URL_ENV):
        config = replace(config, database_url=env[DATABASE_URL_ENV])
    if config.database_url is not None and not is_postgres_url(config.database_url):
        raise ConfigError(f"{config_path}: database_url must start with postgresql://")
    for key, name in BOOL_ENV.items():
        if env.get(name, "").strip():
            config = replace(config, **{key: _env_bool(name, env[name], config_path)})
    return config


# Switches an operator may flip without editing the file (a container's environment).
BOOL_ENV = {"commit_edits": "GLOSSARY_COMMIT_EDITS",
            "allow_server_glossaries": "GLOSSARY_ALLOW_SERVER_GLOSSARIES"}


def _env_bool(name: str, value: str, config_path: Path) -> bool:
    word = value.strip().casefold()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r} (overriding {config_path})")


_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
               Path: "a path", type(None): "left out"}
_PLURALS = {int: "whole numbers", str: "texts"}


def _has_type(value: Any, hint: Any) -> bool:
    """Whether a TOML value fits a field's annotation: TOML has no None, and a bool is
    not a number here (``cooldown_uses = true`` is a mistake, not 1)."""
    if get_origin(hint) in (Union, types.UnionType):
        return any(_has_type(value, option) for option in get_args(hint))
    if get_origin(hint) is tuple:
        return isinstance(value, tuple) and all(_has_type(v, get_args(hint)[0]) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in get_args(hint)
                           if option is not type(None))
    if get_origin(hint) is tuple:
        return "a list of " + _PLURALS.get(get_args(hint)[0], "values")
    return _TYPE_NAMES.get(hint, str(hint))


_GLOSSARY_KEYS = {"course_name", "content_dir", "source", "servers", "owners", "editors",
                  "commit_edits"}


def _glossary_specs(tables: Any, values: dict[str, Any], base_dir: Path, config_path: Path
                    ) -> tuple[GlossarySpec, ...]:
    """[glossaries.NAME] tables into specs. ``source = "database"`` (or no content_dir)
    makes a glossary that lives in the database alone; the default glossary's table may
    leave out content_dir and course_name, which then come from the top level."""
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f"{config_path}: glossaries must be tables: [glossaries.NAME]")
    default_name = values.get("default_glossary", DEFAULT_NAME)
    specs = []
    for name, table in tables.items():
        unknown = sorted(set(table) - _GLOSSARY_KEYS)
        if unknown:
            raise ConfigError(f"{config_path}: glossaries.{name}: unknown key(s): "
                              f"{', '.join(unknown)}")
        is_default = name == default_name
        course = table.get("course_name", values.get("course_name", "VCA") if is_default
                           else name)
        directory: Path | None = None
        if table.get("source", "files") != "database":
            raw_dir = table.get("content_dir") or (values.get("content_dir", Path(
                "data/terms")) if is_default else None)
            directory = _coerce("content_dir", raw_dir, base_dir) if raw_dir else None
        try:
            specs.append(GlossarySpec(
                str(name), str(course), directory,
                tuple(int(v) for v in table.get("servers", ())),
                tuple(int(v) for v in table["owners"]) if "owners" in table else None,
                tuple(int(v) for v in table.get("editors", ())),
                _commit_edits(table.get("commit_edits"), name, config_path),
            ))
        except (TypeError, ValueError):
            raise ConfigError(f"{config_path}: glossaries.{name}: servers, owners and editors "
                              "must be lists of ids (whole numbers)") from None
    return tuple(specs)


def _commit_edits(value: Any, name: str, config_path: Path) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{config_path}: glossaries.{name}.commit_edits must be true or false")


def _problems(config: Config) -> list[str]:
    """Values of the right type that still cannot work, said so at start-up, not later."""
    problems = glossary_problems(config.glossary_map.specs, config.default_glossary)
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown timezone {config.timezone!r}; use an IANA name such as "
                        "Europe/Amsterdam")
    if config.log_level.upper() not in LOG_LEVELS:
        problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}, "
                        f"not {config.log_level!r}")
    if config.log_format not in LOG_FORMATS:
        problems.append(f"log_format must be one of {', '.join(LOG_FORMATS)}, "
                        f"not {config.log_format!r}")
    if config.health_port is not None and not 0 <= config.health_port <= 65535:
        problems.append("health_port must be a port number (1-65535; 0 picks a free one)")
    if config.health_max_heartbeat_age <= 0:
        problems.append("health_max_heartbeat_age must be more than 0 seconds")
    if config.database_pool_size < 1:
        problems.append("database_pool_size must be 1 or more")
    if config.backup_keep < 1:
        problems.append("backup_keep must be 1 or more")
    if config.cooldown_uses < 0 or config.cooldown_seconds <= 0:
        problems.append("cooldown_uses must be 0 or more (0: no cooldown) and "
                        "cooldown_seconds more than 0")
    if not 0 <= config.embed_colour <= 0xFFFFFF:
        problems.append("embed_colour must be a colour such as \"#5865F2\"")
    if not config.course_name.strip():
        problems.append("course_name must not be empty (it heads the course example)")
    if config.shard_count is not None and config.shard_count < 1:
        problems.append("shard_count must be 1 or more")
    if config.shard_ids is not None and (
        config.shard_count is None or not all(0 <= i < config.shard_count
                                              for i in config.shard_ids)):
        problems.append("shard_ids needs shard_count, and each id must be below it")
    return problems
