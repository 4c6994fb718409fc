"""``glossary-bot doctor``: everything a teacher must get right, checked, one line each.

Each line passes or fails and a failing line says how to fix it: the config, each
glossary (its term files, and the terms, last reload and content version the bot serves
from the database), the database, the token (asked of Discord itself,
``GET /users/@me``), the synced commands, and, in every server, whether the bot may
view, send and embed in the channels the moderators chose (computed from the server's
roles and the channel's overwrites, as Discord computes it). Exit 0 when all pass, 1
when something needs fixing. Only reads: the content is checked without a database, the
real one is only checked and read (read-only).
"""

from __future__ import annotations

import asyncio
import datetime
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.backup import quick_check
from bot.config import Config, load_config
from bot.errors import ConfigError, MissingToken
from bot.glossaries import GlossarySpec
from bot.storage.summary import GlossarySummary, read_summaries
from bot.store import Store

PORTAL = "https://discord.com/developers/applications"
ADMINISTRATOR, VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS = 1 << 3, 1 << 10, 1 << 11, 1 << 14
NEEDED = {"View Channel": VIEW_CHANNEL, "Send Messages": SEND_MESSAGES,
          "Embed Links": EMBED_LINKS}
ALL_PERMISSIONS = (1 << 53) - 1


@dataclass(frozen=True)
class Line:
    ok: bool
    check: str
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.check}: {self.detail}"
        return text + (f"\n      fix: {self.fix}" if self.fix and not self.ok else "")


def channel_permissions(guild: dict[str, Any], member: dict[str, Any],
                        channel: dict[str, Any]) -> int:
    """The member's permissions in the channel: @everyone and role permissions, then the
    channel's @everyone, role and member overwrites, in Discord's order."""
    if guild.get("owner_id") == member["user"]["id"]:
        return ALL_PERMISSIONS
    roles = {role["id"]: int(role["permissions"]) for role in guild["roles"]}
    member_roles = set(member.get("roles", []))
    permissions = roles.get(guild["id"], 0)
    for role_id in member_roles:
        permissions |= roles.get(role_id, 0)
    if permissions & ADMINISTRATOR:
        return ALL_PERMISSIONS
    overwrites = {o["id"]: o for o in channel.get("permission_overwrites", [])}

    def apply(value: int, allow: int, deny: int) -> int:
        return (value & ~deny) | allow

    everyone = overwrites.get(guild["id"])
    if everyone:
        permissions = apply(permissions, int(everyone["allow"]), int(everyone["deny"]))
    allow = deny = 0
    for role_id in member_roles:
        overwrite = overwrites.get(role_id)
        if overwrite and int(overwrite.get("type", 0)) == 0:
            allow, deny = allow | int(overwrite["allow"]), deny | int(overwrite["deny"])
    permissions = apply(permissions, allow, deny)
    own = overwrites.get(member["user"]["id"])
    if own and int(own.get("type", 1)) == 1:
        permissions = apply(permissions, int(own["allow"]), int(own["deny"]))
    if not permissions & VIEW_CHANNEL:
        return 0  # a channel it cannot see it cannot send to either
    return permissions


