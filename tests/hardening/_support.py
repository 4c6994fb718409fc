"""Shared checks for the hardening tests: Discord's limits, pings, errors, answers.

The checks read the request bodies the bot really sent (``fake.requests``), so they hold
for every reply path, including the error handler's, without trusting the bot's own
helpers (``shorten``, ``echo``, ``_fit``): the limits are re-stated here from Discord's
documentation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from tests.support.fake_discord import FakeDiscord, RecordedRequest, iter_components

# Discord's documented limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256
EMBED_TOTAL = 6000
ACTION_ROWS = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100

CALLBACK_PATH = r"/interactions/(\d+)/[^/]+/callback"
FOLLOWUP_PATH = r"/webhooks/\d+/[^/]+"
MESSAGE_BODY_PATHS = (
    CALLBACK_PATH,
    FOLLOWUP_PATH,
    r"/webhooks/\d+/[^/]+/messages/[^/]+",
    r"/channels/\d+/messages(/\d+)?",
)
WATCHED_LOGGERS = ("bot", "cogs", "discord")


def embed_length(embed: dict[str, Any]) -> int:
    """Discord's count toward the 6,000 total: title, description, field names and values,
    footer text and author name."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def message_body(request: RecordedRequest) -> dict[str, Any] | None:
    """The message part of a request body (a callback's ``data``), or None."""
    body = request.json
    if not isinstance(body, dict):
        return None
    if re.fullmatch(CALLBACK_PATH, request.path):
        return body.get("data") if isinstance(body.get("data"), dict) else None
    return body


def limit_problems(body: dict[str, Any]) -> list[str]:
    """Every way ``body`` (a message, or an autocomplete result) breaks Discord's limits."""
    problems: list[str] = []
    if len(body.get("content") or "") > CONTENT_LIMIT:
        problems.append(f"content is {len(body['content'])} characters")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        problems.append(f"{len(embeds)} embeds")
    for embed in embeds:
        checks = [
            ("title", len(embed.get("title") or ""), EMBED_TITLE),
            ("description", len(embed.get("description") or ""), EMBED_DESCRIPTION),
            ("fields", len(embed.get("fields") or []), EMBED_FIELDS),
            ("footer", len((embed.get("footer") or {}).get("text") or ""), FOOTER_TEXT),
            ("author", len((embed.get("author") or {}).get("name") or ""), AUTHOR_NAME),
            ("total", embed_length(embed), EMBED_TOTAL),
        ]
        for field in embed.get("fields") or []:
            checks.append(("field name", len(field.get("name") or ""), FIELD_NAME))
            checks.append(("field value", len(field.get("value") or ""), FIELD_VALUE))
            if not field.get("name") or not field.get("value"):
                problems.append(f"empty field {field!r}")
        problems += [f"embed {what} is {n} (limit {limit})" for what, n, limit in checks
                     if n > limit]
    rows = body.get("components") or []
    if len(rows) > ACTION_ROWS:
        problems.append(f"{len(rows)} action rows")
    for row in rows:
        if len(row.get("components") or []) > BUTTONS_PER_ROW:
            problems.append(f"{len(row['components'])} components in a row")
    for component in iter_components(rows):
        if len(component.get("custom_id") or "") > CUSTOM_ID:
            problems.append(f"custom_id of {len(component['custom_id'])} characters")
        if len(component.get("label") or "") > BUTTON_LABEL:
            problems.append(f"button label of {len(component['label'])} characters")
    choices = body.get("choices")
    if choices is not None:
        if len(choices) > CHOICES:
            problems.append(f"{len(choices)} choices")
        for choice in choices:
            if not 1 <= len(choice["name"]) <= CHOICE_NAME:
                problems.append(f"choice name of {len(choice['name'])} characters")
            if len(str(choice["value"])) > CHOICE_VALUE:
                problems.append(f"choice value of {len(str(choice['value']))} characters")
    return problems


def ping_problems(body: dict[str, Any], allowed_users: set[int] = frozenset()) -> list[str]:
    """Ways a message ``body`` could ping someone other than ``allowed_users``.

    Every body that carries text must say ``allowed_mentions.parse == []`` (nobody from the
    text itself: no @everyone, no roles, no users) and may list only ``allowed_users``.
    """
    if not (body.get("content") or body.get("embeds")):
        return []
    mentions = body.get("allowed_mentions")
    if not isinstance(mentions, dict):
        return [f"no allowed_mentions in a message body (content={body.get('content')!r})"]
    problems = []
    if mentions.get("parse") != []:
        problems.append(f"allowed_mentions.parse is {mentions.get('parse')!r}")
    if mentions.get("roles"):
        problems.append(f"allowed_mentions.roles is {mentions['roles']!r}")
    users = {int(u) for u in mentions.get("users") or []}
    if not users <= set(allowed_users):
        problems.append(f"allowed_mentions.users {sorted(users)} beyond {sorted(allowed_users)}")
    if mentions.get("replied_user"):
        problems.append("allowed_mentions.replied_user is true")
    return problems


