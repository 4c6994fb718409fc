"""The card renderer: everything a term looks like on Discord (embeds and buttons).

Only this package, ``bot.client`` and the services the bot owns (``bot.card_actions``,
``bot.reloads``) import discord; the core hands it plain objects. A click is handled by
the action's owner, not here (see ``bot.cards.buttons``).
"""

from bot.cards.buttons import (
    CARD_BUTTONS,
    DynamicView,
    QuizAnswerButton,
    RelatedTermButton,
    SearchPageButton,
    SuggestFixButton,
    card_message,
    card_view,
    quiz_view,
    search_view,
    suggestions_view,
)
from bot.cards.embeds import (
    card_embed,
    error_embed,
    leaderboard_embed,
    mentions_embed,
    not_found_embed,
    quiz_embed,
    reload_embed,
    reload_failed_embed,
    saved_suggestions_embed,
    search_embed,
    settings_embed,
    stats_embed,
)

__all__ = [
    "CARD_BUTTONS",
    "DynamicView",
    "QuizAnswerButton",
    "RelatedTermButton",
    "SearchPageButton",
    "SuggestFixButton",
    "card_embed",
    "card_message",
    "card_view",
    "leaderboard_embed",
    "mentions_embed",
    "quiz_embed",
    "quiz_view",
    "saved_suggestions_embed",
    "settings_embed",
    "error_embed",
    "not_found_embed",
    "reload_embed",
    "reload_failed_embed",
    "search_embed",
    "search_view",
    "stats_embed",
    "suggestions_view",
]