class _Discord:
    """The few REST calls the doctor makes, with the bot's token."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session, self.base = session, base.rstrip("/")
        self.headers = {"Authorization": f"Bot {token}"}

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.base + path, headers=self.headers) as answer:
            body = await answer.json(content_type=None) if answer.status != 204 else None
            return answer.status, body


def _check_config(path: str | None) -> tuple[Config | None, Line]:
    try:
        config = load_config(path)
        from bot.client import point_discord_at

        point_discord_at(config.discord_api_url, config.discord_gateway_url)
    except (ConfigError, ValueError) as exc:
        return None, Line(False, "config", str(exc), "edit the config file; every key is "
                          "explained in config.example.toml")
    return config, Line(True, "config", "valid")


async def _check_glossaries(config: Config) -> list[Line]:
    """One line per configured glossary: what ``glossary-bot check`` reports of its
    term files (the same code a reload runs), and what the bot serves from the database
    (terms, last reload, when its content last changed), read without writing."""
    served = await asyncio.to_thread(read_summaries, config.database)
    glossaries = config.glossary_map
    return [await _check_glossary(spec, (served or {}).get(spec.name),
                                  spec.name == glossaries.default_name)
            for spec in glossaries.specs]


async def _check_glossary(spec: GlossarySpec, served: GlossarySummary | None,
                          is_default: bool) -> Line:
    from bot.reloading import check_directory

    check = f"glossary {spec.name}" + (" (default)" if is_default else "")
    state = _served(served)
    directory = spec.content_dir
    if directory is None:
        return Line(True, check, f"lives in the database alone; {state}")
    fix = f"run `glossary-bot check {directory}` and fix each listed line"
    try:
        problems, valid = await check_directory(directory)
    except OSError as exc:
        return Line(False, check, f"{directory}: {exc.strerror}",
                    "set content_dir in the config to the term files' directory")
    errors = [p for p in problems if not p.is_warning]
    if errors:
        return Line(False, check, f"{len(errors)} error(s) in {directory}, first: "
                    f"{errors[0]}; {state}", fix)
    return Line(True, check, f"{valid} terms, {len(problems)} warning(s) in {directory}; "
                f"{state}")


def _served(summary: GlossarySummary | None) -> str:
    """What the bot serves, in words: the term count, the last reload, the content
    version (the time its content last changed)."""
    if summary is None:
        return "not loaded by the bot yet"
    parts = [f"the bot serves {summary.terms} terms"]
    if summary.last_reload_at is not None:
        parts.append(f"last reload {_when(summary.last_reload_at)}")
    if summary.changed_at is not None:
        parts.append(f"content version of {_when(summary.changed_at)}")
    elif summary.version:
        parts.append(f"content version {summary.version}")
    return ", ".join(parts)


def _when(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _check_database(config: Config) -> Line:
    path = config.database
    if not path.exists():
        return Line(True, "database", f"{path} not created yet (the first start creates it)")
    verdict = quick_check(path)
    if verdict != "ok":
        return Line(False, "database", f"{path}: quick_check says {verdict}",
                    "stop the bot and restore the newest backup: "
                    "glossary-bot restore BACKUP (see docs/deploy.md)")
    return Line(True, "database", f"{path} opens, quick_check ok")


async def _check_token(rest: _Discord) -> tuple[dict[str, Any] | None, Line]:
    try:
        status, body = await rest.get("/users/@me")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return None, Line(False, "token", f"cannot reach Discord at {rest.base} ({exc})",
                          "check this machine's network connection and DNS")
    if status == 401:
        return None, Line(False, "token", "Discord rejected the token (401 Unauthorized)",
                          f"open {PORTAL} > your application > Bot > Reset Token, copy "
                          "it into DISCORD_TOKEN (or the EnvironmentFile), restart the bot")
    if status != 200:
        return None, Line(False, "token", f"Discord answered {status} to GET /users/@me",
                          "try again in a minute; see https://discordstatus.com")
    return body, Line(True, "token", f"accepted: logged in as {body['username']} "
                      f"(id {body['id']})")


async def _expected_commands(config: Config) -> set[tuple[str, int]]:
    """The bot's own command definitions, from its extensions (not started)."""
    from bot.client import EXTENSIONS, GlossaryBot

    with tempfile.TemporaryDirectory(prefix="glossary-doctor-") as scratch:
        async with await Store.open(Path(scratch) / "commands.sqlite3") as store:
            async with GlossaryBot(config, store) as bot:  # set up, never logged in
                for extension in EXTENSIONS:
                    await bot.load_extension(extension)
                return {(c.name, int(c.to_dict(bot.tree).get("type", 1)))
                        for c in bot.tree.get_commands()}


async def _check_commands(config: Config, rest: _Discord, app_id: str) -> Line:
    scope = f"/guilds/{config.dev_guild_id}" if config.dev_guild_id else ""
    status, body = await rest.get(f"/applications/{app_id}{scope}/commands")
    invite = (f"re-invite the bot with the scopes bot and applications.commands "
              f"({PORTAL} > OAuth2 > URL Generator)")
    if status == 403:
        return Line(False, "commands", "Discord refused to list the commands (403)", invite)
    if status != 200:
        return Line(False, "commands", f"Discord answered {status} listing the commands",
                    "try again in a minute")
    synced = {(c["name"], int(c.get("type", 1))) for c in body}
    missing = sorted(name for name, _ in await _expected_commands(config) - synced)
    where = f"server {config.dev_guild_id}" if config.dev_guild_id else "global"
    if missing:
        return Line(False, "commands", f"not synced ({where}): {', '.join(missing)}",
                    "start the bot once: it syncs on start (global commands may take up to "
                    f"an hour to appear); if that fails, {invite}")
    return Line(True, "commands", f"{len(synced)} synced ({where})")


