"""What the bot did with one interaction the stand-in delivered, filled in as it answers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bot.sandbox.fake.clock import Clock, snowflake_time
from bot.sandbox.fake.constants import DEFAULT_TIMEOUT, EPHEMERAL, LOADING

if TYPE_CHECKING:
    from bot.sandbox.fake.core import FakeDiscord


class NotAnswered(LookupError):
    """The bot has not answered this interaction (yet), or not in the way asked about."""


def iter_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Walk a component tree (action rows, containers, sections, labels) depth first."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from iter_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from iter_components([component["accessory"]])


class InteractionReply:
    """What the bot did with one injected interaction.

    Created when the interaction is injected; filled in live as the bot answers, so a
    test can await follow-ups after the initial callback. ``content``/``embeds``/
    ``components``/``flags`` describe the *current* state of the response message
    (after deferrals, edits and a deferral-completing follow-up) when there is one, and
    the callback data otherwise (modal, autocomplete, deferred component update).
    """

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any], description: str) -> None:
        self.fake = fake
        self.payload = payload
        self.description = description
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.interaction_type: int = payload["type"]
        self.callback: dict[str, Any] | None = None
        self.original_message_id: int | None = None
        self.followups: list[dict[str, Any]] = []
        self.followup_message_ids: list[int] = []
        self.edits: list[dict[str, Any]] = []
        self.original_deleted = False
        self.injected_at: float | None = None  # loop time, for latency figures
        self.injected_clock: float | None = None  # the stand-in's clock, for Discord's deadlines
        if payload.get("message"):
            # A component interaction's "original" message is the one the component is on.
            self.original_message_id = int(payload["message"]["id"])

    def __repr__(self) -> str:
        return f"<InteractionReply {self.description} type={self.callback_type}>"

    def age(self, clock: Clock) -> float:
        """Seconds since the interaction was delivered, on the stand-in's clock."""
        started = self.injected_clock
        if started is None:
            started = snowflake_time(self.id)
        return clock.time() - started

    # -- raw state ---------------------------------------------------------------------
    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def type(self) -> int:
        """Callback type: 4 message, 5 deferred, 6 deferred update, 7 update, 8 choices, 9 modal."""
        if self.callback is None:
            raise NotAnswered(f"{self.description}: the bot has not responded yet")
        return int(self.callback["type"])

    @property
    def data(self) -> dict[str, Any]:
        """The ``data`` dict of the interaction callback ({} when absent)."""
        if self.callback is None:
            raise NotAnswered(f"{self.description}: the bot has not responded yet")
        return self.callback.get("data") or {}

    @property
    def message(self) -> dict[str, Any] | None:
        """The response message as the fake stores it now (None if there is none)."""
        if self.original_message_id is None or self.original_deleted:
            return None
        return self.fake.messages.get(self.original_message_id)

    @property
    def followup_messages(self) -> list[dict[str, Any]]:
        return [self.fake.messages[i] for i in self.followup_message_ids if i in self.fake.messages]

    def _view(self) -> dict[str, Any]:
        message = self.message
        if message is not None and self.callback_type not in (6, 8, 9, None):
            return message
        if message is not None and self.edits:
            return message
        return self.data

    @property
    def content(self) -> str | None:
        return self._view().get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self._view().get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self._view().get("components") or [])

    @property
    def flags(self) -> int:
        return int(self._view().get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred ("thinking") response has not been completed."""
        message = self.message
        return bool(message and int(message.get("flags") or 0) & LOADING)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        for body in [*reversed(self.edits), self.data]:
            if "allowed_mentions" in body:
                return body["allowed_mentions"]
        return None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        if self.type != 8:
            raise NotAnswered(
                f"{self.description}: expected autocomplete result, got type {self.type}"
            )
        return list(self.data.get("choices") or [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All buttons (type 2) in the current response, in order."""
        return [c for c in iter_components(self.components) if c.get("type") == 2]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    # -- waiting -----------------------------------------------------------------------
    async def wait_callback(self, timeout: float = DEFAULT_TIMEOUT) -> InteractionReply:
        await self.fake.wait_until(
            lambda: self.callback is not None, timeout, f"the bot's response to {self.description}"
        )
        return self

    async def wait_followup(self, n: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until at least ``n`` follow-ups were sent; return the n-th body."""
        await self.fake.wait_until(
            lambda: len(self.followups) >= n, timeout, f"follow-up #{n} to {self.description}"
        )
        return self.followups[n - 1]

    async def wait_edit(self, n: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until at least ``n`` edits of the original response; return the n-th body."""
        await self.fake.wait_until(
            lambda: len(self.edits) >= n,
            timeout,
            f"edit #{n} of the response to {self.description}",
        )
        return self.edits[n - 1]

