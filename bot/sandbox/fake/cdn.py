"""Files a member attaches to a slash command, served the way Discord's CDN serves them.

An option of type ATTACHMENT (11) arrives as the attachment's id; the attachment itself
is under ``data.resolved.attachments``: filename, size, content type, ``ephemeral`` and a
signed URL that expires (``ex`` expiry and ``is`` issue time as hex Unix seconds, ``hm``
the signature). The bot downloads it with discord.py's ``Attachment.read()`` from that
URL, so the download is an ordinary GET with no token. Discord's CDN answers a URL whose
signature is missing or wrong, or that expired (24 hours after it was issued), with 404
"This content is no longer available."; here the CDN is the stand-in's own server on
127.0.0.1, and the expiry follows the stand-in's clock.

A test (or the sandbox) passes a :class:`FakeUpload` as the option's value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.sandbox.fake.clock import Clock
from bot.sandbox.fake.constants import LOOPBACK_HOST

LINK_LIFETIME_S = 24 * 60 * 60
CDN_PREFIX = "/ephemeral-attachments"
GONE = "This content is no longer available."


@dataclass(frozen=True)
class FakeUpload:
    """A file a member attaches: what the CDN serves and what ``resolved`` describes."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class _Stored:
    upload: FakeUpload
    owner: int  # the first path segment of the URL


class CdnMixin:
    """``uploads`` by attachment id; ``_cdn_download`` serves them (see ``core.start``)."""

    clock: Clock
    app_id: int
    uploads: dict[int, _Stored]
    _cdn_secret: bytes
    port: int | None

    if TYPE_CHECKING:  # provided by the other parts of FakeDiscord

        def snowflake(self) -> int: ...
        def _notify(self) -> None: ...
        def _on_request(self, record: Any) -> None: ...

    def _signature(self, path: str, expires: int, issued: int) -> str:
        message = f"{path}?ex={expires:x}&is={issued:x}".encode()
        return hmac.new(self._cdn_secret, message, hashlib.sha256).hexdigest()

    def resolve_upload(self, upload: FakeUpload) -> dict[str, Any]:
        """Keep ``upload`` on the CDN; its ``resolved.attachments`` entry, as Discord sends
        it for a slash command's attachment option."""
        aid = self.snowflake()
        self.uploads[aid] = _Stored(upload, self.app_id)
        path = f"{CDN_PREFIX}/{self.app_id}/{aid}/{quote(upload.filename)}"
        issued = int(self.clock.time())
        expires = issued + LINK_LIFETIME_S
        query = f"ex={expires:x}&is={issued:x}&hm={self._signature(path, expires, issued)}&"
        url = f"http://{LOOPBACK_HOST}:{self.port}{path}?{query}"
        attachment: dict[str, Any] = {
            "id": str(aid),
            "filename": upload.filename,
            "size": len(upload.data),
            "url": url,
            "proxy_url": url.replace(CDN_PREFIX, CDN_PREFIX + "-proxy", 1),
            "ephemeral": True,
        }
        if upload.content_type:
            attachment["content_type"] = upload.content_type
        return attachment

    async def _cdn_download(self, request: web.Request) -> web.StreamResponse:
        response = self._cdn_answer(request)
        from bot.sandbox.fake.rest import RecordedRequest

        self._on_request(RecordedRequest(request.method, request.path, dict(request.query),
                                         None, response.status))
        self._notify()
        return response

    def _cdn_answer(self, request: web.Request) -> web.Response:
        gone = web.Response(status=404, text=GONE)
        try:
            aid = int(request.match_info["aid"])
            owner = int(request.match_info["owner"])
            expires = int(request.query["ex"], 16)
            issued = int(request.query["is"], 16)
        except (KeyError, ValueError):
            return gone
        stored = self.uploads.get(aid)
        if stored is None or owner != stored.owner:
            return gone
        path = f"{CDN_PREFIX}/{owner}/{aid}/{quote(request.match_info['name'])}"
        expected = self._signature(path, expires, issued)
        if not hmac.compare_digest(expected, request.query.get("hm", "")):
            return gone
        if self.clock.time() > expires or request.match_info["name"] != stored.upload.filename:
            return gone
        kind = stored.upload.content_type or "application/octet-stream"
        return web.Response(body=stored.upload.data, headers={"Content-Type": kind})
