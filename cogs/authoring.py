"""/glossary add, edit, remove and export, for the glossary's editors.

The commands join the moderators' /glossary group (cogs.moderation, loaded first).

*edit*: pick a term and a section; a form holds that section's text; a private preview
of the card offers Save, Keep editing and Cancel. Save rewrites the term's file through
``bot.editing`` (comments and untouched values kept; refused if the file changed since
the form opened, and the editor gets their text back), then runs the same validated
reload as /glossary reload.

*add*: title, definition, why it matters, category and aliases in one form, then the
same preview; Save writes a new file (never over one) and reloads, and removes it again
when the glossary refuses it.

*remove*: the term's card with Remove / Cancel; refused if the file changed meanwhile.

*export*: exactly what ``glossary-bot export`` writes (``bot.export``), made off the
event loop from the glossary the bot serves.

/glossary import and history follow once per-server glossaries land (issue 15); they use
``can_edit`` too.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import discord
from discord import app_commands

from bot.cards import card_embed, error_embed
from bot.client import GlossaryBot, NotEditor, NotModerator, is_moderator
from bot.editing import (
    OpenedTerm,
    create_term,
    open_term,
    remove_term,
    save_edit,
    undo_edit,
)
from bot.errors import EditConflict, InvalidContent
from bot.export import cell_text, export, file_name
from bot.import_sources import section_value
from bot.models import MAX_SLUG_LENGTH, Card, Term, slugify
from bot.reloads import ReloadReport, reload_and_report
from bot.sections import SECTIONS, Section, section
from bot.storage.history import HistoryEntry
from bot.text import shorten
from cogs.define import term_autocomplete

MODAL_TEXT_LIMIT = 4000  # Discord's cap on a text input
FENCE = "`" * 3
SECTION_CHOICES = [app_commands.Choice(name=s.heading.replace("{course}", "the course"),
                                       value=s.key) for s in SECTIONS]
FORMAT_NAMES = {
    "csv": "spreadsheet (CSV)", "json": "JSON", "md": "one Markdown page",
    "apkg": "Anki deck", "yaml": "term files (zip)",
}


async def can_edit(interaction: discord.Interaction) -> bool:
    """Who may change or export the server's glossary: the moderators of a server that
    owns it (as /glossary reload decides). The one place that decides it; raises
    NotEditor for a moderator of a server that only uses a shared glossary."""
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    spec = bot.spec_for(interaction.guild_id)
    moderator = await is_moderator(interaction)
    in_server = bot.get_guild(interaction.guild_id or 0) is not None
    if in_server and bot.glossary_map.may_edit(
            spec, interaction.user.id, interaction.guild_id if moderator else None):
        return True
    if moderator:
        raise NotEditor(bot.glossary_map.who_may_edit(spec, {g.id: g.name for g in bot.guilds}))
    return False


def editors_only():  # noqa: ANN201 - a discord.py check decorator
    async def predicate(interaction: discord.Interaction) -> bool:
        if not await can_edit(interaction):
            raise NotModerator("editors only")
        return True

    return app_commands.check(predicate)


def _files(interaction: discord.Interaction) -> Path | None:
    """The server's glossary's content directory; None for a database-only glossary, or
    with PostgreSQL when the files are on another host (this process serves what is
    published, issue 20)."""
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    directory = bot.spec_for(interaction.guild_id).content_dir
    if directory is not None and bot.store.pg is not None and not directory.is_dir():
        return None
    return directory


async def _no_files(interaction: discord.Interaction) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    if bot.spec_for(interaction.guild_id).content_dir is not None:
        await interaction.response.send_message(ephemeral=True, embed=error_embed(
            "Term files elsewhere", "This server is served by a copy of the bot on a host "
            "without the glossary's term files, so it cannot change them from here yet. "
            "Edit the files where they are and run `/glossary reload` from a server that "
            "host serves; every server sees the change within seconds."))
        return
    await interaction.response.send_message(ephemeral=True, embed=error_embed(
        "No term files", "This server's glossary lives in the database alone; editing it "
        "from Discord comes next. `glossary-bot export` writes it out as term files."))


async def _reload(interaction: discord.Interaction) -> ReloadReport:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    spec = bot.spec_for(interaction.guild_id)
    return await reload_and_report(bot.store, spec.content_dir, spec.name)


# --- /glossary edit --------------------------------------------------------------------

def _shown(part: Section) -> str:
    return part.heading.replace("{course}", "the course")


def _text_back(text: str) -> str:
    """The editor's words, fenced so nothing they typed is lost or rendered."""
    return f"Your text, to copy:\n{FENCE}\n{text.replace(FENCE, '´´´')[:3500]}\n{FENCE}"


