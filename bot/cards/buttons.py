"""Persistent buttons: related terms, "did you mean" choices, quiz answers and search pages.

Every button is a ``DynamicItem`` whose custom_id carries all it needs (the slug, or the
search offset and query), so a card posted last week still works after any number of
restarts, and no view is kept in memory per message.

This module only draws buttons and reads their custom_ids back; a click is handed to
whoever owns the action: the bot's :class:`bot.card_actions.CardActions` for the buttons
any message may carry (a term, Back, Suggest a fix; the bot registers those, see
``CARD_BUTTONS``), the quiz and search cogs for their own (each registers its button).
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.cards.embeds import card_embed
from bot.config import Config
from bot.models import Card, Quiz, SearchPage, Suggestion
from bot.store import Store
from bot.text import shorten

BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
MAX_RELATED_BUTTONS = 20  # 4 rows; the fifth row is kept for Back and paging
SEARCH_PAGE_SIZE = 5
_SLUG = r"[a-z0-9][a-z0-9-]{0,44}"
# A card from a glossary other than the default one says which, as "@" and the glossary's
# id in base 36 (3 characters: 46,655 glossaries, and the longest term button still fits
# in 100 characters); custom_ids without it (every one from before glossaries) mean the
# default glossary, so old messages keep working.
_GLOSSARY = r"(?:@(?P<glossary>[0-9a-z]{1,3}))?"
DEFAULT_GLOSSARY_ID = 1


def glossary_suffix(glossary_id: int | None) -> str:
    if glossary_id is None or glossary_id == DEFAULT_GLOSSARY_ID:
        return ""
    digits = ""
    while glossary_id:
        glossary_id, digit = divmod(glossary_id, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return "@" + digits


def glossary_of(match: re.Match[str]) -> int | None:
    return int(match["glossary"], 36) if match["glossary"] else None


class DynamicView(discord.ui.View):
    """A view made only of DynamicItems, which discord.py dispatches by their custom_id
    templates whatever message they are on.

    Reporting itself finished keeps discord.py from storing it per message sent (a store
    that grows with every card, and a 15-minute timer for every private one) and lets a
    rendered card be sent again and again; its components are serialised once.
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self._components: list[dict[str, Any]] | None = None

    def is_finished(self) -> bool:
        return True

    def to_components(self) -> list[dict[str, Any]]:
        if self._components is None:
            self._components = super().to_components()
        return self._components

    def add_item(self, item: discord.ui.Item[Any]) -> DynamicView:
        self._components = None
        super().add_item(item)
        return self


class CardActionsLike(Protocol):
    """What the buttons any message may carry do (bot.card_actions.CardActions)."""

    async def open_term(self, interaction: discord.Interaction, slug: str, *, mode: str,
                        origin: str | None, glossary_id: int | None = None) -> None: ...

    async def suggest_fix(self, interaction: discord.Interaction, slug: str,
                          glossary_id: int | None = None) -> None: ...


class SavedTerms(Protocol):
    """The study cog, which owns a student's saved terms."""

    async def toggle_saved(self, interaction: discord.Interaction, slug: str) -> None: ...


class QuizAnswers(Protocol):
    """The quiz cog, which owns answering."""

    async def answer(self, interaction: discord.Interaction, quiz_id: int, choice: str
                     ) -> None: ...


class SearchPages(Protocol):
    """The search cog, which owns paging through results."""

    async def show_page(self, interaction: discord.Interaction, query: str, offset: int
                        ) -> None: ...


class GlossaryClient(Protocol):
    """What buttons and cards need from the bot, without importing the bot class."""

    store: Store
    config: Config
    tree: Any
    rendered_cards: OrderedDict[tuple[object, ...], dict[str, Any]]
    card_actions: CardActionsLike

    def get_cog(self, name: str, /) -> Any: ...

    def glossary_by_id(self, glossary_id: int | None, /) -> Any: ...

    def spec_of(self, glossary: Any, /) -> Any: ...


