"""Waiting, bounded, for something another task or process makes true."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[object]], timeout: float = 10.0,
                     interval: float = 0.05) -> None:
    """Poll ``check`` (an async callable) until it returns true; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(interval)
