"""/glossary create: a server's moderators start their own glossary, when the operator allows.

With ``allow_server_glossaries = true`` in the config, a server's moderators may make a
database-only glossary for their server, empty or as a copy of the one the server uses
now; they become its editors (``/glossary add``, ``edit``, ``remove``, suggestions) and
the server uses it at once. This is what lets one hosted bot serve many schools without
its operator editing the config for each. The operator lists, exports and removes these
glossaries from the terminal (``glossary-bot glossaries``). Joins the /glossary group
(``cogs.moderation``, loaded first).

With PostgreSQL the glossary is made there (``bot.storage.server_glossaries``), and every
other process adopts it as soon as it hears the notification (``bot.publishing``'s
listener; a missed one is found by a catch-up query every ``FOLLOW_SECONDS``): its server
is routed to it, its editors are that server's moderators, and its local index follows
what is published. One removed from the terminal is dropped the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord import app_commands

from bot.client import GlossaryBot, moderator_only
from bot.errors import (
    GlossaryNameRefused,
    GlossaryNameTaken,
    ServerGlossariesOff,
    SharedStateUnavailable,
)
from bot.server_glossaries import (
    ServerGlossary,
    name_problem,
    with_server_glossaries,
    without_glossaries,
)
from cogs.moderation import glossary_group

log = logging.getLogger(__name__)

# Made or removed elsewhere, a server glossary reaches here on its notification at once;
# this catch-up query finds one whose notification was missed.
FOLLOW_SECONDS = 30.0

STARTS = [app_commands.Choice(name="a copy of the glossary this server uses now", value="copy"),
          app_commands.Choice(name="empty", value="empty")]


@app_commands.command(name="create", description="Start this server's own glossary, edited "
                      "from Discord (if the bot's host allows it)")
@app_commands.describe(name="Its name: letters, digits, - or _ (e.g. web-2026)",
                       start="Empty, or a copy of the glossary this server uses now")
@app_commands.choices(start=STARTS)
@moderator_only()
async def create_command(interaction: discord.Interaction,
                         name: app_commands.Range[str, 1, 32],
                         start: app_commands.Choice[str]) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    assert interaction.guild_id is not None  # the /glossary group is guild-only
    if not bot.config.allow_server_glossaries:
        raise ServerGlossariesOff(
            "This bot's host has not allowed servers to make their own glossaries "
            "(`allow_server_glossaries` in its config). Ask them, or keep suggesting fixes "
            "to the glossary this server uses.")
    if problem := name_problem(name):
        raise GlossaryNameRefused(problem)
    if bot.glossary_map.named(name) is not None:
        raise GlossaryNameTaken(f"The name **{name}** is taken: choose another.")
    # A copy of 10,000 terms is one transaction of a few seconds: answer Discord first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    spec = bot.spec_for(interaction.guild_id)
    current = bot.glossary_for(interaction.guild_id)
    copy_of = (current.id, current.name) if start.value == "copy" else None
    made = await bot.store.server_glossaries.create(
        name, interaction.guild_id, spec.course_name, interaction.user.id,
        interaction.user.display_name, copy_of)
    await adopt(bot, made)
    await bot.store.glossary_named(made.name).rebuild_index()
    source = (f"a copy of **{current.name}** ({made.terms} terms)" if copy_of
              else "empty: add its first term with `/glossary add`")
    await interaction.followup.send(
        f"This server now uses its own glossary **{made.name}**, {source}. Its editors are "
        "this server's moderators: `/glossary add`, `/glossary edit` and `/glossary remove` "
        "change it, and students see every change at once.", ephemeral=True)


async def adopt(bot: GlossaryBot, made: ServerGlossary) -> None:
    """Serve a server's own glossary here: registered in the store, its server routed to
    it and, with PostgreSQL, its local index following what is published."""
    await bot.store.use_glossaries([made.name], bot.glossary_map.default_name)
    bot.glossary_map = with_server_glossaries(bot.glossary_map, [made])
    publishing = getattr(bot, "publishing", None)
    if publishing is not None and made.name not in publishing.applied:
        from bot.publishing import GlossaryPublisher
        from bot.storage.published import local_version

        glossary = bot.store.glossary_named(made.name)
        bot.store.reloader(made.name).publisher = GlossaryPublisher(publishing, glossary)
        publishing.applied[made.name] = await local_version(bot.store.db.reader, made.name)
        await publishing.apply(made.name)


async def follow_server_glossaries(bot: GlossaryBot) -> int:
    """Adopt the server glossaries other processes made since, and stop serving the ones
    removed (``glossary-bot glossaries remove``); how many changed."""
    # Only glossaries served before the query can have been removed: one this process
    # makes meanwhile is not in the list the query returned, and is not gone.
    served = {spec.name for spec in bot.glossary_map.specs
              if bot.config.glossary_map.named(spec.name) is None}
    made = await bot.store.server_glossaries.all()
    gone = served - {m.name for m in made}
    if gone:
        await drop(bot, gone)
    new = [m for m in made if bot.glossary_map.named(m.name) is None]
    for m in new:
        await adopt(bot, m)
        log.info("Serving glossary %s, made in server %d by another process", m.name,
                 m.guild_id)
    return len(new) + len(gone)


async def drop(bot: GlossaryBot, names: set[str]) -> None:
    """Stop serving removed server glossaries: their servers go back to the glossary the
    config gives them, their cards' buttons say the glossary has gone, and the local
    index forgets their terms."""
    bot.glossary_map = without_glossaries(bot.glossary_map, names)
    publishing = getattr(bot, "publishing", None)
    for name in sorted(names):
        if publishing is not None:
            publishing.forget(name)
        try:
            glossary = bot.store.glossary_named(name)
        except KeyError:
            continue
        async with bot.store.reloader(name).lock:  # not while its publish is applied
            await bot.store.server_glossaries.forget_local(glossary.id, name)
        bot.store.forget(name)
        log.info("Glossary %s was removed: no longer serving it", name)


async def _follow_forever(bot: GlossaryBot, seconds: float) -> None:
    """On each notification (``bot.publishing``: a glossary made or removed elsewhere),
    and every ``seconds`` in case one was missed."""
    publishing = getattr(bot, "publishing", None)
    while True:
        if publishing is None:
            await asyncio.sleep(seconds)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(publishing.servers_changed.wait(), seconds)
            publishing.servers_changed.clear()
        try:
            await follow_server_glossaries(bot)
        except SharedStateUnavailable as exc:
            log.debug("Could not look for new server glossaries: %s", exc)
        except Exception:
            log.exception("Looking for new server glossaries failed; trying again")


def start_following(bot: GlossaryBot, seconds: float = FOLLOW_SECONDS) -> None:
    """(Re)start following the server glossaries other processes make and remove."""
    stop_following(bot)
    bot.server_glossary_follower = asyncio.create_task(  # type: ignore[attr-defined]
        _follow_forever(bot, seconds), name="server-glossaries-follow")


def stop_following(bot: GlossaryBot) -> None:
    task = getattr(bot, "server_glossary_follower", None)
    if task is not None:
        task.cancel()
        bot.server_glossary_follower = None  # type: ignore[attr-defined]


def _group(bot: GlossaryBot) -> app_commands.Group:
    return glossary_group(bot, "cogs.server_glossary")


async def setup(bot: GlossaryBot) -> None:
    _group(bot).add_command(create_command)
    if bot.store.pg is not None:  # other processes make server glossaries too
        start_following(bot)


async def teardown(bot: GlossaryBot) -> None:
    stop_following(bot)
    _group(bot).remove_command(create_command.name)
