"""The tests' fake Discord: the sandbox's stand-in plus what only tests need.

:class:`FakeDiscord` here adds to :class:`bot.sandbox.fake.FakeDiscord` (the same code the
sandbox runs, so both can never drift apart):

* recorders: ``requests`` (every REST request, :class:`RecordedRequest`), ``unknown_routes``,
  ``gateway_log``, ``logged_errors`` (filled by the harness), ``find_requests`` and
  ``wait_for_request``;
* OpenAPI validation of every JSON body (``schema_violations``, answered 400 50035 as
  Discord would), see :mod:`tests.support.schema`;
* ``refusals``: bodies refused by Discord's limits (``bot.sandbox.fake.limits``);
* fault injection (:mod:`tests.support.faults`) and user-like driving helpers
  (:mod:`tests.support.driving`);
* timeouts that fail the test: ``AssertionError`` with what was awaited and what happened.

Run standalone (prints the URLs, serves until interrupted)::

    python -m bot.sandbox.fake --port 0
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox import fake as _fake
from bot.sandbox.fake import (
    ADMINISTRATOR,
    API_PREFIX,
    DEFAULT_TIMEOUT,
    EMBED_LINKS,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    LOADING,
    LOOPBACK_HOST,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeGuild,
    FakeMember,
    FakeUpload,
    GatewaySession,
    InteractionReply,
    NetworkGuard,
    NetworkGuardError,
    RecordedRequest,
    WaitTimeout,
    iter_components,
)
from bot.sandbox.fake.rest import form_error
from tests.support.driving import DriverMixin
from tests.support.faults import FaultMixin
from tests.support.schema import DEFAULT_SPEC_PATH, SchemaValidator, get_schema_validator

__all__ = [
    "ADMINISTRATOR",
    "API_PREFIX",
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TIMEOUT",
    "EMBED_LINKS",
    "EPHEMERAL",
    "EVERYONE_PERMISSIONS",
    "LOADING",
    "LOOPBACK_HOST",
    "MANAGE_GUILD",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeUpload",
    "GatewaySession",
    "InteractionReply",
    "NetworkGuard",
    "NetworkGuardError",
    "RecordedRequest",
    "SchemaValidator",
    "get_schema_validator",
    "iter_components",
]


class FakeDiscord(FaultMixin, DriverMixin, _fake.FakeDiscord):
    """The stand-in with recorders, schema validation, faults and driving helpers."""

    def __init__(
        self,
        *,
        validate_schema: bool = True,
        spec_path: Path | None = None,
        **options: Any,
    ) -> None:
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.schema_violations: list[tuple[str, str, str]] = []
        self.gateway_log: list[dict[str, Any]] = []
        self.logged_errors: list[str] = []
        self.refusals: list[list[tuple[list[str | int], str, str]]] = []
        self._faults = []
        self._limits = []
        self.schema: SchemaValidator | None = (
            get_schema_validator(spec_path) if validate_schema else None
        )
        super().__init__(**options)

    @property
    def schema_check_skipped_reason(self) -> str | None:
        if self.schema is None:
            return "schema validation disabled for this FakeDiscord"
        return self.schema.skipped_reason

    def forget_history(self) -> None:
        super().forget_history()
        self.requests.clear()

    # -- hooks -------------------------------------------------------------------------
    def _before_route(
        self, method: str, path: str, body: Any, parse_error: str | None
    ) -> web.StreamResponse | None:
        fault = self._take_fault(method, path) or self._take_limit(method, path)
        if fault is not None:
            return fault
        if parse_error is not None:
            self.schema_violations.append((method, path, parse_error))
            return None  # the stand-in answers 400 50109
        if body is not None and self.schema is not None:
            problems = self.schema.validate(method, path, body)
            if problems:
                for _, _, message in problems:
                    self.schema_violations.append((method, path, message))
                return form_error(problems)
        return None

    def _on_request(self, record: RecordedRequest) -> None:
        self.requests.append(record)

    def _on_refused(self, problems: list[tuple[list[str | int], str, str]]) -> None:
        self.refusals.append(problems)

    def _on_unknown_route(self, method: str, path: str) -> None:
        self.unknown_routes.append((method, path))

    def _on_gateway_frame(self, frame: dict[str, Any]) -> None:
        self.gateway_log.append(frame)

    # -- waiting and the request log ----------------------------------------------------
    async def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """As the stand-in's, but a timeout fails the test (AssertionError) with diagnostics."""
        try:
            return await super().wait_until(predicate, timeout, what)
        except WaitTimeout as exc:
            raise AssertionError(str(exc)) from None

    def _diagnostics(self) -> str:
        lines = []
        if self.schema_violations:
            lines.append(f"schema violations: {self.schema_violations[-3:]}")
        if self.unknown_routes:
            lines.append(f"unknown routes: {self.unknown_routes[-3:]}")
        if self.refusals:
            lines.append(f"refused as Discord would: {self.refusals[-3:]}")
        if self.late_callbacks:
            lines.append(f"acknowledged too late (> {self.ack_deadline}s): {self.late_callbacks}")
        recent = [f"{r.method} {r.path} -> {r.status}" for r in self.requests[-5:]]
        lines.append(f"last requests: {recent}")
        for error in self.logged_errors[-2:]:
            lines.append("bot logged: " + error)
        return "\n  " + "\n  ".join(lines)

    def find_requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RecordedRequest]:
        rx = re.compile(path_regex) if path_regex else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (rx is None or rx.fullmatch(r.path))
        ]

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        count: int = 1,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        """Wait until ``count`` matching requests were *answered*; return the count-th.

        Looks at the whole log, so a request made before the call counts. ``path_regex``
        is ``re.fullmatch``-ed against the path without ``/api/v10``.
        """

        def matching() -> list[RecordedRequest]:
            return [
                r
                for r in self.find_requests(method, path_regex)
                if r.status and (predicate is None or predicate(r))
            ]

        await self.wait_until(
            lambda: len(matching()) >= count, timeout, f"request #{count} {method} {path_regex}"
        )
        return matching()[count - 1]
