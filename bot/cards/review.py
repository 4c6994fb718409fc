"""The Apply / Edit first / Dismiss buttons under a suggested fix in the moderators' channel.

Persistent ``DynamicItem`` buttons: the suggestion's id is in the custom_id
(``gl:sg:<action>:<id>``, under 30 characters and different for each of the three), so a
post from last term still works after any number of restarts. What a click does belongs
to the suggestion review cog (``cogs.suggestion_review``), which registers these buttons
when it loads and removes them when it unloads.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.cards.buttons import DynamicView, _cog, _Reported
from bot.cards.embeds import FIELD_VALUE_LIMIT, _add_field, _fit

REVIEW_COG = "SuggestionReview"
ACTIONS = {"a": ("Apply", discord.ButtonStyle.success, "✅"),
           "e": ("Edit first", discord.ButtonStyle.primary, "✏️"),
           "d": ("Dismiss", discord.ButtonStyle.secondary, None)}


class ReviewButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"gl:sg:(?P<action>[aed]):(?P<id>[0-9]{1,19})",
):
    """One of the three decisions on one suggestion."""

    def __init__(self, action: str, suggestion_id: int) -> None:
        label, style, emoji = ACTIONS[action]
        super().__init__(discord.ui.Button(
            label=label, style=style, emoji=emoji,
            custom_id=f"gl:sg:{action}:{suggestion_id}"))
        self.action = action
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ReviewButton:
        return cls(match["action"], int(match["id"]))

    async def run(self, interaction: discord.Interaction) -> None:
        await _cog(interaction, REVIEW_COG).decide(interaction, self.action,
                                                   self.suggestion_id)


def review_view(suggestion_id: int) -> DynamicView:
    view = DynamicView()
    for action in ACTIONS:
        view.add_item(ReviewButton(action, suggestion_id))
    return view


def decided_embed(posted: discord.Embed | dict[str, Any], outcome: str) -> discord.Embed:
    """The post as it was, with its outcome: buttons go with the edit that adds this."""
    data = posted.to_dict() if isinstance(posted, discord.Embed) else dict(posted)
    embed = discord.Embed.from_dict(data)
    if embed.fields and embed.fields[-1].name == "Outcome":  # decided again: one outcome
        embed.remove_field(len(embed.fields) - 1)
    _add_field(embed, "Outcome", outcome[:FIELD_VALUE_LIMIT])
    return _fit(embed)
