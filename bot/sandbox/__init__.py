"""``glossary-bot sandbox``: try the real bot in a browser, without Discord.

One process runs a local stand-in for Discord (:mod:`bot.sandbox.fake`, the same
code the tests use), the real bot connected to it, and a page on 127.0.0.1 that looks and
behaves like a Discord channel (:mod:`bot.sandbox.server`). No token, account or network
is needed, and the sandbox keeps its own database so its lookups never mix with the real
bot's statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.sandbox.errors import PortInUse, SandboxError

if TYPE_CHECKING:
    from bot.sandbox.server import DEFAULT_PORT, Sandbox, sandbox_database

__all__ = ["DEFAULT_PORT", "PortInUse", "Sandbox", "SandboxError", "run_sandbox",
           "sandbox_database"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def __getattr__(name: str) -> Any:
    """The server (and with it discord.py and the bot) is imported on first use, so that
    importing :mod:`bot.sandbox.fake` - as the tests do - stays light."""
    if name in ("DEFAULT_PORT", "Sandbox", "sandbox_database"):
        return getattr(importlib.import_module("bot.sandbox.server"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_sandbox(config: Config, *, port: int = 8765, watch: bool = False) -> int:
    """Run until Ctrl+C or SIGTERM; exit status 2 when the port cannot be used."""
    if not 0 <= port <= 65535:
        print(f"error: --port must be between 0 and 65535, not {port}", file=sys.stderr)
        return EXIT_USAGE
    import discord

    discord.utils.setup_logging(level=logging.getLevelName(config.log_level.upper()))
    # The bot has no voice features; discord.py's "voice will NOT be supported" warnings
    # only alarm the teachers and authors this command is for.

    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    try:
        return asyncio.run(_serve(config, port, watch))
    except KeyboardInterrupt:  # Ctrl+C before the signal handlers were installed
        return EXIT_OK


async def _serve(config: Config, port: int, watch: bool) -> int:
    from bot.sandbox.server import Sandbox

    sandbox = Sandbox(config, port=port, watch=watch)
    stop = asyncio.Event()
    try:
        await sandbox.start()
    except PortInUse as exc:
        await sandbox.stop()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SandboxError as exc:
        await sandbox.stop()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BaseException:
        await sandbox.stop()
        raise
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still interrupts
            loop.add_signal_handler(sig, stop.set)
    print(
        "Glossary sandbox: the real bot, a local stand-in for Discord, no network.\n"
        f"Database: {sandbox.database}\n"
        + (f"Watching {config.content_dir} for saved changes.\n" if watch else "")
        + f"Sandbox running at {sandbox.url}  (open it in a browser; Ctrl+C stops)",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        print("Stopping the sandbox…", file=sys.stderr, flush=True)
        await sandbox.stop()
    return EXIT_OK
