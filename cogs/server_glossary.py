"""/glossary create: a server's moderators start their own glossary, when the operator allows.

With ``allow_server_glossaries = true`` in the config, a server's moderators may make a
database-only glossary for their server, empty or as a copy of the one the server uses
now; they become its editors (``/glossary add``, ``edit``, ``remove``, suggestions) and
the server uses it at once. This is what lets one hosted bot serve many schools without
its operator editing the config for each. The operator lists, exports and removes these
glossaries from the terminal (``glossary-bot glossaries``). Joins the /glossary group
(``cogs.moderation``, loaded first).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import GlossaryBot, moderator_only
from bot.errors import GlossaryNameRefused, GlossaryNameTaken, ServerGlossariesOff
from bot.server_glossaries import name_problem, with_server_glossaries

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
    await bot.store.use_glossaries([made.name], bot.glossary_map.default_name)
    bot.glossary_map = with_server_glossaries(bot.glossary_map, [made])
    await bot.store.glossary_named(made.name).rebuild_index()
    source = (f"a copy of **{current.name}** ({made.terms} terms)" if copy_of
              else "empty: add its first term with `/glossary add`")
    await interaction.followup.send(
        f"This server now uses its own glossary **{made.name}**, {source}. Its editors are "
        "this server's moderators: `/glossary add`, `/glossary edit` and `/glossary remove` "
        "change it, and students see every change at once.", ephemeral=True)


def _group(bot: GlossaryBot) -> app_commands.Group:
    group = bot.tree.get_command("glossary")
    if not isinstance(group, app_commands.Group):
        raise RuntimeError("cogs.server_glossary needs cogs.moderation's /glossary group: "
                           "load it first")
    return group


async def setup(bot: GlossaryBot) -> None:
    _group(bot).add_command(create_command)


async def teardown(bot: GlossaryBot) -> None:
    _group(bot).remove_command(create_command.name)