def _client(interaction: discord.Interaction) -> GlossaryClient:
    return interaction.client  # type: ignore[return-value]


def _cog(interaction: discord.Interaction, name: str) -> Any:
    """The loaded cog that owns a button: it registered the button, so it is there."""
    cog = _client(interaction).get_cog(name)
    if cog is None:
        raise RuntimeError(f"the {name} cog handles this button but is not loaded")
    return cog


async def report(interaction: discord.Interaction, error: Exception) -> None:
    """Send a failure through the command tree's one error handler."""
    await interaction.client.tree.on_error(interaction, error)  # type: ignore[attr-defined]


class _Reported:
    """Routes a button's failure to the tree's error handler: discord.py would only log
    it, and the student would see "This interaction failed" with no explanation."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:  # noqa: BLE001 - reported through the tree's handler
            await report(interaction, error)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class RelatedTermButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:(?P<mode>[tbn]):(?P<slug>{_SLUG})(?::(?P<origin>{_SLUG}))?{_GLOSSARY}",
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
        glossary_id: int | None = None,
    ) -> None:
        custom_id = (f"gl:{mode}:{slug}" + (f":{origin}" if origin else "")
                     + glossary_suffix(glossary_id))
        super().__init__(
            discord.ui.Button(
                label=shorten(label or slug, BUTTON_LABEL_LIMIT), custom_id=custom_id,
                style=style, disabled=disabled, emoji=emoji,
            )
        )
        self.slug = slug
        self.mode = mode
        self.origin = origin
        self.glossary_id = glossary_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RelatedTermButton:
        return cls(
            match["slug"], label=item.label, mode=match["mode"], origin=match["origin"],
            style=item.style, glossary_id=glossary_of(match),
        )

    async def run(self, interaction: discord.Interaction) -> None:
        await _client(interaction).card_actions.open_term(
            interaction, self.slug, mode=self.mode, origin=self.origin,
            glossary_id=self.glossary_id)


class SuggestFixButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:f:(?P<slug>{_SLUG}){_GLOSSARY}",
):
    """Opens the "suggest a fix" form for a card; students spot mistakes first."""

    def __init__(self, slug: str, glossary_id: int | None = None) -> None:
        super().__init__(discord.ui.Button(
            label="Suggest a fix", custom_id=f"gl:f:{slug}{glossary_suffix(glossary_id)}",
            emoji="✏️", style=discord.ButtonStyle.secondary,
        ))
        self.slug = slug
        self.glossary_id = glossary_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> SuggestFixButton:
        return cls(match["slug"], glossary_of(match))

    async def run(self, interaction: discord.Interaction) -> None:
        await _client(interaction).card_actions.suggest_fix(interaction, self.slug,
                                                            self.glossary_id)


FORM_TIMEOUT = 30 * 60  # seconds discord.py keeps an opened form; its submit works later too
# A "suggest a fix" form's custom_id carries all its submit needs (the term and its
# glossary), and a token so that two open forms never share one.
SUGGEST_FORM = re.compile(rf"gl:fm:(?P<slug>{_SLUG}){_GLOSSARY}:[0-9a-f]{{16}}")


@dataclass(frozen=True)
class SubmittedFix:
    """What a student typed into a "suggest a fix" form, read from the submit alone."""

    slug: str
    glossary_id: int | None
    section: str
    problem: str
    proposal: str


def submitted_fix(data: Mapping[str, Any] | None) -> SubmittedFix | None:
    """A modal submit's data as a suggested fix (None: not a suggestion form). Read from
    the interaction, not from a form object in memory, so a form opened before a restart,
    or kept open past ``FORM_TIMEOUT``, is still saved (nothing a student typed is lost)."""
    match = SUGGEST_FORM.fullmatch(str((data or {}).get("custom_id", "")))
    if data is None or match is None:
        return None
    values = form_values(data.get("components") or [])
    return SubmittedFix(match["slug"], glossary_of(match), values.get("section", ""),
                        values.get("problem", ""), values.get("proposal", ""))


def form_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every text input's value by custom_id, in action rows or Labels (type 18)."""
    found: dict[str, str] = {}
    for component in components:
        if "custom_id" in component and isinstance(component.get("value"), str):
            found[component["custom_id"]] = component["value"]
        found.update(form_values(component.get("components") or []))
        if isinstance(component.get("component"), Mapping):
            found.update(form_values([component["component"]]))
    return found


