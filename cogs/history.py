"""/glossary history term: a term's recent changes, and restoring an earlier version.

Editors only, privately. The list is the server's own glossary's (``bot.storage.history``
keeps each glossary's apart): when, who, from where (edit, import, reload, suggestion,
restore) and which sections, five to a page. Choosing an entry previews the card as it
was before that change, the version the change replaced (so one choice undoes a change,
and a removal's brings the term back), with Save / Cancel. Every earlier version is
offered this way, each by the change that replaced it.

Save goes through the path every edit takes (``cogs.authoring.save_change``): in a
file-backed glossary ``bot.editing`` rewrites the term's file keeping its comments and
every untouched value, refuses when the file changed since the preview (nothing is
overwritten), then the validated reload runs and a refusal puts the file back; in a
database-only glossary the version's text is checked and written in the database, refused
when the stored term changed since the preview. A term removed since is re-created from
that version. The restore is itself recorded, with ``restore`` as its source, and with
``commit_edits`` it is one git commit by the editor.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import discord
from discord import app_commands

from bot.cards import card_embed, error_embed
from bot.client import GlossaryBot, NotEditor
from bot.editing import create_term, open_term, remove_term, save_edit, undo_edit
from bot.errors import EditConflict, TermNotFound
from bot.models import Card, Term, slugify
from bot.sections import SECTIONS, section
from bot.storage.history import HistoryEntry
from bot.text import shorten
from cogs.authoring import (
    AGAIN,
    Change,
    EditorsView,
    Write,
    can_edit,
    edit_directory,
    editors_only,
    save_change,
)
from cogs.define import term_autocomplete
from cogs.moderation import glossary_group

log = logging.getLogger(__name__)

PAGE = 5
HISTORY_COLOUR = 0x5865F2
_SOURCES = {"reload": "file change", "edit": "edit", "import": "import",
            "suggestion": "suggestion", "restore": "restore"}


def _when(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _who(entry: HistoryEntry) -> str:
    if entry.actor_name:
        return entry.actor_name
    return "a file change" if entry.source == "reload" else "the terminal"


def _what(entry: HistoryEntry) -> str:
    if entry.before is None:
        return "added"
    if entry.after is None:
        return "removed"
    return ", ".join(section(key).heading.replace("{course}", "course").lower()
                     for key in entry.sections)


def entry_line(entry: HistoryEntry) -> str:
    """One change, compact: ``#12 <when> · who · source · sections``."""
    who = discord.utils.escape_markdown(_who(entry))
    return (f"`#{entry.id}` <t:{int(entry.at)}:f> · **{who}** · "
            f"{_SOURCES.get(entry.source, entry.source)} · {_what(entry)}")


def version_of(entry: HistoryEntry) -> Term | None:
    """The version an entry offers to restore: the one its change replaced (None when
    the change added the term: there was no earlier version)."""
    return entry.before


def _title(entry: HistoryEntry) -> str:
    term = entry.before or entry.after
    return term.title if term is not None else entry.slug


@dataclass(frozen=True)
class Subject:
    """The term whose history is shown: in the glossary now, or removed since."""

    slug: str
    title: str
    glossary_id: int


