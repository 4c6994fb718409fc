"""Answering interactions: the callback, the original response and follow-up webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.clock import Clock
from bot.sandbox.fake.constants import EPHEMERAL, LOADING
from bot.sandbox.fake.limits import modal_problems
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.rest import discord_error, form_error, json_response

TOKEN_LIFETIME = 15 * 60.0  # an interaction token works for 15 minutes


class WebhookMixin:
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{app}/{token}/...``."""

    app_id: int
    interactions: dict[int, InteractionReply]
    _by_token: dict[str, InteractionReply]
    messages: dict[int, dict[str, Any]]
    modals: dict[str, dict[str, Any]]
    ack_deadline: float | None
    late_callbacks: list[str]
    clock: Clock

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def _new_message(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]: ...
        def _apply(self, message: dict[str, Any], body: dict[str, Any],
                   files: list[dict[str, Any]], *, creating: bool = False) -> None: ...
        def _refuse(self, body: dict[str, Any], files: list[dict[str, Any]], *,
                    creating: bool, prefix: tuple[str, ...] = ()) -> web.Response | None: ...
        def _on_refused(self, problems: list[tuple[list[str | int], str, str]]) -> None: ...
        def _notify(self) -> None: ...
        async def _announce(self, event: str, message: dict[str, Any]) -> None: ...

    async def _callback(
        self,
        request: web.Request,
        iid: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.StreamResponse:
        reply = self.interactions.get(int(iid))
        if reply is None or reply.token != token:
            return discord_error(404, "Unknown interaction", 10062)
        if reply.callback is not None:
            return discord_error(400, "Interaction has already been acknowledged.", 40060)
        if self.ack_deadline is not None and reply.age(self.clock) > self.ack_deadline:
            self.late_callbacks.append(reply.description)
            return discord_error(404, "Unknown interaction", 10062)
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        refused = self._refuse_callback(reply, kind, data, files)
        if refused is not None:
            return refused
        interaction: dict[str, Any] = {"id": str(reply.id), "type": reply.interaction_type}
        resource: dict[str, Any] | None = None
        created: dict[str, Any] | None = None
        updated: dict[str, Any] | None = None
        if kind in (4, 5):
            created = self._create_response(reply, kind, data, files)
            interaction.update({
                "response_message_id": created["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            })
            resource = {"type": kind, "message": created}
        elif kind in (6, 7):
            target = self.messages.get(reply.original_message_id or 0)
            if target is not None:
                interaction["response_message_id"] = target["id"]
                if kind == 7:
                    self._apply(target, data, files, creating=False)
                    updated = target
                    resource = {"type": kind, "message": target}
        elif kind == 9:
            self.modals[data.get("custom_id", "")] = data
        reply.callback = body
        self._notify()
        if created is not None:
            await self._announce("MESSAGE_CREATE", created)
        if updated is not None:
            await self._announce("MESSAGE_UPDATE", updated)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        result: dict[str, Any] = {"interaction": interaction}
        if resource is not None:
            result["resource"] = resource
        return json_response(result)

    def _create_response(
        self, reply: InteractionReply, kind: int, data: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The response message of a type 4 (message) or 5 (deferred: "thinking") callback."""
        flags = int(data.get("flags") or 0)
        created = self._new_message(
            dict(data) if kind == 4 else {"flags": flags | LOADING},
            channel_id=int(reply.payload["channel_id"]),
            msg_type=20 if reply.interaction_type == 2 else 0,
            reply=reply,
            files=files,
        )
        reply.original_message_id = int(created["id"])
        return created

    def _refuse_callback(
        self, reply: InteractionReply, kind: int, data: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> web.Response | None:
        """Discord's answer to a callback it refuses: wrong type here, or a bad body."""
        allowed = {
            2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7),
        }.get(reply.interaction_type, (4, 5))
        if kind not in allowed:
            return discord_error(400, "Interaction callback type not allowed here", 50035)
        if kind == 4:
            return self._refuse(data, files, creating=True, prefix=("data",))
        if kind == 7:
            return self._refuse(data, files, creating=False, prefix=("data",))
        if kind == 9:
            problems = modal_problems(data)
            if problems:
                self._on_refused(problems)
                return form_error(problems)
        return None

    def _webhook_reply(self, app: str, token: str) -> InteractionReply | web.Response:
        """The interaction a webhook token belongs to, or Discord's refusal: unknown token,
        or one older than 15 minutes (401 50027 "Invalid Webhook Token")."""
        reply = self._by_token.get(token)
        if reply is None or int(app) != self.app_id:
            return discord_error(404, "Unknown Webhook", 10015)
        if reply.age(self.clock) > TOKEN_LIFETIME:
            return discord_error(401, "Invalid Webhook Token", 50027)
        return reply

    async def _get_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        found = self._original(app, token)
        return found if isinstance(found, web.Response) else json_response(found[1])

    def _original(self, app: str, token: str) -> tuple[Any, dict[str, Any]] | web.Response:
        """The interaction and its response message, or the error Discord answers."""
        reply = self._webhook_reply(app, token)
        if isinstance(reply, web.Response):
            return reply
        if reply.message is None:
            return discord_error(404, "Unknown Message", 10008)
        return reply, reply.message

    async def _edit_original(
        self,
        request: web.Request,
        app: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        found = self._original(app, token)
        if isinstance(found, web.Response):
            return found
        reply, message = found
        refused = self._refuse(body or {}, files, creating=False)
        if refused is not None:
            return refused
        reply.edits.append(body or {})
        self._apply(message, body or {}, files, creating=False)
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        found = self._original(app, token)
        if isinstance(found, web.Response):
            return found
        reply, message = found
        reply.original_deleted = True
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _followup(
        self,
        request: web.Request,
        app: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.StreamResponse:
        reply = self._webhook_reply(app, token)
        if isinstance(reply, web.Response):
            return reply
        if reply.callback is None:
            return discord_error(404, "Unknown Webhook", 10015)
        body = body or {}
        refused = self._refuse(body, files, creating=True)
        if refused is not None:
            return refused
        original = reply.message
        if (
            original is not None
            and reply.callback_type == 5
            and int(original.get("flags") or 0) & LOADING
        ):
            # Discord: the first follow-up after a "thinking" deferral replaces the
            # loading message, keeping the deferral's ephemerality, and pings no one.
            keep = int(original["flags"]) & EPHEMERAL
            self._apply(
                original, {k: v for k, v in body.items() if k != "flags"}, files, creating=False
            )
            original["flags"] = (int(original.get("flags") or 0) & ~LOADING) | keep
            original["edited_timestamp"] = None
            message = original
            event = "MESSAGE_UPDATE"
        else:
            message = self._new_message(
                body,
                channel_id=int(reply.payload["channel_id"]),
                msg_type=20 if reply.interaction_type == 2 else 0,
                reply=reply,
                files=files,
            )
            event = "MESSAGE_CREATE"
        reply.followups.append(body)
        reply.followup_message_ids.append(int(message["id"]))
        self._notify()
        await self._announce(event, message)
        if request.query.get("wait") in ("0", "false", "False"):
            return web.Response(status=204)
        return json_response(message)

    def _followup_message(
        self, app: str, token: str, mid: str
    ) -> tuple[InteractionReply, dict[str, Any]] | web.Response:
        reply = self._webhook_reply(app, token)
        if isinstance(reply, web.Response):
            return reply
        ids = {*reply.followup_message_ids, reply.original_message_id}
        message = self.messages.get(int(mid)) if int(mid) in ids else None
        if message is None:
            return discord_error(404, "Unknown Message", 10008)
        return reply, message

    async def _get_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        found = self._followup_message(app, token, mid)
        if isinstance(found, web.Response):
            return found
        return json_response(found[1])

    async def _edit_followup(
        self,
        request: web.Request,
        app: str,
        token: str,
        mid: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        found = self._followup_message(app, token, mid)
        if isinstance(found, web.Response):
            return found
        reply, message = found
        refused = self._refuse(body or {}, files, creating=False)
        if refused is not None:
            return refused
        if int(mid) == reply.original_message_id:
            reply.edits.append(body or {})
        self._apply(message, body or {}, files, creating=False)
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        found = self._followup_message(app, token, mid)
        if isinstance(found, web.Response):
            return found
        message = found[1]
        self.messages.pop(int(mid), None)
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)
