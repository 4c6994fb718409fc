"""glossary-bot doctor, run as a teacher runs it, against the fake Discord."""

from __future__ import annotations

import copy

import pytest

from bot.doctor import (
    ADMINISTRATOR,
    EMBED_LINKS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    channel_permissions,
)
from bot.store import Store
from tests.bot._run import run_to_end, write_config
from tests.conftest import BUNDLED_COUNT
from tests.support.fake_discord import EVERYONE_PERMISSIONS, FakeDiscord

# A fake token, joined here so that no token-shaped literal sits in the source.
GOOD_TOKEN = ".".join(("MTAxMDEwMTAxMDEwMTAxMDEw", "GabcDE",
                      "doctor-right-token-for-tests-xxxxxxx"))


def add_channel(fake: FakeDiscord, name: str, overwrites: list[dict]) -> dict:
    channel = copy.deepcopy(fake.guild.text_channel)
    channel.update(id=str(fake.snowflake()), name=name, permission_overwrites=overwrites)
    fake.guild.channels.append(channel)
    return channel


def overwrite(target_id: int | str, *, allow: int = 0, deny: int = 0, kind: int = 0) -> dict:
    return {"id": str(target_id), "type": kind, "allow": str(allow), "deny": str(deny)}


def bot_role(fake: FakeDiscord) -> dict:
    return fake.guild.role("GlossaryBot")


async def doctor(tmp_path, content_dir, fake, database, token=GOOD_TOKEN):
    config = write_config(tmp_path, content_dir, api_url=fake.api_base_url,
                          gateway_url=fake.gateway_url, database=database)
    return await run_to_end("--config", str(config), "doctor", token=token)


def line(result, check: str) -> str:
    found = [x for x in result.lines if x[6:].startswith(check + ":")]
    assert found, f"no {check!r} line in:\n{result.output}"
    return found[0]


@pytest.fixture
async def synced(start_bot, config):
    """A fake Discord that the real bot has connected to once (commands synced)."""
    fake = FakeDiscord()
    await fake.start()
    async with start_bot(fake):
        pass
    yield fake
    await fake.stop()


async def choose_channels(config, fake, daily: dict, mods: dict) -> None:
    async with await Store.open(config.database) as store:
        await store.records.update_guild_settings(fake.guild.id, daily_channel_id=int(daily["id"]),
                                          mod_channel_id=int(mods["id"]))


async def test_all_good_is_exit_0_with_a_pass_per_line(tmp_path, content_dir, config, synced):
    fake = synced
    # The class channel hides from @everyone but lets the bot's role in: still fine.
    daily = add_channel(fake, "term-of-the-day", [
        overwrite(fake.guild.id, deny=VIEW_CHANNEL),
        overwrite(bot_role(fake)["id"], allow=VIEW_CHANNEL)])
    await choose_channels(config, fake, daily, fake.guild.text_channel)
    result = await doctor(tmp_path, content_dir, fake, config.database)
    assert result.returncode == 0, result.output
    assert all(x.startswith("PASS") for x in result.lines[:-1]), result.output
    assert "token: accepted: logged in as GlossaryBot" in line(result, "token")
    assert f"{BUNDLED_COUNT} terms" in line(result, "glossary default (default)")
    assert f"the bot serves {BUNDLED_COUNT} terms, last reload 20" in line(
        result, "glossary default (default)")
    assert "quick_check ok" in line(result, "database")
    assert "synced (global)" in line(result, "commands")
    assert "#term-of-the-day: can view, send and embed" in line(
        result, f"server {fake.guild.name}, term of the day")
    assert ("GET", "/users/@me") in [(r.method, r.path) for r in fake.requests]


async def test_a_closed_channel_fails_with_the_missing_permission_and_the_fix(
    tmp_path, content_dir, config, synced
):
    fake = synced
    mods = add_channel(fake, "mods", [overwrite(bot_role(fake)["id"], deny=SEND_MESSAGES)])
    hidden = add_channel(fake, "staff", [overwrite(fake.guild.id, deny=VIEW_CHANNEL)])
    await choose_channels(config, fake, hidden, mods)
    result = await doctor(tmp_path, content_dir, fake, config.database)
    assert result.returncode == 1
    mods_line = line(result, f"server {fake.guild.name}, moderators' channel")
    assert mods_line.startswith("FAIL") and "#mods: the bot lacks Send Messages" in mods_line
    daily_line = line(result, f"server {fake.guild.name}, term of the day")
    assert "lacks View Channel, Send Messages, Embed Links" in daily_line
    fix = result.lines[result.lines.index(mods_line) + 1]
    assert fix.strip().startswith("fix: in Discord: #mods > Edit Channel > Permissions")