class HistoryView(EditorsView):
    """Newer / Older, and a select of this page's entries to restore from."""

    def __init__(self, subject: Subject, entries: list[HistoryEntry], offset: int,
                 total: int) -> None:
        super().__init__(timeout=15 * 60)
        self.subject, self.offset, self.total = subject, offset, total
        self.newer.disabled = offset == 0
        self.older.disabled = offset + PAGE >= total
        offered = [e for e in entries if version_of(e) is not None]
        self.choose.options = [discord.SelectOption(
            label=shorten(f"Before #{e.id} ({_when(e.at)}, {_who(e)})", 100),
            description=shorten(f"The version this {_SOURCES.get(e.source, e.source)} "
                                f"replaced ({_what(e)})", 100),
            value=str(e.id)) for e in offered]
        if not offered:
            self.remove_item(self.choose)

    @discord.ui.select(placeholder="Restore a version…", custom_id="history:restore")
    async def choose(self, interaction: discord.Interaction, select: discord.ui.Select
                     ) -> None:
        await _preview_restore(interaction, int(select.values[0]))

    @discord.ui.button(label="Newer", custom_id="history:newer")
    async def newer(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._turn(interaction, max(self.offset - PAGE, 0))

    @discord.ui.button(label="Older", custom_id="history:older")
    async def older(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._turn(interaction, self.offset + PAGE)

    async def _turn(self, interaction: discord.Interaction, offset: int) -> None:
        self.stop()
        embed, view = await history_page(interaction.client, self.subject,  # type: ignore[arg-type]
                                         offset)
        await interaction.response.edit_message(embed=embed, view=view)


async def history_page(bot: GlossaryBot, subject: Subject, offset: int
                       ) -> tuple[discord.Embed, HistoryView | None]:
    history = bot.store.history
    total = await history.count(subject.slug, glossary_id=subject.glossary_id)
    offset = min(offset, max(total - 1, 0) // PAGE * PAGE)
    entries = await history.recent(subject.slug, PAGE, glossary_id=subject.glossary_id,
                                   offset=offset)
    embed = discord.Embed(title=shorten(f"History of {subject.title}", 256),
                          colour=HISTORY_COLOUR)
    if not entries:
        embed.description = ("No changes are recorded for this term since the glossary "
                             "was first loaded. Every edit, import, restore and reload "
                             "that changes it is recorded.")
        return embed, None
    embed.description = "\n".join(entry_line(e) for e in entries)
    pages = (total + PAGE - 1) // PAGE
    embed.set_footer(text=f"Page {offset // PAGE + 1} of {pages} · {total} change(s), newest "
                     "first · choose a change below to see the version it replaced, and "
                     "restore it")
    return embed, HistoryView(subject, entries, offset, total)


async def _subject(bot: GlossaryBot, guild_id: int | None, query: str) -> Subject:
    """The term in this server's glossary, or one removed from it that has a history."""
    glossary = bot.glossary_for(guild_id)
    try:
        card = await glossary.card(query)
    except TermNotFound:
        slug = slugify(query)
        latest = await bot.store.history.recent(slug, 1, glossary_id=glossary.id)
        if not latest:
            raise
        return Subject(slug, f"{_title(latest[0])} (removed)", glossary.id)
    return Subject(card.term.slug, card.term.title, glossary.id)


async def history_autocomplete(interaction: discord.Interaction, current: str
                               ) -> list[app_commands.Choice[str]]:
    """The glossary's terms, and removed ones whose history is still there."""
    choices = await term_autocomplete(interaction, current)
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    try:
        if not await can_edit(interaction):  # a removed term's name is the editors' to see
            return choices
        glossary_id = bot.glossary_for(interaction.guild_id).id
        removed = await bot.store.history.removed(slugify(current), glossary_id=glossary_id)
    except NotEditor:
        return choices
    except Exception:
        log.exception("Autocomplete of removed terms failed for %r", current)
        return choices
    # First: a prefix matches many terms, and the removed ones are only found here.
    extra = [app_commands.Choice(name=shorten(f"{_title(e)} (removed)", 100), value=e.slug)
             for e in removed]
    taken = {c.value for c in extra}
    return (extra + [c for c in choices if c.value not in taken])[:25]


# --- Restoring -------------------------------------------------------------------------

@dataclass(frozen=True)
class Restore:
    """A version to write back, as the change ``save_change`` saves (the path every edit
    takes, for a file-backed glossary and a database-only one alike)."""

    entry: HistoryEntry
    version: Term
    current: Term | None
    change: Change


def _file_write(directory: Path, version: Term, file: str | None) -> Write:
    """Opens the file now, so Save refuses if it changes before then (as an edit does);
    a term removed since is created again."""
    if file is None:
        def create() -> Callable[[], object]:
            path = create_term(directory, version)
            return lambda: remove_term(open_term(path))

        return create
    opened = open_term(directory / file)
    changes = {s.key: getattr(version, s.key) for s in SECTIONS}

    def save() -> Callable[[], object]:
        saved = save_edit(opened, changes)
        return lambda: undo_edit(saved)

    return save


async def _restore_plan(bot: GlossaryBot, guild_id: int | None, entry: HistoryEntry,
                        version: Term, current: Term | None, file: str | None) -> Restore:
    """What Save writes: the term's file, or its text in a database-only glossary, checked
    against what it is now (its file's or its stored fingerprint)."""
    spec = bot.spec_for(guild_id)
    if current is None:
        file = None
    target = file or f"{version.slug}.yaml"
    directory = edit_directory(bot, spec)
    if directory is not None:
        write = await asyncio.to_thread(_file_write, directory, version, file)
        expected = None
    else:
        write = None
        expected = (await bot.store.reloader(spec.name).fingerprint(file)
                    if file is not None else None)
        if file is not None and expected is None:
            raise EditConflict(f"{file} was removed meanwhile", {})
    return Restore(entry, version, current, Change(
        version.slug, target, current, version, write, expected, source="restore",
        what="restore", glossary=spec.name))


async def _preview_restore(interaction: discord.Interaction, entry_id: int) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    spec = bot.spec_for(interaction.guild_id)
    glossary = bot.glossary_for(interaction.guild_id)
    entry = await bot.store.history.entry(entry_id, glossary_id=glossary.id)
    if entry is None:
        await interaction.response.send_message(ephemeral=True, embed=error_embed(
            "Not in this glossary's history", "That change is not this server's "
            "glossary's. Open /glossary history again."))
        return
    try:
        card = await glossary.card(entry.slug)
        current, file = card.term, card.file
    except TermNotFound:
        current = file = None
    version = version_of(entry)
    if version is None:
        await interaction.response.send_message(ephemeral=True, content=(
            f"`#{entry.id}` added the term: there is no earlier version to restore."))
        return
    if current == version:
        await interaction.response.send_message(ephemeral=True, content=(
            f"**{version.title}** is already as it was before `#{entry.id}`: nothing to "
            "restore."))
        return
    try:
        plan = await _restore_plan(bot, interaction.guild_id, entry, version, current, file)
    except EditConflict as exc:
        await interaction.response.send_message(ephemeral=True, embed=error_embed(
            "Cannot restore", f"{exc}. Reload the glossary, then try again."))
        return
    note = (f"Preview of the version before #{entry.id} ({_when(entry.at)}, "
            f"{_who(entry)}): nothing is saved yet."
            + ("" if current else " The term was removed; Save brings it back."))
    embed = card_embed(Card(version, {}, plan.change.file, glossary.id), spec.course_name,
                       bot.config.embed_colour, note=note)
    await interaction.response.send_message(embed=embed, view=RestoreView(plan),
                                            ephemeral=True)


class RestoreView(EditorsView):
    """Save / Cancel under the preview of an earlier version."""

    def __init__(self, plan: Restore) -> None:
        super().__init__(timeout=15 * 60)
        self.plan = plan

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success,
                       custom_id="history:save")
    async def save(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        plan = self.plan
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        outcome = await save_change(bot, interaction.guild_id, interaction.user, plan.change)
        if not outcome.saved:
            reason = outcome.reason.replace(AGAIN, "Nothing was overwritten: look at the "
                                            "term's history again.").replace(
                "The term would not load", "That version would not load now").replace(
                "this change, so the file", "that version, so the file")
            await self._not_restored(interaction, reason, *outcome.embeds)
            return
        await interaction.edit_original_response(
            content=f"Restored **{plan.version.title}** to the version before "
            f"#{plan.entry.id} ({_when(plan.entry.at)}).{outcome.note}",
            embeds=list(outcome.embeds), view=None)

    async def _not_restored(self, interaction: discord.Interaction, reason: str,
                            *details: discord.Embed) -> None:
        await interaction.edit_original_response(content=None, view=None, embeds=[
            error_embed("Not restored", reason), *details])

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary,
                       custom_id="history:cancel")
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was restored.", embed=None,
                                                view=None)


@app_commands.command(name="history", description="A term's recent changes, and restoring "
                      "an earlier version")
@app_commands.describe(term="The term (a removed one too)")
@app_commands.autocomplete(term=history_autocomplete)
@editors_only()
async def history_command(interaction: discord.Interaction, term: str) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    subject = await _subject(bot, interaction.guild_id, term)  # TermNotFound: on_error
    embed, view = await history_page(bot, subject, 0)
    extra = {"view": view} if view else {}
    await interaction.response.send_message(embed=embed, ephemeral=True, **extra)


def _group(bot: GlossaryBot) -> app_commands.Group:
    return glossary_group(bot, "cogs.history")


async def setup(bot: GlossaryBot) -> None:
    _group(bot).add_command(history_command)


async def teardown(bot: GlossaryBot) -> None:
    _group(bot).remove_command(history_command.name)