async def _configured_channels(config: Config, guild_ids: Sequence[int]
                               ) -> dict[int, list[tuple[str, int]]]:
    """Per server, ``(what, channel id)`` of the channels its moderators chose."""
    if not config.database.exists() or quick_check(config.database) != "ok":
        return {}
    chosen: dict[int, list[tuple[str, int]]] = {}
    async with await Store.open(config.database) as store:
        for guild_id in guild_ids:
            settings = await store.records.guild_settings(guild_id)
            chosen[guild_id] = [(what, cid) for what, cid in (
                ("term of the day", settings.daily_channel_id),
                ("moderators' channel", settings.mod_channel_id)) if cid]
    return chosen


async def _check_channels(config: Config, rest: _Discord, bot_id: str) -> list[Line]:
    status, guilds = await rest.get("/users/@me/guilds")
    if status != 200:
        return [Line(False, "servers", f"Discord answered {status} listing the servers",
                     "try again in a minute")]
    if not guilds:
        return [Line(False, "servers", "the bot is in no server yet",
                     f"invite it: {PORTAL} > OAuth2 > URL Generator, scopes bot and "
                     "applications.commands, permissions Send Messages and Embed Links")]
    chosen = await _configured_channels(config, [int(g["id"]) for g in guilds])
    lines = []
    for partial in guilds:
        name = partial.get("name", partial["id"])
        picked = chosen.get(int(partial["id"]), [])
        if not picked:
            lines.append(Line(True, f"server {name}", "no term-of-the-day or moderators' "
                              "channel chosen (/glossary settings)"))
            continue
        _, guild = await rest.get(f"/guilds/{partial['id']}")
        _, channels = await rest.get(f"/guilds/{partial['id']}/channels")
        _, member = await rest.get(f"/guilds/{partial['id']}/members/{bot_id}")
        by_id = {c["id"]: c for c in channels}
        for what, channel_id in picked:
            lines.append(_channel_line(name, what, guild, member, by_id.get(str(channel_id))))
    return lines


def _channel_line(server: str, what: str, guild: dict[str, Any], member: dict[str, Any],
                  channel: dict[str, Any] | None) -> Line:
    check = f"server {server}, {what}"
    if channel is None:
        return Line(False, check, "the channel no longer exists",
                    "choose another one with /glossary settings")
    permissions = channel_permissions(guild, member, channel)
    missing = [label for label, bit in NEEDED.items() if not permissions & bit]
    if missing:
        return Line(False, check, f"#{channel['name']}: the bot lacks {', '.join(missing)}",
                    f"in Discord: #{channel['name']} > Edit Channel > Permissions > add the "
                    f"bot's role and allow {', '.join(missing)}")
    return Line(True, check, f"#{channel['name']}: can view, send and embed")


async def diagnose(config_path: str | None) -> list[Line]:
    config, line = _check_config(config_path)
    lines = [line]
    if config is None:
        return lines
    lines += [*await _check_glossaries(config), _check_database(config)]
    try:
        token = config.require_token()
    except MissingToken:
        return [*lines, Line(False, "token", "no token (DISCORD_TOKEN is empty)",
                             f"copy it from {PORTAL} > your application > Bot > Reset Token "
                             "into DISCORD_TOKEN")]
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        rest = _Discord(session, discord.http.Route.BASE, token)
        me, line = await _check_token(rest)
        lines.append(line)
        if me is None:
            return lines
        lines.append(await _check_commands(config, rest, me["id"]))
        lines += await _check_channels(config, rest, me["id"])
    return lines


def run_doctor(config_path: str | None) -> int:
    lines = asyncio.run(diagnose(config_path))
    for line in lines:
        print(line)
    failed = sum(not line.ok for line in lines)
    print(f"{len(lines) - failed} passed, {failed} to fix" if failed else
          f"all {len(lines)} checks passed", file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0

