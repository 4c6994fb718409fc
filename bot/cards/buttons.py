"""Persistent buttons: related terms, "did you mean" choices and search pages.

Every button is a ``DynamicItem`` whose custom_id carries all it needs (the slug, or the
search offset and query), so a card posted last week still works after any number of
restarts, and no view is kept in memory per message. A click on a public card answers
only the clicker, so one student never changes what the whole class sees.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.cards.embeds import card_embed, search_embed
from bot.config import Config
from bot.models import Card, SearchPage, Suggestion
from bot.store import Store
from bot.text import shorten

BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
MAX_RELATED_BUTTONS = 20  # 4 rows; the fifth row is kept for Back and paging
SEARCH_PAGE_SIZE = 5
_SLUG = r"[a-z0-9][a-z0-9-]{0,44}"


class GlossaryClient(Protocol):
    """What a button needs from the bot, without importing the bot class."""

    store: Store
    config: Config
    tree: Any


async def _report(interaction: discord.Interaction, error: Exception) -> None:
    """Send a button's failure through the command tree's one error handler."""
    await interaction.client.tree.on_error(interaction, error)  # type: ignore[attr-defined]


class RelatedTermButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:(?P<mode>[tbn]):(?P<slug>{_SLUG})(?::(?P<origin>{_SLUG}))?",
):
    """Opens a term's card.

    Modes: ``t`` opens a term (replacing an ephemeral card in place, with a Back button to
    ``origin``; on a public message it answers privately), ``b`` is that Back button, and
    ``n`` always answers with a new private message (search results stay visible).
    """

    def __init__(
        self,
        slug: str,
        *,
        label: str | None = None,
        mode: str = "t",
        origin: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
        emoji: str | None = None,
    ) -> None:
        custom_id = f"gl:{mode}:{slug}" + (f":{origin}" if origin else "")
        super().__init__(
            discord.ui.Button(
                label=shorten(label or slug, BUTTON_LABEL_LIMIT), custom_id=custom_id,
                style=style, disabled=disabled, emoji=emoji,
            )
        )
        self.slug = slug
        self.mode = mode
        self.origin = origin

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RelatedTermButton:
        return cls(
            match["slug"], label=item.label, mode=match["mode"], origin=match["origin"],
            style=item.style,
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._open(interaction)
        except Exception as error:  # noqa: BLE001 - reported through the tree's handler
            await _report(interaction, error)

    async def _open(self, interaction: discord.Interaction) -> None:
        client: GlossaryClient = interaction.client  # type: ignore[assignment]
        card = await client.store.card(self.slug)
        message = interaction.message
        on_private_card = message is not None and message.flags.ephemeral
        in_place = self.mode == "b" or (self.mode == "t" and on_private_card)
        back_to = self.origin if self.mode == "t" and in_place else None
        embed = card_embed(card, client.config.course_name, client.config.embed_colour)
        view = card_view(card, back_to=back_to)
        if in_place:
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
        client.store.record_lookup(card.term.slug)


class SearchPageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"gl:s:(?P<offset>\d{1,6}):(?P<query>.*)",
):
    """Previous/next page of search results; the query rides in the custom_id."""

    def __init__(self, query: str, offset: int, label: str) -> None:
        prefix = f"gl:s:{offset}:"
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=prefix + query[: CUSTOM_ID_LIMIT - len(prefix)],
                style=discord.ButtonStyle.primary,
            )
        )
        self.query = query
        self.offset = offset

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> SearchPageButton:
        return cls(match["query"], int(match["offset"]), item.label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            client: GlossaryClient = interaction.client  # type: ignore[assignment]
            page = await client.store.search(self.query, SEARCH_PAGE_SIZE, self.offset)
            await interaction.response.edit_message(
                embed=search_embed(self.query, page, client.config.embed_colour),
                view=search_view(self.query, page),
            )
        except Exception as error:  # noqa: BLE001 - reported through the tree's handler
            await _report(interaction, error)


def card_view(card: Card, *, back_to: str | None = None) -> discord.ui.View:
    """One button per related term, labelled with its title; missing ones disabled."""
    view = discord.ui.View(timeout=None)
    for slug in card.term.related[:MAX_RELATED_BUTTONS]:
        exists = card.related_exists(slug)
        view.add_item(RelatedTermButton(
            slug,
            label=card.related_titles.get(slug, f"{slug} (coming soon)"),
            origin=card.term.slug,
            disabled=not exists,
        ))
    if back_to:
        view.add_item(RelatedTermButton(
            back_to, label="Back", mode="b", style=discord.ButtonStyle.primary, emoji="◀️",
        ))
    return view


def suggestions_view(suggestions: list[Suggestion] | tuple[Suggestion, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for suggestion in suggestions[:5]:
        view.add_item(RelatedTermButton(
            suggestion.slug, label=suggestion.title, style=discord.ButtonStyle.primary,
        ))
    return view


def search_view(query: str, page: SearchPage) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        view.add_item(RelatedTermButton(hit.slug, label=f"{number}. {hit.title}", mode="n"))
    if page.offset > 0:
        previous = max(page.offset - SEARCH_PAGE_SIZE, 0)
        view.add_item(SearchPageButton(query, previous, "◀ Previous"))
    if page.offset + len(page.hits) < page.total:
        view.add_item(SearchPageButton(query, page.offset + len(page.hits), "Next ▶"))
    return view
