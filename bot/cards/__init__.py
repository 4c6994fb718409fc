"""The card renderer: everything a term looks like on Discord (embeds and buttons).

Only this package and ``bot.client`` import discord; the core hands it plain objects.
"""

from bot.cards.buttons import (
    RelatedTermButton,
    SearchPageButton,
    card_view,
    search_view,
    suggestions_view,
)
from bot.cards.embeds import (
    card_embed,
    error_embed,
    not_found_embed,
    reload_embed,
    reload_failed_embed,
    search_embed,
    stats_embed,
)

__all__ = [
    "RelatedTermButton",
    "SearchPageButton",
    "card_embed",
    "card_view",
    "error_embed",
    "not_found_embed",
    "reload_embed",
    "reload_failed_embed",
    "search_embed",
    "search_view",
    "stats_embed",
    "suggestions_view",
]
