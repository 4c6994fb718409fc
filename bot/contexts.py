"""Where a command runs: a class server with the bot, a DM, or anywhere a student took it.

Discord lets a student install the app on their own account and use it in any DM, group
DM or server, including servers the bot never joined. There ``interaction.guild`` is None
even when ``guild_id`` is set, ``interaction.user`` is a ``User`` rather than a ``Member``,
and the bot can answer only the interaction itself. Commands a student uses alone declare
``anywhere()``; everything else keeps the tree's default (installed in a server, used in
it; see ``GlossaryBot``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.storage.glossary import Glossary
    from bot.storage.study import Study as StudyStore

log = logging.getLogger(__name__)

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
    if in_class_server(interaction):  # first: the command is not looked up for it
        return True
    command = interaction.command
    if command is None:
        return True
    root = getattr(command, "root_parent", None) or command
    installs = root.allowed_installs or interaction.client.tree.allowed_installs  # type: ignore[attr-defined]
    return bool(installs.user)


class StudentGlossaries:
    """Which glossary answers a student outside a class server: the one they chose with
    ``/study glossary``, else the one of the class server they last used, else the
    default. Kept in memory (read once at start) so a lookup costs no database trip; a
    change is written in the background, only when it is a change."""

    def __init__(self, store: StudyStore) -> None:
        self._store = store
        self._choices: dict[int, tuple[str, bool]] = {}
        self._writes: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        self._choices = await self._store.glossary_choices()

    def get(self, user_id: int) -> str | None:
        found = self._choices.get(user_id)
        return found[0] if found else None

    def chosen(self, user_id: int) -> bool:
        return self._choices.get(user_id, ("", False))[1]

    def used_in_class(self, user_id: int, name: str) -> None:
        current = self._choices.get(user_id)
        if current is not None and (current[1] or current[0] == name):
            return
        self._choices[user_id] = (name, False)
        self._write(self._store.set_glossary(user_id, name, chosen=False))

    async def choose(self, user_id: int, name: str | None) -> None:
        """``None``: back to the class server's glossary (the last one used)."""
        await self._store.set_glossary(user_id, name, chosen=True)
        if name is None:
            self._choices.pop(user_id, None)
        else:
            self._choices[user_id] = (name, True)

    def _write(self, write: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Could not remember a student's glossary: %s", task.exception())


def glossary_for(interaction: discord.Interaction) -> Glossary:
    """The glossary that answers this interaction: in a class server the one it uses
    (remembered for the student); elsewhere (a DM, a server only the student installed
    the app in) the student's glossary (see ``StudentGlossaries``)."""
    client = interaction.client
    server = class_server_id(interaction)
    students: StudentGlossaries = client.student_glossaries  # type: ignore[attr-defined]
    if server is not None:
        glossary = client.glossary_for(server)  # type: ignore[attr-defined]
        students.used_in_class(interaction.user.id, glossary.name)
        return glossary
    name = students.get(interaction.user.id)
    if name is not None and client.glossary_map.named(name) is not None:  # type: ignore[attr-defined]
        return client.store.glossary_named(name)  # type: ignore[attr-defined]
    return client.glossary_for(None)  # type: ignore[attr-defined]