class SuggestFixModal(discord.ui.Modal):
    """The "suggest a fix" form. Its submit is answered by the bot's one handler for
    these forms (``GlossaryBot.on_modal_submit``), live or not: a form opened before a
    restart has no object here to answer it, so none does."""

    section = discord.ui.TextInput(
        label="Which part?", placeholder="e.g. Definition, Common mistakes", max_length=100,
        required=False, custom_id="section",
    )
    problem = discord.ui.TextInput(
        label="What is wrong or unclear?", style=discord.TextStyle.paragraph, max_length=1000,
        custom_id="problem",
    )
    proposal = discord.ui.TextInput(
        label="What should it say instead? (optional)", style=discord.TextStyle.paragraph,
        max_length=1000, required=False, custom_id="proposal",
    )

    def __init__(self, card: Card) -> None:
        # Each opened form gets its own custom_id: discord.py keys open forms by it. The
        # timeout frees this object; the form itself still works after it (see above).
        super().__init__(
            title=shorten(f"Suggest a fix: {card.term.title}", 45),
            custom_id=(f"gl:fm:{card.term.slug}{glossary_suffix(card.glossary_id)}:"
                       f"{secrets.token_hex(8)}"),
            timeout=FORM_TIMEOUT)
        self.card = card

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Nothing: ``submitted_fix`` reads the submit, so it is saved exactly once."""


# Buttons that any message may carry, whichever cog sent it (cards, "did you mean",
# search results, "Explain terms"): the bot registers these once (GlossaryBot.setup_hook)
# and removes them on close, so they work whatever extensions are loaded.
CARD_BUTTONS = (RelatedTermButton, SuggestFixButton)


class SaveButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:sv:(?P<slug>{_SLUG})",
):
    """Save a card for later (again: unsave); the study cog registers it and answers
    the clicker privately, so one card in a channel serves every student's own list."""

    def __init__(self, slug: str) -> None:
        super().__init__(discord.ui.Button(
            label="Save", custom_id=f"gl:sv:{slug}", emoji="🔖",
            style=discord.ButtonStyle.secondary,
        ))
        self.slug = slug

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> SaveButton:
        return cls(match["slug"])

    async def run(self, interaction: discord.Interaction) -> None:
        saved: SavedTerms = _cog(interaction, "Study")
        await saved.toggle_saved(interaction, self.slug)


class QuizAnswerButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"gl:q:(?P<quiz>\d{{1,18}}):(?P<slug>{_SLUG})",
):
    """One choice of a public quiz; the quiz and the choice ride in the custom_id, so a
    quiz keeps taking answers after a restart."""

    def __init__(self, quiz_id: int, slug: str, label: str) -> None:
        super().__init__(discord.ui.Button(
            label=shorten(label, BUTTON_LABEL_LIMIT), custom_id=f"gl:q:{quiz_id}:{slug}",
            style=discord.ButtonStyle.primary,
        ))
        self.quiz_id = quiz_id
        self.slug = slug

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> QuizAnswerButton:
        return cls(int(match["quiz"]), match["slug"], item.label or match["slug"])

    async def run(self, interaction: discord.Interaction) -> None:
        quiz: QuizAnswers = _cog(interaction, "Quiz")
        await quiz.answer(interaction, self.quiz_id, self.slug)


def quiz_view(quiz: Quiz, titles: dict[str, str]) -> discord.ui.View:
    view = DynamicView()
    for letter, slug in zip("ABCD", quiz.choices, strict=False):
        label = titles.get(slug, slug) if quiz.mode == "name" else letter
        view.add_item(QuizAnswerButton(quiz.id, slug, label))
    return view