@dataclass(frozen=True)
class Draft:
    """What an editor wrote: the card it would make, how to save it (in a thread; returns
    how to undo that), and how to reopen its form with their text."""

    term: Term
    file: str
    text: str  # everything the editor typed, to hand back if it cannot be saved
    save: Callable[[], Callable[[], object]]
    reopen: Callable[[], discord.ui.Modal]
    done: str
    before: Term | None = None  # what the glossary served, for the history


async def _show_preview(interaction: discord.Interaction, draft: Draft) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    course = bot.spec_for(interaction.guild_id).course_name
    embed = card_embed(Card(draft.term, {}, draft.file), course,
                       bot.config.embed_colour, note="Preview: nothing is saved yet.")
    await interaction.response.send_message(embed=embed, view=PreviewView(draft),
                                            ephemeral=True)


class EditForm(discord.ui.Modal):
    """One section of one term; the opened file's fingerprint travels with it."""

    def __init__(self, opened: OpenedTerm, term: Term, part: Section, text: str) -> None:
        super().__init__(title=shorten(f"Edit {term.title}", 45), custom_id="authoring:edit")
        self.opened, self.term, self.part = opened, term, part
        hint = "One item per line." if part.is_list else (
            "Required." if part.required else "Leave it empty to remove the section.")
        self.text = discord.ui.TextInput(
            custom_id="text", style=discord.TextStyle.paragraph, default=text or None,
            max_length=MODAL_TEXT_LIMIT, required=part.required)
        self.add_item(discord.ui.Label(text=shorten(_shown(part), 45), description=hint,
                                       component=self.text))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        opened, part, text = self.opened, self.part, self.text.value
        changes = {part.key: section_value(part, text)}
        values = {s.key: opened.values.get(s.key, s.default) for s in SECTIONS}

        def save() -> Callable[[], object]:
            saved = save_edit(opened, changes)
            return lambda: undo_edit(saved)

        await _show_preview(interaction, Draft(
            Term(slug=self.term.slug, **{**values, **changes}), opened.path.name, text, save,
            lambda: EditForm(opened, self.term, part, text),
            f"Saved: {_shown(part)} of **{self.term.title}**.", self.term))


ADD_FIELDS = ("title", "definition", "why_it_matters", "category", "aliases")  # 5 at most


class AddForm(discord.ui.Modal):
    """A new term's essentials in one form; the other sections are one /glossary edit
    away."""

    def __init__(self, directory: Path, typed: dict[str, str] | None = None) -> None:
        super().__init__(title="Add a term", custom_id="authoring:add")
        self.directory = directory
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for key in ADD_FIELDS:
            part = section(key)
            long = key in ("definition", "why_it_matters", "aliases")
            text = discord.ui.TextInput(
                custom_id=key, required=part.required, default=(typed or {}).get(key) or None,
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                max_length=MODAL_TEXT_LIMIT if long else min(part.limit, 100))
            self.inputs[key] = text
            hint = "One per line." if part.is_list else None
            self.add_item(discord.ui.Label(text=_shown(part).capitalize(), description=hint,
                                           component=text))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        typed = {key: field.value for key, field in self.inputs.items()}
        values = {s.key: s.default for s in SECTIONS}
        values.update({key: section_value(section(key), text) for key, text in typed.items()})
        slug = slugify(values["title"])
        if not slug or len(slug) > MAX_SLUG_LENGTH:
            await interaction.response.send_message(ephemeral=True, embed=error_embed(
                "Cannot add this term", "The title needs letters or digits (and at most "
                f"{MAX_SLUG_LENGTH} in its file name).\n\n{_text_back(_typed(typed))}"))
            return
        term = Term(slug=slug, **values)
        directory = self.directory

        def save() -> Callable[[], object]:
            path = create_term(directory, term)
            return lambda: remove_term(open_term(path))

        await _show_preview(interaction, Draft(
            term, f"{slug}.yaml", _typed(typed), save, lambda: AddForm(directory, typed),
            f"Added **{term.title}** ({slug}.yaml)."))


