"""/glossary reload, stats, settings and suggestions, for moderators."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import saved_suggestions_embed, settings_embed, stats_embed
from bot.cards.study import add_class_figures
from bot.channels import explain_missing, missing_to_post
from bot.client import GlossaryBot, NotEditor, NotModerator, is_moderator, moderator_only
from bot.errors import ChannelNotUsable, FilesElsewhere
from bot.reloads import reload_and_report


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Moderation(commands.GroupCog, group_name="glossary",
                 group_description="Manage the glossary (moderators)"):
    def __init__(self, bot: GlossaryBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="reload", description="Reload the term files and show what "
                          "changed (or what is wrong)")
    async def reload(self, interaction: discord.Interaction) -> None:
        """For the editors of the server's glossary only: a shared glossary is changed by
        the servers that own it, not by every server that uses it."""
        spec = self.bot.spec_for(interaction.guild_id)
        moderator = await is_moderator(interaction)
        in_server = interaction.client.get_guild(interaction.guild_id or 0) is not None
        if not (in_server and self.bot.glossary_map.may_edit(
                spec, interaction.user.id, interaction.guild_id if moderator else None)):
            if not moderator:
                raise NotModerator("moderators only")
            names = {g.id: g.name for g in self.bot.guilds}
            raise NotEditor(self.bot.glossary_map.who_may_edit(spec, names))
        if spec.content_dir is None:
            await interaction.response.send_message(
                f"The glossary **{spec.name}** lives in the database alone: there are no term "
                "files to reload.", ephemeral=True)
            return
        if self.bot.store.pg is not None and not spec.content_dir.is_dir():
            raise FilesElsewhere  # the host with the files reloads them
        # Parsing a large glossary can take longer than Discord's 3-second answer window.
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await reload_and_report(self.bot.store, spec.content_dir, spec.name,
                                         actor_name=interaction.user.display_name,
                                         actor_id=interaction.user.id)
        await interaction.followup.send(embed=report.embed, ephemeral=True)

    @app_commands.command(name="stats", description="Most looked-up terms and missing terms "
                          "students asked for")
    @moderator_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        # Counts are saved first, a write that may wait behind a reload: answer within 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None  # guild_only
        glossary = self.bot.glossary_for(interaction.guild_id)
        stats = await self.bot.store.records.stats(interaction.guild_id, glossary.id)
        embed = stats_embed(stats, self.bot.config.embed_colour)
        add_class_figures(embed, await self.bot.store.study.class_figures(  # sums only
            interaction.guild_id, glossary.id))
        await interaction.followup.send(embed=embed, ephemeral=True)

    @app_commands.command(name="settings", description="Show or change this server's "
                          "glossary settings")
    @app_commands.describe(
        define_visibility="Whether /define answers for everyone or only the asker by default",
        moderator_role="Members with this role may use /glossary commands",
        moderators_channel="Where suggested fixes and auto-reload reports are posted",
        daily_channel="Post a term of the day in this channel",
        daily_hour="Hour of the day (0-23, server time zone) for the term of the day",
        turn_off="Turn one of these off",
    )
    @moderator_only()
    async def settings(
        self,
        interaction: discord.Interaction,
        define_visibility: Literal["public", "private"] | None = None,
        moderator_role: discord.Role | None = None,
        moderators_channel: discord.TextChannel | None = None,
        daily_channel: discord.TextChannel | None = None,
        daily_hour: app_commands.Range[int, 0, 23] | None = None,
        turn_off: Literal["moderator role", "moderators channel", "term of the day"]
        | None = None,
    ) -> None:
        assert interaction.guild_id is not None  # guild_only
        for chosen in (moderators_channel, daily_channel):
            if chosen is not None and (missing := missing_to_post(chosen)):
                raise ChannelNotUsable(explain_missing(chosen, missing))
        # Saving is a write that may wait for a reload; answer within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        changes: dict[str, object] = {}
        if define_visibility is not None:
            changes["define_private"] = define_visibility == "private"
        if moderator_role is not None:
            changes["moderator_role_id"] = moderator_role.id
        if moderators_channel is not None:
            changes["mod_channel_id"] = moderators_channel.id
        if daily_channel is not None:
            changes["daily_channel_id"] = daily_channel.id
        if daily_hour is not None:
            changes["daily_hour"] = daily_hour
        off = {"moderator role": "moderator_role_id", "moderators channel": "mod_channel_id",
               "term of the day": "daily_channel_id"}
        if turn_off is not None:
            changes[off[turn_off]] = None
        store = self.bot.store
        settings = (await store.records.update_guild_settings(interaction.guild_id, **changes)
                    if changes else await store.records.guild_settings(interaction.guild_id))
        await interaction.followup.send(
            embed=settings_embed(settings, self.bot.config.embed_colour, self.bot.config.timezone),
            ephemeral=True,
        )

    @app_commands.command(name="suggestions", description="Fixes students suggested, including "
                          "any that could not be posted")
    @moderator_only()
    async def suggestions(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # guild_only
        saved = await self.bot.store.suggestions.latest(interaction.guild_id)
        await interaction.response.send_message(
            embed=saved_suggestions_embed(saved, self.bot.config.embed_colour), ephemeral=True)


def glossary_group(bot: GlossaryBot, cog: str) -> app_commands.Group:
    """This cog's /glossary group, which the authoring, history, import and create cogs
    add their commands to (they are loaded after it)."""
    group = bot.tree.get_command("glossary")
    if not isinstance(group, app_commands.Group):
        raise RuntimeError(f"{cog} needs cogs.moderation's /glossary group: load it first")
    return group


async def setup(bot: GlossaryBot) -> None:
    await bot.add_cog(Moderation(bot))