class SearchPageButton(
    _Reported,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"gl:s:(?P<offset>\d{1,6}):(?P<query>[\s\S]*)",
):
    """Previous/next page of search results; the query rides in the custom_id (any
    character, line breaks included: a template that missed one would leave "Next" dead)."""

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

    async def run(self, interaction: discord.Interaction) -> None:
        search: SearchPages = _cog(interaction, "Search")
        await search.show_page(interaction, self.query, self.offset)


RENDERED_CARDS = 2048  # rendered cards a bot keeps for the current glossary version


async def card_message(
    client: GlossaryClient,
    card: Card,
    guild_id: int | None,
    *,
    back_to: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The embed and buttons of a card, as this server's settings want it shown.

    Rendering (a dozen discord.py objects for the buttons alone) costs more than the
    lookup, so a card is rendered once per glossary version and sent as often as asked;
    the store's version changes with every reload that changed content.
    """
    settings = await client.store.records.guild_settings(guild_id) if guild_id else None
    config = client.config
    suggest = bool(settings and settings.mod_channel_id)
    glossary = client.glossary_by_id(card.glossary_id)
    course_name = client.spec_of(glossary).course_name
    key = (glossary.id, glossary.content_version, card.term.slug, back_to, suggest,
           course_name, config.embed_colour)
    rendered = client.rendered_cards
    if note is None and (cached := rendered.get(key)) is not None:
        return cached
    reply = {
        "embed": card_embed(card, course_name, config.embed_colour, note=note),
        "view": card_view(card, back_to=back_to, suggest=suggest),
    }
    if note is None:
        if len(rendered) >= RENDERED_CARDS:
            # The oldest goes (an older version's first; none is ever sent again): clearing
            # 2,048 cards with their views at once would hold the event loop.
            rendered.popitem(last=False)
        rendered[key] = reply
    return reply


def card_view(
    card: Card, *, back_to: str | None = None, suggest: bool = False
) -> discord.ui.View:
    """One button per related term, labelled with its title; missing ones disabled.

    "Suggest a fix" appears only where the server named a moderators' channel to send
    suggestions to: a button that leads nowhere would only disappoint."""
    view = DynamicView()
    for slug in card.term.related[:MAX_RELATED_BUTTONS]:
        exists = card.related_exists(slug)
        view.add_item(RelatedTermButton(
            slug,
            label=card.related_titles.get(slug, f"{slug} (coming soon)"),
            origin=card.term.slug,
            disabled=not exists,
            glossary_id=card.glossary_id,
        ))
    if back_to:
        view.add_item(RelatedTermButton(
            back_to, label="Back", mode="b", style=discord.ButtonStyle.primary, emoji="◀️",
            glossary_id=card.glossary_id,
        ))
    if suggest:
        view.add_item(SuggestFixButton(card.term.slug, card.glossary_id))
    view.add_item(SaveButton(card.term.slug))
    return view


def suggestions_view(suggestions: list[Suggestion] | tuple[Suggestion, ...],
                     glossary_id: int | None = None) -> discord.ui.View:
    view = DynamicView()
    for suggestion in suggestions[:5]:
        view.add_item(RelatedTermButton(
            suggestion.slug, label=suggestion.title, style=discord.ButtonStyle.primary,
            glossary_id=glossary_id,
        ))
    return view


def search_view(query: str, page: SearchPage, glossary_id: int | None = None
                ) -> discord.ui.View:
    view = DynamicView()
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        view.add_item(RelatedTermButton(hit.slug, label=f"{number}. {hit.title}", mode="n",
                                        glossary_id=glossary_id))
    if page.offset > 0:
        previous = max(page.offset - SEARCH_PAGE_SIZE, 0)
        view.add_item(SearchPageButton(query, previous, "◀ Previous"))
    if page.offset + len(page.hits) < page.total:
        view.add_item(SearchPageButton(query, page.offset + len(page.hits), "Next ▶"))
    return view