async def test_a_rejected_token_says_so_and_how_to_reset_it(tmp_path, content_dir, config):
    async with FakeDiscord(expected_token=GOOD_TOKEN) as fake:
        result = await doctor(tmp_path, content_dir, fake, config.database, token="old.x.y")
    assert result.returncode == 1
    token_line = line(result, "token")
    assert token_line == "FAIL  token: Discord rejected the token (401 Unauthorized)"
    fix = result.lines[result.lines.index(token_line) + 1]
    assert "Bot > Reset Token" in fix and "DISCORD_TOKEN" in fix
    assert "Traceback" not in result.output
    assert not any(x[6:].startswith("commands") for x in result.lines)  # nothing to ask


async def test_unsynced_commands_broken_content_and_a_damaged_database_each_fail(
    tmp_path, content_dir, config
):
    (content_dir / "git.yaml").write_text("title: [\n")
    config.database.write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    async with FakeDiscord() as fake:
        result = await doctor(tmp_path, content_dir, fake, config.database)
    assert result.returncode == 1
    assert line(result, "glossary default (default)").startswith("FAIL")
    assert "git.yaml:1" in result.output
    assert "glossary-bot check" in result.output
    assert line(result, "database").startswith("FAIL")
    assert "glossary-bot restore" in result.output
    assert "not synced (global): Explain terms, define" in line(result, "commands")
    assert line(result, "token").startswith("PASS")


async def test_an_invalid_config_is_a_failing_line_not_a_traceback(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("cooldown_uses = true\n")
    result = await run_to_end("--config", str(config), "doctor")
    assert result.returncode == 1
    assert result.lines[0].startswith("FAIL  config: ") and "cooldown_uses" in result.lines[0]
    assert "config.example.toml" in result.output


GUILD = {"id": "1", "owner_id": "9", "roles": [
    {"id": "1", "permissions": str(EVERYONE_PERMISSIONS)},
    {"id": "2", "permissions": str(EMBED_LINKS)},
    {"id": "3", "permissions": str(ADMINISTRATOR)}]}


def member(*roles: str, user_id: str = "5") -> dict:
    return {"user": {"id": user_id}, "roles": list(roles)}


@pytest.mark.parametrize(("who", "overwrites", "can"), [
    (member("2"), [], True),
    (member("2"), [overwrite(1, deny=SEND_MESSAGES)], False),
    (member("2"), [overwrite(1, deny=SEND_MESSAGES), overwrite(2, allow=SEND_MESSAGES)], True),
    (member("2"), [overwrite(2, allow=SEND_MESSAGES), overwrite(5, deny=SEND_MESSAGES, kind=1)],
     False),
    (member("2"), [overwrite(1, deny=VIEW_CHANNEL)], False),
    (member("3"), [overwrite(1, deny=VIEW_CHANNEL | SEND_MESSAGES)], True),  # administrator
    (member(user_id="9"), [overwrite(1, deny=VIEW_CHANNEL)], True),  # the owner
])
def test_channel_permissions_follow_discords_order(who, overwrites, can):
    channel = {"permission_overwrites": overwrites}
    permissions = channel_permissions(GUILD, who, channel)
    needed = VIEW_CHANNEL | SEND_MESSAGES
    assert (permissions & needed == needed) is can


async def test_every_glossary_gets_its_own_line(tmp_path, content_dir, config):
    """The default glossary, one with term files (broken here), one in the database
    alone: each says what its files hold and what the bot serves."""
    science = tmp_path / "science"
    science.mkdir()
    (science / "atom.yaml").write_text((content_dir / "git.yaml").read_text()
                                       .replace("title: Git", "title: Atom"))
    extra = (f'[glossaries.science]\ncontent_dir = "{science}"\ncourse_name = "Science"\n'
             'servers = [42]\n[glossaries.notes]\nsource = "database"\n'
             'course_name = "Notes"\nservers = [43]\n')
    async with await Store.open(config.database) as store:
        await store.use_glossaries(["default", "science", "notes"], "default")
        await store.reloads.reload(content_dir)
    (science / "bad.yaml").write_text("title: [\n")
    async with FakeDiscord() as fake:
        path = write_config(tmp_path, content_dir, api_url=fake.api_base_url,
                            gateway_url=fake.gateway_url, database=config.database,
                            extra=extra)
        result = await run_to_end("--config", str(path), "doctor", token=GOOD_TOKEN)
    default = line(result, "glossary default (default)")
    assert default.startswith("PASS") and f"the bot serves {BUNDLED_COUNT} terms" in default
    assert "content version of 20" in default
    science_line = line(result, "glossary science")
    assert science_line.startswith("FAIL") and "bad.yaml:1" in science_line
    assert "the bot serves 0 terms" in science_line
    assert f"glossary-bot check {science}" in result.output
    notes = line(result, "glossary notes")
    assert notes.startswith("PASS") and "lives in the database alone" in notes
