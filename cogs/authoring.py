"""/glossary export: the glossary as a file, attached, for the glossary's editors.

The command joins the moderators' /glossary group (cogs.moderation, loaded first). The
file is exactly what ``glossary-bot export`` writes (``bot.export``), made off the event
loop from the glossary the bot serves. /glossary add, edit, remove and import follow once
per-server glossaries land (issue 15); they use ``can_edit`` too.
"""

from __future__ import annotations

import asyncio
import io
from typing import Literal

import discord
from discord import app_commands

from bot.cards import error_embed
from bot.client import GlossaryBot, NotModerator, is_moderator
from bot.export import export, file_name

FORMAT_NAMES = {
    "csv": "spreadsheet (CSV)", "json": "JSON", "md": "one Markdown page",
    "apkg": "Anki deck", "yaml": "term files (zip)",
}


async def can_edit(interaction: discord.Interaction) -> bool:
    """Who may change or export the glossary: moderators for now. The one place that
    decides it, so per-server glossaries can narrow it to a glossary's editors."""
    return await is_moderator(interaction)


def editors_only():  # noqa: ANN201 - a discord.py check decorator
    async def predicate(interaction: discord.Interaction) -> bool:
        if not await can_edit(interaction):
            raise NotModerator("editors only")
        return True

    return app_commands.check(predicate)


@app_commands.command(name="export", description="Download the glossary as a spreadsheet, "
                      "JSON, a Markdown page, an Anki deck or term files")
@app_commands.describe(format="What kind of file (default: a spreadsheet)")
@app_commands.rename(format="format")
@editors_only()
async def export_command(
    interaction: discord.Interaction,
    format: Literal["csv", "json", "md", "apkg", "yaml"] = "csv",  # noqa: A002
) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    await interaction.response.defer(ephemeral=True, thinking=True)  # 10,000 terms: seconds
    terms = await bot.store.glossary.all_terms()
    data = await asyncio.to_thread(export, terms, format, bot.config.course_name)
    limit = interaction.guild.filesize_limit if interaction.guild else 10 * 1024 * 1024
    if len(data) > limit:
        await interaction.followup.send(embed=error_embed(
            "Too big to attach",
            f"The {FORMAT_NAMES[format]} is {len(data) / 1e6:.1f} MB; this server takes "
            f"files up to {limit / 1e6:.0f} MB. Try another format, or ask the bot's "
            f"operator for `glossary-bot export --format {format}`."), ephemeral=True)
        return
    await interaction.followup.send(
        f"The glossary as a {FORMAT_NAMES[format]}: {len(terms)} terms.",
        file=discord.File(io.BytesIO(data), filename=file_name(format)), ephemeral=True)


def _group(bot: GlossaryBot) -> app_commands.Group:
    group = bot.tree.get_command("glossary")
    if not isinstance(group, app_commands.Group):
        raise RuntimeError("cogs.authoring needs cogs.moderation's /glossary group: load it "
                           "first")
    return group


async def setup(bot: GlossaryBot) -> None:
    _group(bot).add_command(export_command)


async def teardown(bot: GlossaryBot) -> None:
    _group(bot).remove_command(export_command.name)
