"""The per-user lookup cooldown (``bot.client.lookup_cooldown``), on its own check.

The whole path through Discord (a flood refused privately, others still served) is in
tests/cogs/test_define.py; here, what the check itself keeps and forgets.
"""

from __future__ import annotations

import dataclasses
import datetime
import types

import pytest
from discord import app_commands

from bot import client as client_module
from bot.client import lookup_cooldown
from bot.config import Config


def cooldown_check(config: Config, now: list[float] | None = None):
    """The check as discord.py runs it, with a way to change the bot's config."""
    async def callback(interaction) -> None: ...

    command = lookup_cooldown()(app_commands.Command(
        name="probe", description="probe", callback=callback))
    (predicate,) = command.checks
    bot = types.SimpleNamespace(config=config)

    async def run(user_id: int) -> bool:
        at = datetime.datetime.fromtimestamp((now or [1_000_000.0])[0], datetime.UTC)
        interaction = types.SimpleNamespace(client=bot, user=types.SimpleNamespace(id=user_id),
                                            created_at=at)
        return await predicate(interaction)

    run.buckets = predicate.buckets
    return run, bot


async def test_each_user_gets_their_own_allowance(config):
    run, _ = cooldown_check(dataclasses.replace(config, cooldown_uses=2, cooldown_seconds=60))
    assert await run(1) and await run(1)
    with pytest.raises(app_commands.CommandOnCooldown) as refused:
        await run(1)
    assert 0 < refused.value.retry_after <= 60
    assert await run(2)  # another student is not held back


async def test_cooldowns_off_never_refuse_and_keep_nothing(config, monkeypatch):
    run, bot = cooldown_check(dataclasses.replace(config, cooldown_uses=0))
    assert all([await run(1) for _ in range(50)])
    assert not run.buckets
    # Turned on later (a config change), the allowance starts from then.
    bot.config = dataclasses.replace(config, cooldown_uses=1, cooldown_seconds=60)
    assert await run(1)
    with pytest.raises(app_commands.CommandOnCooldown):
        await run(1)


async def test_expired_buckets_are_swept_once_there_are_many(config, monkeypatch):
    monkeypatch.setattr(client_module, "COOLDOWN_SWEEP_AT", 10)
    now = [1_000_000.0]
    run, _ = cooldown_check(dataclasses.replace(config, cooldown_uses=1, cooldown_seconds=5), now)
    for user in range(9):
        assert await run(user)
    now[0] += 4
    assert await run(9)  # its window ends 4 s after the others'
    with pytest.raises(app_commands.CommandOnCooldown):  # still remembered: not yet swept
        await run(3)
    now[0] += 2  # the first nine have expired; the next use sweeps them
    assert await run(100)
    assert sorted(run.buckets) == [9, 100]
    with pytest.raises(app_commands.CommandOnCooldown):  # an active window is kept
        await run(9)
    assert await run(3)  # forgotten, so allowed again, and remembered anew
    with pytest.raises(app_commands.CommandOnCooldown):
        await run(3)
