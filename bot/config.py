"""Configuration: a TOML file into a frozen dataclass, with environment overrides.

The token may live only in the environment (``DISCORD_TOKEN``) so that ``config.toml``
can be shared between moderators without leaking it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError, MissingToken

CONFIG_ENV = "GLOSSARY_CONFIG"
TOKEN_ENV = "DISCORD_TOKEN"
DEFAULT_CONFIG_PATH = Path("config.toml")

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
    # Where discord.py connects: left empty for Discord itself; the sandbox and the smoke
    # test point these at a local stand-in.
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None

    def require_token(self) -> str:
        if not self.token.strip():
            raise MissingToken(TOKEN_HELP)
        return self.token.strip()


_PATH_KEYS = {"content_dir", "database"}


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
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{config_path}: unknown key(s): {', '.join(unknown)}")
    base_dir = config_path.parent if config_path.is_file() else Path.cwd()
    try:
        values = {key: _coerce(key, value, base_dir) for key, value in raw.items()}
        config = Config(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{config_path}: unknown timezone {config.timezone!r}; use an IANA "
                          "name such as Europe/Amsterdam") from None
    if env.get(TOKEN_ENV):
        config = replace(config, token=env[TOKEN_ENV])
    return config
