"""Driving the bot like a user does (tests only): slash commands, autocomplete, clicks and
modal submits, each waiting for the bot's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.fake.constants import DEFAULT_TIMEOUT
from bot.sandbox.fake.replies import InteractionReply, iter_components
from bot.sandbox.fake.world import FakeMember

if TYPE_CHECKING:
    from bot.sandbox.fake.core import FakeDiscord as _Base
else:
    _Base = object


class DriverMixin(_Base):
    """``slash``, ``autocomplete``, ``click`` and ``submit_modal`` on the stand-in."""

    async def slash(
        self,
        name: str,
        *path: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        command_defs: list[dict[str, Any]] | None = None,
        command_guild_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> InteractionReply:
        """Run ``/name [path...]`` with options; wait for the bot's callback."""
        member = member or self.student
        all_options = {**(options or {}), **kwargs}
        data = self.command_data(
            name,
            path,
            all_options,
            guild_id=command_guild_id if command_defs is not None else member.guild_id,
            command_defs=command_defs,
            member=member,
        )
        payload = self.interaction_payload(2, data, member=member, channel=channel)
        reply = await self.inject(payload, "/" + " ".join((name, *path)), timeout)
        return await reply.wait_callback(timeout)

    async def autocomplete(
        self,
        name: str,
        *path: str,
        focused: str,
        member: FakeMember | None = None,
        channel: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        command_defs: list[dict[str, Any]] | None = None,
        command_guild_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused``; return the choices the bot offered."""
        member = member or self.student
        all_options = {**(options or {}), **kwargs}
        all_options.setdefault(focused, "")
        data = self.command_data(
            name,
            path,
            all_options,
            guild_id=command_guild_id if command_defs is not None else member.guild_id,
            command_defs=command_defs,
            focused=focused,
            member=member,
        )
        payload = self.interaction_payload(4, data, member=member, channel=channel)
        reply = await self.inject(
            payload, f"autocomplete /{' '.join((name, *path))} {focused}", timeout
        )
        await reply.wait_callback(timeout)
        return reply.choices

    async def click(
        self,
        custom_id: str,
        *,
        message: dict[str, Any] | None = None,
        member: FakeMember | None = None,
        component_type: int | None = None,
        values: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Click a button / choose select ``values`` on ``message`` (default: synthetic)."""
        if message is None:
            message = self.synthetic_message(custom_id, component_type=component_type or 2)
        present = {
            c["custom_id"]: c
            for c in iter_components(message.get("components") or [])
            if "custom_id" in c
        }
        found = present.get(custom_id)
        assert found is not None, (
            f"message {message.get('id')} has no component {custom_id!r}; has {list(present)}"
        )
        component_type = component_type or int(found["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if component_type in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        payload = self.interaction_payload(
            3, data, member=member, message=message, channel=self._channel_of(message)
        )
        reply = await self.inject(payload, f"click {custom_id!r}", timeout)
        return await reply.wait_callback(timeout)

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, str | list[str]],
        *,
        member: FakeMember | None = None,
        modal: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InteractionReply:
        """Submit modal ``custom_id`` with ``values`` by input custom_id.

        The submitted structure mirrors the modal the bot showed (``modal`` or the last
        one with that custom_id): action rows of text inputs, or Label (type 18)
        components wrapping a text input / select. Unknown custom_ids fail loudly.
        """
        modal = modal or self.modals.get(custom_id)
        if modal is not None:
            components = _modal_submit_components(modal.get("components") or [], values)
        else:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ]
        data = {"custom_id": custom_id, "components": components}
        payload = self.interaction_payload(
            5,
            data,
            member=member,
            message=message,
            channel=self._channel_of(message) if message else None,
        )
        reply = await self.inject(payload, f"modal {custom_id!r}", timeout)
        return await reply.wait_callback(timeout)



def _modal_submit_components(
    components: list[dict[str, Any]], values: dict[str, str | list[str]]
) -> list[dict[str, Any]]:
    """Mirror a modal's layout into a MODAL_SUBMIT ``components`` list."""
    remaining = dict(values)

    def submit(component: dict[str, Any]) -> dict[str, Any] | None:
        cid = component.get("custom_id")
        if cid is None:
            return None
        kind = component.get("type")
        value = remaining.pop(cid, None)
        if kind == 4:
            return {
                "type": 4,
                "id": component.get("id", 0),
                "custom_id": cid,
                "value": "" if value is None else value,
            }
        return {
            "type": kind,
            "id": component.get("id", 0),
            "custom_id": cid,
            "values": [] if value is None else ([value] if isinstance(value, str) else value),
        }

    out: list[dict[str, Any]] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:
            inner = [c for c in map(submit, component.get("components") or []) if c]
            out.append({"type": 1, "id": component.get("id", 0), "components": inner})
        elif kind == 18 and isinstance(component.get("component"), dict):
            inner_one = submit(component["component"])
            if inner_one:
                out.append({"type": 18, "id": component.get("id", 0), "component": inner_one})
        elif kind == 10:
            continue
        else:
            single = submit(component)
            if single:
                out.append(single)
    assert not remaining, f"modal has no inputs {sorted(remaining)}"
    return out
