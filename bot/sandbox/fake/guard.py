"""No network: refuse every aiohttp request to a host that is not loopback.

The sandbox promises that nothing leaves the machine, and the tests must never reach the
real Discord; both run the bot inside a :class:`NetworkGuard`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import aiohttp
from yarl import URL


class NetworkGuardError(RuntimeError):
    """Raised when code under test tries to reach a host that is not loopback.

    A RuntimeError (not OSError/aiohttp.ClientError) on purpose: discord.py's reconnect
    loop swallows and retries network errors, but lets this one propagate so a
    misconfigured bot fails fast instead of hammering the real Discord.
    """


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class NetworkGuard:
    """Refuse every aiohttp client request whose host (or proxy) is not loopback.

    Implemented by wrapping ``aiohttp.ClientSession._request`` (which ``request``,
    ``get``, ``ws_connect``... all go through): aiohttp's private method, patched because
    discord.py creates its own session and connector internally and every other session
    in the process (tests, plugins) must be covered too; no discord.py attribute is
    touched. The check runs before any DNS lookup or connection attempt. Blocked URLs are
    also recorded in :attr:`blocked`, since the bot may catch the exception and carry on;
    the harness fails the test on exit if anything was blocked. Guards nest; the original
    method is restored when the last active guard exits.
    """

    _active: list[NetworkGuard] = []
    _original: Any = None

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __enter__(self) -> NetworkGuard:
        cls = type(self)
        if not cls._active:
            cls._original = aiohttp.ClientSession._request
            original = cls._original

            @functools.wraps(original)
            async def guarded(
                session: aiohttp.ClientSession,
                method: str,
                str_or_url: Any,
                *args: Any,
                **kwargs: Any,
            ) -> Any:
                _check_loopback(session, method, str_or_url, kwargs.get("proxy"))
                return await original(session, method, str_or_url, *args, **kwargs)

            aiohttp.ClientSession._request = guarded  # type: ignore[method-assign]
        cls._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        cls = type(self)
        with contextlib.suppress(ValueError):
            cls._active.remove(self)
        if not cls._active and cls._original is not None:
            aiohttp.ClientSession._request = cls._original  # type: ignore[method-assign]
            cls._original = None


def _check_loopback(
    session: aiohttp.ClientSession, method: str, str_or_url: Any, proxy: Any
) -> None:
    url = URL(str(str_or_url))
    base = getattr(session, "_base_url", None)
    if not url.is_absolute() and base is not None:
        url = base.join(url)
    hosts = [url.host]
    if proxy is not None:
        hosts.append(URL(str(proxy)).host)
    for host in hosts:
        if host not in _LOOPBACK_HOSTS:
            message = f"blocked non-loopback request: {method} {url} (host {host!r})"
            message = f"blocked non-loopback request: {method} {url} (host {host!r})"
            for guard in NetworkGuard._active:
                guard.blocked.append(message)
            raise NetworkGuardError(message)




def check_loopback_url(url: str) -> None:
    """Refuse a configured URL that is not on this machine (a typo must not send the token
    to another host)."""
    host = URL(url).host
    if host not in _LOOPBACK_HOSTS:
        raise NetworkGuardError(f"{url}: the Discord stand-in must be on a loopback address "
                                "(127.0.0.1, localhost or ::1)")
