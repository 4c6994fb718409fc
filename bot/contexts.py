"""Where a command runs: a class server with the bot, a DM, or anywhere a student took it.

Discord lets a student install the app on their own account and use it in any DM, group
DM or server, including servers the bot never joined. There ``interaction.guild`` is None
even when ``guild_id`` is set, ``interaction.user`` is a ``User`` rather than a ``Member``,
and the bot can answer only the interaction itself. Commands a student uses alone declare
``anywhere()``; everything else keeps the tree's default (installed in a server, used in
it; see ``GlossaryBot``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.storage.glossary import Glossary

T = TypeVar("T")

# The tree's default for every command that does not say otherwise: server-only.
SERVER_CONTEXTS = app_commands.AppCommandContext(guild=True)
SERVER_INSTALLS = app_commands.AppInstallationType(guild=True)
# A student's own commands: installed to a server or to the student, used anywhere.
ANY_CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
ANY_INSTALLS = app_commands.AppInstallationType(guild=True, user=True)


def anywhere() -> object:
    """Decorator: a command that works in servers, the bot's DMs, group DMs and servers
    where only the student installed the app."""
    def decorate(command: T) -> T:
        command = app_commands.allowed_installs(guilds=True, users=True)(command)
        return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(
            command)

    return decorate


def in_class_server(interaction: discord.Interaction) -> bool:
    """The bot is installed in the server this interaction comes from (its settings,
    channels and moderators apply); False in DMs and in servers only the student added
    the app to."""
    return interaction.guild_id is not None and interaction.is_guild_integration()


def class_server_id(interaction: discord.Interaction) -> int | None:
    """The class server's id, or None where no server's settings apply."""
    return interaction.guild_id if in_class_server(interaction) else None


def allowed_here(interaction: discord.Interaction) -> bool:
    """Whether this command may run here: a server-only command (the tree's default)
    only in a server that installed the bot. Discord does not offer them elsewhere; this
    answers a stale client, or a command synced before user install, all the same."""
    command = interaction.command
    if command is None or in_class_server(interaction):
        return True
    root = getattr(command, "root_parent", None) or command
    installs = root.allowed_installs or interaction.client.tree.allowed_installs  # type: ignore[attr-defined]
    return bool(installs.user)


def glossary_for(interaction: discord.Interaction) -> Glossary:
    """The glossary that answers this interaction.

    One glossary today. Per-server glossaries (issue 15) plug in here: in a class server
    its own, elsewhere the one of the class server the student last used or chose."""
    return interaction.client.store.glossary  # type: ignore[attr-defined]
