"""Stopping on SIGTERM or Ctrl+C without dropping what students asked for.

A service manager (systemd, Docker) sends SIGTERM and kills the process some seconds
later (Docker after 10 s). Closing at once would cut off a card being rendered or a reload
half answered; so the interactions in flight are answered first (bounded), then the
connection to Discord closes, and the caller closes the store, which writes the buffered
usage counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import discord

log = logging.getLogger(__name__)

# Drain for at most this long, so closing Discord's connection and the database still
# fits in the 10 s a service manager waits.
DRAIN_SECONDS = 7.0
# Names discord.py gives the tasks that run one interaction each (commands and
# autocomplete; views, modals and persistent buttons).
INTERACTION_TASKS = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
)


def in_flight() -> list[asyncio.Task[object]]:
    """The interaction tasks still running on this loop."""
    return [task for task in asyncio.all_tasks()
            if not task.done() and task.get_name().startswith(INTERACTION_TASKS)]


async def drain(seconds: float = DRAIN_SECONDS) -> int:
    """Wait until no interaction is running (new ones that arrive meanwhile included),
    or ``seconds`` have passed; returns how many were still running then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while tasks := in_flight():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("Stopping with %d interaction(s) still unanswered after %.0f s",
                        len(tasks), seconds)
            return len(tasks)
        await asyncio.wait(tasks, timeout=remaining)
    return 0


async def stop(bot: discord.Client, seconds: float = DRAIN_SECONDS) -> None:
    running = len(in_flight())
    log.info("Stopping: answering %d interaction(s) in flight first", running)
    await drain(seconds)
    await bot.close()


def stop_on_signals(bot: discord.Client, seconds: float = DRAIN_SECONDS) -> None:
    """SIGTERM and SIGINT (Ctrl+C) stop ``bot`` gracefully; a second one closes at once."""
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        if stopping:
            log.warning("Second %s: closing now", signal.Signals(signum).name)
            loop.create_task(bot.close())
            return
        log.info("Received %s", signal.Signals(signum).name)
        stopping.append(loop.create_task(stop(bot, seconds), name="glossary-stop"))

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, on_signal, signum)
