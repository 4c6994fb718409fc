"""Answering interactions: the callback, the original response and follow-up webhooks."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fake.constants import EPHEMERAL, LOADING
from bot.sandbox.fake.replies import InteractionReply
from bot.sandbox.fake.rest import discord_error, json_response


class WebhookMixin:
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{app}/{token}/...``."""

    app_id: int
    interactions: dict[int, InteractionReply]
    _by_token: dict[str, InteractionReply]
    messages: dict[int, dict[str, Any]]
    modals: dict[str, dict[str, Any]]
    ack_deadline: float | None
    late_callbacks: list[str]

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def _new_message(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]: ...
        def _apply(self, message: dict[str, Any], body: dict[str, Any],
                   files: list[dict[str, Any]], *, creating: bool = False) -> None: ...
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
        loop_time = asyncio.get_running_loop().time()
        if (
            self.ack_deadline is not None
            and reply.injected_at is not None
            and loop_time - reply.injected_at > self.ack_deadline
        ):
            self.late_callbacks.append(reply.description)
            return discord_error(404, "Unknown interaction", 10062)
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        channel_id = int(reply.payload["channel_id"])
        interaction: dict[str, Any] = {"id": str(reply.id), "type": reply.interaction_type}
        resource: dict[str, Any] | None = None
        created: dict[str, Any] | None = None
        updated: dict[str, Any] | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            msg_body = dict(data) if kind == 4 else {"flags": flags | LOADING}
            msg_type = 20 if reply.interaction_type == 2 else 0
            created = self._new_message(
                msg_body, channel_id=channel_id, msg_type=msg_type, reply=reply, files=files
            )
            reply.original_message_id = int(created["id"])
            interaction.update(
                {
                    "response_message_id": created["id"],
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                }
            )
            resource = {"type": kind, "message": created}
        elif kind in (6, 7):
            if reply.interaction_type not in (3, 5):
                return discord_error(400, "Interaction callback type not allowed here", 50035)
            target = self.messages.get(reply.original_message_id or 0)
            if target is not None:
                interaction["response_message_id"] = target["id"]
                if kind == 7:
                    self._apply(target, data, files, creating=False)
                    updated = target
                    resource = {"type": kind, "message": target}
        elif kind == 8:
            if reply.interaction_type != 4:
                return discord_error(400, "Interaction callback type not allowed here", 50035)
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

    def _reply_for_webhook(self, app: str, token: str) -> InteractionReply | None:
        reply = self._by_token.get(token)
        if reply is None or int(app) != self.app_id:
            return None
        return reply

    async def _get_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return discord_error(404, "Unknown Webhook", 10015)
        if reply.message is None:
            return discord_error(404, "Unknown Message", 10008)
        return json_response(reply.message)

    async def _edit_original(
        self,
        request: web.Request,
        app: str,
        token: str,
        body: Any,
        files: list[dict[str, Any]],
        **_: Any,
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return discord_error(404, "Unknown Webhook", 10015)
        message = reply.message
        if message is None:
            return discord_error(404, "Unknown Message", 10008)
        reply.edits.append(body or {})
        self._apply(message, body or {}, files, creating=False)
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_original(
        self, request: web.Request, app: str, token: str, **_: Any
    ) -> web.Response:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return discord_error(404, "Unknown Webhook", 10015)
        message = reply.message
        if message is None:
            return discord_error(404, "Unknown Message", 10008)
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
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return discord_error(404, "Unknown Webhook", 10015)
        if reply.callback is None:
            return discord_error(404, "Unknown Webhook", 10015)
        body = body or {}
        original = reply.message
        if (
            original is not None
            and reply.callback_type == 5
            and int(original.get("flags") or 0) & LOADING
        ):
            # Discord: the first follow-up after a "thinking" deferral replaces the
            # loading message (keeping the deferral's ephemerality).
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
    ) -> tuple[InteractionReply | None, dict[str, Any] | None]:
        reply = self._reply_for_webhook(app, token)
        if reply is None:
            return None, None
        ids = {*reply.followup_message_ids, reply.original_message_id}
        return reply, self.messages.get(int(mid)) if int(mid) in ids else None

    async def _get_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        _, message = self._followup_message(app, token, mid)
        if message is None:
            return discord_error(404, "Unknown Message", 10008)
        return json_response(message)

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
        reply, message = self._followup_message(app, token, mid)
        if reply is None or message is None:
            return discord_error(404, "Unknown Message", 10008)
        if int(mid) == reply.original_message_id:
            reply.edits.append(body or {})
        self._apply(message, body or {}, files, creating=False)
        self._notify()
        await self._announce("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_followup(
        self, request: web.Request, app: str, token: str, mid: str, **_: Any
    ) -> web.Response:
        reply, message = self._followup_message(app, token, mid)
        if reply is None or message is None:
            return discord_error(404, "Unknown Message", 10008)
        self.messages.pop(int(mid), None)
        self._notify()
        await self._announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

