"""What metrics cost an interaction: the tree's timed hook with metrics off and on.

Run: ``python -m bench.metrics_overhead``. Prints nanoseconds per interaction for a slash
command and an autocomplete keystroke, through :meth:`Metrics.timed` (one counter
increment and one histogram observation on pre-bound children) and through
:data:`NO_METRICS` (the default, which only awaits the handler), on an interaction
stand-in, so the figure is the hook's own cost and nothing else.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import discord

from bot.metrics import NO_METRICS, Metrics

ROUNDS = 200_000


async def _handler(interaction: object) -> None:
    return None


async def _per_call(metrics: object, interaction: object) -> float:
    timed = metrics.timed  # type: ignore[attr-defined]
    started = time.perf_counter_ns()
    for _ in range(ROUNDS):
        await timed(_handler, interaction)
    return (time.perf_counter_ns() - started) / ROUNDS


async def main() -> None:
    command = type("Command", (), {"qualified_name": "define"})()
    kinds = {
        "slash command": discord.InteractionType.application_command,
        "autocomplete": discord.InteractionType.autocomplete,
    }
    for label, kind in kinds.items():
        interaction = SimpleNamespace(type=kind, command=command, extras={})
        off = min([await _per_call(NO_METRICS, interaction) for _ in range(3)])
        on = min([await _per_call(Metrics(), interaction) for _ in range(3)])
        print(f"{label:14} metrics off {off:7.0f} ns   on {on:7.0f} ns   "
              f"cost {on - off:6.0f} ns per interaction")


if __name__ == "__main__":
    asyncio.run(main())
