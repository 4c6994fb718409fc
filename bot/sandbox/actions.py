"""What a person does on the sandbox page, turned into the interactions Discord would send:
typed commands, clicks and autocomplete, as a student or a moderator."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import discord

from bot.sandbox.commands import (
    BOOLEAN,
    CHANNEL,
    MENTIONABLE,
    ROLE,
    USER,
    CommandError,
    CommandSpec,
    convert,
    flatten,
    parse,
)
from bot.sandbox.fake import (
    FakeDiscord,
    FakeMember,
    InteractionReply,
    NotAnswered,
    WaitTimeout,
    iter_components,
)

if TYPE_CHECKING:
    from bot.client import GlossaryBot

# Longer than Discord's 3 s answer window, which the stand-in enforces itself.
RESPONSE_TIMEOUT = 5.0
AUTOCOMPLETE_TIMEOUT = 3.0


def display_name(member: FakeMember) -> str:
    return member.nick or member.global_name or member.username


class ActionsMixin:
    """``run_command``, ``click`` and ``autocomplete`` of :class:`~bot.sandbox.server.Sandbox`."""

    fake: FakeDiscord
    bot: GlossaryBot | None
    typed: dict[int, tuple[str, str]]

    if TYPE_CHECKING:  # provided by Sandbox

        def add_note(self, content: str, **kwargs: Any) -> dict[str, Any]: ...
        def page_message(self, message: dict[str, Any]) -> dict[str, Any]: ...

    def command_definitions(self) -> list[dict[str, Any]]:
        """The bot's chat-input commands, as it syncs them (with the synced ids)."""
        assert self.bot is not None
        tree = self.bot.tree
        synced = {c["name"]: c["id"] for c in self.fake.synced_commands(None)}
        definitions = []
        for command in tree.get_commands(type=discord.AppCommandType.chat_input):
            payload = command.to_dict(tree)
            if command.name in synced:
                payload["id"] = synced[command.name]
            definitions.append(payload)
        return definitions

    def commands(self) -> list[CommandSpec]:
        return flatten(self.command_definitions())

    def persona(self, name: object) -> FakeMember:
        if name == "moderator":
            return self.fake.moderator
        if name in (None, "student"):
            return self.fake.student
        raise CommandError(f"Unknown persona {name!r}; use student or moderator.")

    def _resolve(self, option_type: int, text: str) -> Any:
        """A user, channel or role named in an option, as Discord's client picks it."""
        guild = self.fake.guild
        wanted = text.strip().lstrip("@#").lower()
        if option_type in (USER, MENTIONABLE):
            for member in guild.members:
                names = {member.username.lower(), (member.global_name or "").lower(),
                         str(member.id), f"<{member.id}>", f"<@{member.id}>"}
                if wanted in names or text.strip() in names:
                    return member
            people = ", ".join(m.username for m in guild.members if not m.bot)
            raise CommandError(f"No member called {text!r} here. Members: {people}.")
        if option_type == CHANNEL:
            for channel in guild.channels:
                if wanted in (str(channel.get("name", "")).lower(), channel["id"]):
                    return channel
            raise CommandError(f"No channel called {text!r} here.")
        if option_type == ROLE:
            for role in guild.roles:
                if wanted in (role["name"].lower().lstrip("@"), role["id"]):
                    return role
            raise CommandError(f"No role called {text!r} here.")
        raise CommandError(f"Options of type {option_type} are not supported in the sandbox.")

    async def run_command(self, text: str, persona: str | None = None) -> dict[str, Any]:
        """Parse and run a typed command as ``persona``; returns the page's view of it."""
        member = self.persona(persona)
        text = text.strip()
        parsed = parse(text, self.commands())
        options = convert(parsed, self._resolve)
        spec = parsed.spec
        payload = self.fake.interaction_payload(
            2,
            self.fake.command_data(
                spec.name, spec.subpath, options, command_defs=self.command_definitions(),
                member=member,
            ),
            member=member,
        )
        self.typed[int(payload["id"])] = ("/" + spec.qualified_name, text)
        reply = await self._inject(
            payload, "/" + spec.qualified_name, (member, "used", "/" + spec.qualified_name)
        )
        return self._result(reply)

    async def click(
        self,
        message_id: str,
        custom_id: str,
        persona: str | None = None,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """Click a button (or pick ``values`` in a select menu) on a bot message."""
        member = self.persona(persona)
        message = self.fake.messages.get(_int(message_id))
        if message is None:
            raise LookupError("That message is gone.")
        component = next(
            (c for c in iter_components(message.get("components") or [])
             if c.get("custom_id") == custom_id),
            None,
        )
        if component is None:
            raise LookupError("That message has no such button.")
        if component.get("disabled"):
            raise CommandError("That button is disabled.")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": int(component["type"])}
        if data["component_type"] in (3, 5, 6, 7, 8):
            data["values"] = [str(v) for v in values or []][:25]
        payload = self.fake.interaction_payload(3, data, member=member, message=message)
        label = component.get("label") or custom_id
        reply = await self._inject(payload, f"click {custom_id!r}", (member, "clicked", label))
        return self._result(reply)

    async def _inject(
        self, payload: dict[str, Any], description: str, who: tuple[FakeMember, str]
    ) -> InteractionReply:
        reply = await self.fake.inject(payload, description, RESPONSE_TIMEOUT)
        try:
            await reply.wait_callback(RESPONSE_TIMEOUT)
        except WaitTimeout:
            self.add_note("The application did not respond", failed_command=who)
            raise CommandError("The application did not respond.") from None
        return reply

    def _result(self, reply: InteractionReply) -> dict[str, Any]:
        if reply.type == 9:
            title = reply.data.get("title") or "a form"
            self.add_note(f"The bot opened a form (**{title}**); the sandbox cannot show forms "
                          "yet. Try this one in Discord.")
        message = reply.message
        return {
            "ok": True,
            "callback_type": reply.type,
            "message": self.page_message(message) if message is not None else None,
        }

    async def autocomplete(self, text: str, persona: str | None = None) -> dict[str, Any]:
        """The suggestions Discord would show for the option being typed at the end of
        ``text``: the bot's own autocomplete where it has one, else Discord's client-side
        pickers (choices, true/false, members)."""
        member = self.persona(persona)
        empty: dict[str, Any] = {"choices": [], "option": None}
        try:
            parsed = parse(text, self.commands())
        except CommandError:
            return empty
        if parsed.focused is None:
            return empty
        spec = parsed.spec
        option = spec.option(parsed.focused)
        if option is None:
            return empty
        current = parsed.raw.get(option.name, "")
        start, end = parsed.spans[option.name]
        result: dict[str, Any] = {"option": option.name, "command": spec.qualified_name,
                                  "start": start, "end": end, "choices": []}
        if option.autocomplete:
            data = self.fake.command_data(
                spec.name, spec.subpath, {option.name: current},
                command_defs=self.command_definitions(), focused=option.name,
            )
            payload = self.fake.interaction_payload(4, data, member=member)
            reply = await self.fake.inject(payload, "autocomplete", AUTOCOMPLETE_TIMEOUT)
            with contextlib.suppress(WaitTimeout, NotAnswered):
                await reply.wait_callback(AUTOCOMPLETE_TIMEOUT)
                result["choices"] = [
                    {"name": str(c["name"]), "value": str(c["value"])} for c in reply.choices
                ]
            return result
        if option.choices:
            pairs = [(name, str(value)) for name, value in option.choices]
        elif option.type == BOOLEAN:
            pairs = [("True", "true"), ("False", "false")]
        elif option.type in (USER, MENTIONABLE):
            pairs = [(display_name(m), m.username) for m in self.fake.guild.members if not m.bot]
        else:
            return result
        wanted = current.lower()
        result["choices"] = [
            {"name": name, "value": value} for name, value in pairs
            if name.lower().startswith(wanted) or value.lower().startswith(wanted)
        ][:25]
        return result


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1
