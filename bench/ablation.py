"""Ablations for ``bench.e2e``: the bare bot plus one piece of the glossary bot, or the glossary
bot minus one, to find where the gap between them goes (issue 14, targets 1 and 2).

A side is named ``base`` then pieces, each ``+piece`` (added) or ``-piece`` (taken away):
``bare+sharded``, ``glossary-listener-completion``. ``python -m bench.e2e --sides
glossary,glossary-listener`` then measures the two against each other in the same ABBA
rounds, so the figure to read is the bot CPU per answer of the second over the first.

These patch classes in the bot's own child process only (``--serve-bot``), never in a
test or a real bot; a piece taken away may break what the benchmark does not exercise
(cooldowns without ``cooldown``). ``listener``, ``completion`` and ``gcfreeze`` describe the
glossary bot before issue 14's targets 1 and 2: on that code take them away
(``glossary-listener``), on the code since add them back (``glossary+listener``) or take
the frozen heap away (``glossary-gcfreeze``).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

BASES = ("bare", "glossary")
# piece: (what it is, the bases it applies to)
PIECES: dict[str, tuple[str, tuple[str, ...]]] = {
    "listener": ("an on_interaction method (the glossary bot had one for forms until issue "
                 "14's targets 1 and 2): discord.py schedules a task per interaction to run "
                 "it", BASES),
    "completion": ("a listener for app_command_completion (the Study cog had one until "
                   "issue 14's targets 1 and 2): a task per command", BASES),
    "sharded": ("AutoShardedBot rather than Bot", ("bare",)),
    "store": ("a Store holding the benchmark glossary beside the bot: its heap and its "
              "aiosqlite threads, never read", ("bare",)),
    "timed": ("GlossaryTree._call through metrics.timed", ("glossary",)),
    "check": ("GlossaryTree.interaction_check (allowed_here)", ("glossary",)),
    "cooldown": ("/define's dynamic cooldown check (no cooldown: cooldown_uses = 0)",
                 ("glossary",)),
    "buttons": ("the bare card with buttons shaped like a card's (3 related terms and Save, "
                "a view sent as the glossary's is, never stored): more JSON to send, and a "
                "message with components parsed back", ("bare",)),
    "cards": ("the glossary's own cards (bot.cards' embed and buttons for the term asked, "
              "from a loaded Store, rendered on first use and then answered from a dict): "
              "the same answers as the glossary bot's, without its path to them", ("bare",)),
    "orjson": ("discord.py's JSON through orjson, as installed with the bot (every payload "
               "sent and received); -orjson: through the standard library's json instead", BASES),
    "gcfreeze": ("gc.freeze() once ready: the start-up heap out of the collector's way (the "
                 "glossary bot's freeze_heap, on since issue 14's targets 1 and 2)", BASES),
}
_TOKEN = re.compile(r"([+-])([a-z]+)")


@dataclass(frozen=True)
class Variant:
    base: str
    added: frozenset[str]
    removed: frozenset[str]


def parse(side: str) -> Variant:
    """``glossary-listener+gcfreeze`` -> Variant("glossary", {"gcfreeze"}, {"listener"})."""
    base = next((b for b in BASES if side.startswith(b)), None)
    if base is None:
        raise ValueError(f"{side}: a side starts with one of {', '.join(BASES)}")
    rest = side[len(base):]
    tokens = _TOKEN.findall(rest)
    if "".join(sign + name for sign, name in tokens) != rest:
        raise ValueError(f"{side}: after the base, only +piece and -piece")
    added, removed = set(), set()
    for sign, name in tokens:
        if name not in PIECES or base not in PIECES[name][1]:
            raise ValueError(f"{side}: {name} is not a piece of the {base} side "
                             f"({', '.join(p for p, (_, b) in PIECES.items() if base in b)})")
        (added if sign == "+" else removed).add(name)
    return Variant(base, frozenset(added), frozenset(removed))


def _sharded(cls: type[commands.Bot]) -> type[commands.Bot]:
    """The same bot on AutoShardedBot (see the MRO: AutoShardedClient's methods win)."""
    return type(f"Sharded{cls.__name__}", (cls, commands.AutoShardedBot), {})


async def _on_interaction(self: Any, interaction: discord.Interaction) -> None:
    """What GlossaryBot.on_interaction costs an interaction that is not a modal submit."""
    if interaction.type is discord.InteractionType.modal_submit:
        return


async def _on_completion(interaction: discord.Interaction, command: Any) -> None:
    """What the Study cog's listener costs a student who did not opt in."""
    if command.qualified_name != "define" or interaction.user.id in ():
        return


class _FinishedView(discord.ui.View):
    """As bot.cards.buttons.DynamicView: reported finished, components serialised once."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        for i in range(3):
            self.add_item(discord.ui.Button(label=f"Related term number {i}",
                                            custom_id=f"gl:t:related-term-{i}:fixed-card"))
        self.add_item(discord.ui.Button(label="Save", custom_id="gl:sv:fixed-card",
                                        emoji="🔖"))
        self._components = super().to_components()

    def is_finished(self) -> bool:
        return True

    def to_components(self) -> list[dict[str, Any]]:
        return self._components


def _with_buttons() -> None:
    """Every fixed card the bare bot sends carries the view (this process only)."""
    view = _FinishedView()
    send = discord.InteractionResponse.send_message

    async def send_message(self: discord.InteractionResponse, *args: Any, **kwargs: Any
                           ) -> Any:
        # by title: the child runs bench.e2e as __main__, a second copy of FIXED_CARD
        if getattr(kwargs.get("embed"), "title", None) == "Fixed card":
            kwargs.setdefault("view", view)
        return await send(self, *args, **kwargs)

    discord.InteractionResponse.send_message = send_message  # type: ignore[method-assign]


def _card_define(store: Any) -> app_commands.Command[Any, Any, None]:
    """``/define`` answering the glossary's real card for the term (``bare+cards``): the
    card rendered once per query, as the glossary bot renders it once per version."""
    from bench.e2e import CARD_COLOUR  # a constant: a second copy of bench.e2e is harmless
    from bot.cards.buttons import card_view
    from bot.cards.embeds import card_embed
    from bot.config import Config

    glossary = store.glossary_named(Config.default_glossary)
    replies: dict[str, dict[str, Any]] = {}

    @app_commands.command(name="define", description="Show the glossary card for a term")
    @app_commands.describe(term="The term to look up", private="Only you see the card")
    async def define(interaction: discord.Interaction, term: app_commands.Range[str, 1, 100],
                     private: bool | None = None) -> None:
        reply = replies.get(term)
        if reply is None:
            card = await glossary.card(term)
            reply = replies[term] = {"embed": card_embed(card, Config.course_name, CARD_COLOUR),
                                     "view": card_view(card)}
        await interaction.response.send_message(**reply, ephemeral=bool(private))

    return define


def _standard_json() -> None:
    """discord.py's JSON as without orjson: its own fallback, the standard library's."""
    def to_json(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)

    discord.utils._to_json = to_json  # type: ignore[attr-defined]
    discord.utils._from_json = json.loads  # type: ignore[attr-defined]


def bare_class(variant: Variant, base: type[commands.Bot], store: Any = None
               ) -> type[commands.Bot]:
    """The bare bot's class with the class-level pieces; ``cards`` needs ``store``."""
    cls = _sharded(base) if "sharded" in variant.added else base
    if "listener" in variant.added:
        cls = type(f"Listening{cls.__name__}", (cls,), {"on_interaction": _on_interaction})
    if "cards" in variant.added:
        command = _card_define(store)

        async def setup_hook(self: commands.Bot) -> None:
            await super(cls_with_cards, self).setup_hook()
            self.tree.remove_command("define")
            self.tree.add_command(command)
            await self.tree.sync()

        cls_with_cards = type(f"Carding{cls.__name__}", (cls,), {"setup_hook": setup_hook})
        cls = cls_with_cards
    return cls


def patch_glossary(variant: Variant) -> None:
    """Before the glossary bot is built: take class-level pieces away (this process only)."""
    from bot.client import GlossaryBot, GlossaryTree

    if "listener" in variant.removed and "on_interaction" in GlossaryBot.__dict__:
        del GlossaryBot.on_interaction  # code from before the listener went
    if "listener" in variant.added:
        GlossaryBot.on_interaction = _on_interaction  # type: ignore[attr-defined]
    if "timed" in variant.removed:
        GlossaryTree._call = app_commands.CommandTree._call  # type: ignore[method-assign]
    if "check" in variant.removed:
        GlossaryTree.interaction_check = (  # type: ignore[method-assign]
            app_commands.CommandTree.interaction_check)


async def open_store(variant: Variant, terms: Path, database: Path) -> Any:
    """``bare+store`` and ``bare+cards``: the glossary bot's Store, loaded, beside the bare
    bot (``cards`` reads its cards from it)."""
    if not variant.added & {"store", "cards"}:
        return None
    from bot.store import Store

    store = await Store.open(database)
    await store.reloads.reload(terms)
    return store


def freezes_heap(variant: Variant | None) -> bool:
    """The glossary side's ``freeze_heap``: on, as the bot serves, unless taken away."""
    return variant is None or "gcfreeze" not in variant.removed


def after_ready(variant: Variant) -> Callable[[commands.Bot], None]:
    """What is changed once the bot is connected (listeners, checks, the collector)."""
    def change(bot: commands.Bot) -> None:
        if "buttons" in variant.added:
            _with_buttons()
        if "completion" in variant.removed:  # code from before /define called Study
            bot.extra_events.pop("on_app_command_completion", None)
        if "completion" in variant.added:
            bot.add_listener(_on_completion, "on_app_command_completion")
        if "cooldown" in variant.removed:
            command = bot.tree.get_command("define")
            assert isinstance(command, app_commands.Command)
            command.checks.clear()
        if "orjson" in variant.removed:
            _standard_json()
        if "gcfreeze" in variant.added and not getattr(bot, "freeze_heap", False):
            gc.collect()
            gc.freeze()

    return change
