"""Whether the bot can post a card in a channel, named the way Discord's settings name it.

Moderators choose channels for suggestions and the term of the day; a channel the bot
cannot post in would fail later, out of sight, and lose what a student typed. Checking
when the channel is chosen lets the moderator fix the permission at once.
"""

from __future__ import annotations

import discord

# What posting a card needs, with the labels Discord's channel settings show.
POSTING_NEEDS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


def missing_to_post(channel: discord.abc.GuildChannel) -> str | None:
    """The first permission the bot lacks in ``channel`` to post a card there, if any.

    Each one needs the one before it (no Send Messages also means no Embed Links), so
    naming the first tells the moderator what to change."""
    me = channel.guild.me
    if me is None:  # not cached (should not happen with the guilds intent): let Discord say
        return None
    allowed = channel.permissions_for(me)
    return next((label for name, label in POSTING_NEEDS if not getattr(allowed, name)), None)


def explain_missing(channel: discord.abc.GuildChannel, missing: str) -> str:
    return (
        f"I can't post in {channel.mention}: I'm missing **{missing}** there. "
        "Allow it for my role in that channel's settings (Edit Channel > Permissions), "
        "then choose the channel again."
    )