def outgoing_bodies(requests: list[RecordedRequest]) -> Iterator[tuple[RecordedRequest, dict]]:
    """(request, message body) for every request that carries a message or choices."""
    for request in requests:
        if request.method not in ("POST", "PATCH"):
            continue
        if not any(re.fullmatch(p, request.path) for p in MESSAGE_BODY_PATHS):
            continue
        body = message_body(request)
        if body is not None:
            yield request, body


def reply_problems(
    requests: list[RecordedRequest], allowed_users: set[int] = frozenset()
) -> list[str]:
    """Limit and ping problems of every message body in ``requests``, and any request the
    fake rejected (a 4xx means Discord would have dropped the answer)."""
    problems = []
    for request, body in outgoing_bodies(requests):
        for problem in limit_problems(body) + ping_problems(body, allowed_users):
            problems.append(f"{request.method} {request.path}: {problem}")
    for request in requests:
        if 400 <= request.status < 500 and request.status != 429:
            problems.append(f"{request.method} {request.path} answered {request.status}")
    return problems


def acknowledgements(fake: FakeDiscord) -> Counter[int]:
    """Successful interaction callbacks per interaction id (2 = answered twice)."""
    counts: Counter[int] = Counter()
    for request in fake.find_requests("POST", CALLBACK_PATH):
        if 200 <= request.status < 300:
            counts[int(re.fullmatch(CALLBACK_PATH, request.path)[1])] += 1
    return counts


class LogCapture(logging.Handler):
    """Keeps every record of the watched loggers (formatted, with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self._lock_lines:
            self.records.append(record)
            self.lines.append(text)

    def errors(self) -> list[str]:
        with self._lock_lines:
            return [line for record, line in zip(self.records, self.lines, strict=True)
                    if record.levelno >= logging.ERROR]

    @property
    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self.lines)


@contextlib.contextmanager
def captured_logs(level: int = logging.WARNING) -> Iterator[LogCapture]:
    """Capture the bot's, the cogs' and discord.py's records at ``level`` and above."""
    capture = LogCapture()
    saved = []
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(level)
        logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, old_level in saved:
            logger.removeHandler(capture)
            logger.setLevel(old_level)


class BackgroundBot:
    """One running bot on an event loop in a worker thread, driven synchronously.

    Hypothesis calls a plain function once per example; that function cannot await on the
    test's own (busy) event loop. So the bot lives on a loop of its own, started once per
    test, and each example hands its coroutine to that loop with
    ``run_coroutine_threadsafe`` and waits a bounded time for the result.
    """

    def __init__(self, start: Callable[[], contextlib.AbstractAsyncContextManager[Any]]):
        self._start = start
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bot-loop",
                                        daemon=True)
        self._stop: asyncio.Event | None = None
        self._started = asyncio.Event()
        self._runner: Any = None
        self.harness: Any = None

    def __enter__(self) -> BackgroundBot:
        self._thread.start()
        self._stop = self.run(self._new_event(), timeout=10)
        self._started = self.run(self._new_event(), timeout=10)
        self._runner = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)
        try:
            self.run(self._wait_started(), timeout=30)
        except BaseException:
            self._shutdown()
            raise
        return self

    @staticmethod
    async def _new_event() -> asyncio.Event:
        return asyncio.Event()

    async def _serve(self) -> None:
        assert self._stop is not None
        async with self._start() as harness:
            self.harness = harness
            self._started.set()
            await self._stop.wait()

    async def _wait_started(self) -> None:
        while not self._started.is_set():
            if self._runner is not None and self._runner.done():
                self._runner.result()  # raises the start-up failure
            await asyncio.sleep(0.01)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run ``coro`` on the bot's loop; wait at most ``timeout`` seconds for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc: object) -> None:
        try:
            if self._stop is not None:
                self.loop.call_soon_threadsafe(self._stop.set)
            if self._runner is not None:
                self._runner.result(30)  # re-raises the harness's end-of-run checks
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        """Cancel what is left (as asyncio.run does), then stop and close the loop."""
        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        with contextlib.suppress(Exception):
            self.run(cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()