def _typed(typed: dict[str, str]) -> str:
    return "\n\n".join(f"{_shown(section(key))}:\n{text}" for key, text in typed.items()
                        if text.strip())


async def _record(interaction: discord.Interaction, slug: str, before: Term | None,
                  after: Term | None) -> None:
    """The change in the term's history, naming the editor."""
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    await bot.store.history.record([HistoryEntry(
        slug, "edit", before, after, actor_id=interaction.user.id,
        actor_name=interaction.user.display_name)])


class PreviewView(discord.ui.View):
    """Save / Keep editing / Cancel under the private preview."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(timeout=15 * 60)  # an interaction token lives 15 minutes
        self.draft = draft

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await can_edit(interaction):
            raise NotModerator("editors only")
        return True

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success,
                       custom_id="authoring:save")
    async def save(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        try:
            undo = await asyncio.to_thread(self.draft.save)
        except EditConflict as exc:
            reason = (f"{exc}. Nothing was overwritten: open the term again and re-apply "
                      "your change.")
            await self._not_saved(interaction, reason)
            return
        except InvalidContent as exc:
            problems = "\n".join(str(p) for p in exc.problems[:5])
            await self._not_saved(interaction, f"The term would not load:\n{problems}")
            return
        report = await _reload(interaction)
        if report.diff is None:  # the glossary as a whole refused it (a name clash, ...)
            await asyncio.to_thread(undo)
            await self._not_saved(interaction, "The glossary would not reload with this "
                                  "change, so the file was put back:", report.embed)
            return
        await _record(interaction, self.draft.term.slug, self.draft.before, self.draft.term)
        await interaction.edit_original_response(content=self.draft.done,
                                                 embed=report.embed, view=None)

    async def _not_saved(self, interaction: discord.Interaction, reason: str,
                         *details: discord.Embed) -> None:
        await interaction.edit_original_response(content=None, view=None, embeds=[
            error_embed("Not saved", f"{reason}\n\n{_text_back(self.draft.text)}"),
            *details])

    @discord.ui.button(label="Keep editing", custom_id="authoring:again")
    async def again(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.send_modal(self.draft.reopen())

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary,
                       custom_id="authoring:cancel")
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was changed.", embed=None,
                                                view=None)


class RemoveView(discord.ui.View):
    """Remove / Cancel under the card of the term to remove."""

    def __init__(self, opened: OpenedTerm, term: Term) -> None:
        super().__init__(timeout=15 * 60)
        self.opened, self.term = opened, term

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await can_edit(interaction):
            raise NotModerator("editors only")
        return True

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger,
                       custom_id="authoring:remove")
    async def remove(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        previous = self.opened.path.read_bytes() if self.opened.path.exists() else b""
        try:
            await asyncio.to_thread(remove_term, self.opened)
        except EditConflict as exc:
            await interaction.edit_original_response(content=None, view=None, embed=error_embed(
                "Not removed", f"{exc}: look at it again before removing it."))
            return
        report = await _reload(interaction)
        if report.diff is None:
            await asyncio.to_thread(self.opened.path.write_bytes, previous)
            await interaction.edit_original_response(content=None, view=None, embeds=[
                error_embed("Not removed", "The glossary would not reload without it, so "
                            "the file was put back."), report.embed])
            return
        await _record(interaction, self.term.slug, self.term, None)
        await interaction.edit_original_response(content=f"Removed **{self.term.title}**.",
                                                 embed=report.embed, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary,
                       custom_id="authoring:keep")
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was removed.", embed=None,
                                                view=None)


@app_commands.command(name="remove", description="Remove a term (its card is shown first, "
                      "to confirm)")
@app_commands.describe(term="The term to remove")
@app_commands.autocomplete(term=term_autocomplete)
@editors_only()
async def remove_command(interaction: discord.Interaction, term: str) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    if (directory := _files(interaction)) is None:
        await _no_files(interaction)
        return
    card = await bot.glossary_for(interaction.guild_id).card(term)  # TermNotFound: on_error
    opened = await asyncio.to_thread(open_term, directory / card.file)
    embed = card_embed(card, bot.spec_for(interaction.guild_id).course_name,
                       bot.config.embed_colour,
                       note=f"Remove this term? Its file {card.file} is deleted.")
    await interaction.response.send_message(embed=embed, view=RemoveView(opened, card.term),
                                            ephemeral=True)


@app_commands.command(name="add", description="Add a term (a form, then a preview before "
                      "anything is saved)")
@editors_only()
async def add_command(interaction: discord.Interaction) -> None:
    if (directory := _files(interaction)) is None:
        await _no_files(interaction)
        return
    await interaction.response.send_modal(AddForm(directory))


@app_commands.command(name="edit", description="Change one section of a term (a form, "
                      "then a preview before anything is saved)")
@app_commands.describe(term="The term to change", part="Which section")
@app_commands.rename(part="section")
@app_commands.choices(part=SECTION_CHOICES)
@app_commands.autocomplete(term=term_autocomplete)
@editors_only()
async def edit_command(interaction: discord.Interaction, term: str,
                       part: app_commands.Choice[str]) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    if (directory := _files(interaction)) is None:
        await _no_files(interaction)
        return
    card = await bot.glossary_for(interaction.guild_id).card(term)  # TermNotFound: on_error
    chosen = section(part.value)
    opened = await asyncio.to_thread(open_term, directory / card.file)
    text = cell_text(chosen, opened.values.get(chosen.key, chosen.default))
    if len(text) > MODAL_TEXT_LIMIT:
        await interaction.response.send_message(embed=error_embed(
            "Too long for a form", f"This section is {len(text):,} characters; a Discord "
            f"form holds {MODAL_TEXT_LIMIT:,}. Edit the file {card.file} instead."),
            ephemeral=True)
        return
    await interaction.response.send_modal(EditForm(opened, card.term, chosen, text))


# --- /glossary export ------------------------------------------------------------------

@app_commands.command(name="export", description="Download the glossary as a spreadsheet, "
                      "JSON, a Markdown page, an Anki deck or term files")
@app_commands.describe(format="What kind of file (default: a spreadsheet)")
@editors_only()
async def export_command(
    interaction: discord.Interaction,
    format: Literal["csv", "json", "md", "apkg", "yaml"] = "csv",  # noqa: A002
) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    await interaction.response.defer(ephemeral=True, thinking=True)  # 10,000 terms: seconds
    terms = await bot.glossary_for(interaction.guild_id).all_terms()
    spec = bot.spec_for(interaction.guild_id)
    data = await asyncio.to_thread(export, terms, format, spec.course_name)
    limit = interaction.guild.filesize_limit if interaction.guild else 10 * 1024 * 1024
    if len(data) > limit:
        await interaction.followup.send(embed=error_embed(
            "Too big to attach",
            f"The {FORMAT_NAMES[format]} is {len(data) / 1e6:.1f} MB; this server takes "
            f"files up to {limit / 1e6:.0f} MB. Try another format, or ask the bot's "
            f"operator for `glossary-bot export --format {format}`."), ephemeral=True)
        return
    await interaction.followup.send(
        f"The glossary as a {FORMAT_NAMES[format]}: {len(terms)} terms.",
        file=discord.File(io.BytesIO(data), filename=file_name(format)), ephemeral=True)


# --- Joining /glossary -----------------------------------------------------------------

_COMMANDS = (add_command, edit_command, remove_command, export_command)


def _group(bot: GlossaryBot) -> app_commands.Group:
    group = bot.tree.get_command("glossary")
    if not isinstance(group, app_commands.Group):
        raise RuntimeError("cogs.authoring needs cogs.moderation's /glossary group: load it "
                           "first")
    return group


async def setup(bot: GlossaryBot) -> None:
    for command in _COMMANDS:
        _group(bot).add_command(command)


async def teardown(bot: GlossaryBot) -> None:
    for command in _COMMANDS:
        _group(bot).remove_command(command.name)
