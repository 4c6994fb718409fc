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

Every change is saved by ``save_change`` (``save_changes`` for several terms at once),
the one path an applied suggestion (``cogs.suggestion_review``), a restore
(``cogs.history``) and an import (``cogs.importing``) take too: for a glossary with no
content directory (or, with PostgreSQL, whose files are on another host:
``edit_directory``) the terms' new text is checked and written in the database
(``Reloader.apply``, one transaction; published, and written back to the files by the
host that has them), with the same conflict refusal; the history names
the editor (and the student whose suggestion it was); with ``commit_edits`` the saved
files become one git commit by the editor
(``bot.git_commits``).

*export*: exactly what ``glossary-bot export`` writes (``bot.export``), made off the
event loop from the glossary the bot serves.

/glossary import (``cogs.importing``) and /glossary history with restore
(``cogs.history``) check ``can_edit`` the same way.
"""

from __future__ import annotations

import asyncio
import io
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import discord
from discord import app_commands

from bot.cards import card_embed, error_embed, reload_embed, reload_failed_embed
from bot.client import GlossaryBot, NotEditor, NotModerator, is_moderator
from bot.editing import (
    OpenedTerm,
    create_term,
    open_term,
    remove_term,
    save_edit,
    undo_edit,
)
from bot.errors import (
    EditConflict,
    GlossaryGone,
    InvalidContent,
    SharedStateUnavailable,
    TermNotFound,
)
from bot.export import cell_text, export, file_name, term_file_text
from bot.git_commits import commit_quietly, is_work_tree, wants_commits
from bot.glossaries import GlossarySpec
from bot.import_sources import section_value
from bot.models import MAX_SLUG_LENGTH, Card, Term, name_key, slugify
from bot.reloads import reload_and_report
from bot.sections import SECTIONS, Section, section
from bot.storage.history import HistoryEntry, changed_sections
from bot.text import shorten
from cogs.define import term_autocomplete
from cogs.moderation import glossary_group

log = logging.getLogger(__name__)

MODAL_TEXT_LIMIT = 4000  # Discord's cap on a text input
FENCE = "`" * 3
SECTION_CHOICES = [app_commands.Choice(name=s.heading.replace("{course}", "the course"),
                                       value=s.key) for s in SECTIONS]
FORMAT_NAMES = {
    "csv": "spreadsheet (CSV)", "json": "JSON", "md": "one Markdown page",
    "apkg": "Anki deck", "yaml": "term files (zip)",
}


async def can_edit(interaction: discord.Interaction, spec: GlossarySpec | None = None
                   ) -> bool:
    """Who may change or export the server's glossary (``spec``: another one, such as
    the glossary a suggestion posted in an owner server is for): its listed editors, and
    the moderators of a server that owns it (as /glossary reload decides). The one place
    that decides it; raises NotEditor for a moderator of a server that only uses a shared
    glossary."""
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    spec = spec or bot.spec_for(interaction.guild_id)
    moderator = await is_moderator(interaction)
    in_server = bot.get_guild(interaction.guild_id or 0) is not None
    if in_server and bot.glossary_map.may_edit(
            spec, interaction.user.id, interaction.guild_id if moderator else None):
        return True
    if moderator:
        raise NotEditor(bot.glossary_map.who_may_edit(spec, {g.id: g.name for g in bot.guilds}))
    return False


async def require_editor(interaction: discord.Interaction,
                         spec: GlossarySpec | None = None) -> bool:
    """``can_edit``, or NotModerator (worded by the tree's on_error): the one check every
    editors' command and view makes."""
    if not await can_edit(interaction, spec):
        raise NotModerator("editors only")
    return True


class EditorsView(discord.ui.View):
    """A private view whose buttons only the glossary's editors may use."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await require_editor(interaction)


def editors_only():  # noqa: ANN201 - a discord.py check decorator
    async def predicate(interaction: discord.Interaction) -> bool:
        return await require_editor(interaction)

    return app_commands.check(predicate)


def edit_directory(bot: GlossaryBot, spec: GlossarySpec) -> Path | None:
    """Where this process writes a glossary's changes: its term files when they are on
    this host; None: through the database, as for a database-only glossary. With
    PostgreSQL, a host without the files publishes the edit, and the host with them
    writes it back to them (``bot.publishing``), so a reload there does not undo it."""
    directory = spec.content_dir
    if directory is not None and bot.store.pg is not None and not directory.is_dir():
        return None
    return directory


def _files(interaction: discord.Interaction) -> Path | None:
    """The server's glossary's term files on this host; None: changed in the database."""
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    return edit_directory(bot, bot.spec_for(interaction.guild_id))


# --- Saving a change, the one path every edit takes -------------------------------------

@dataclass(frozen=True)
class Change:
    """One term's change, saved the same way whatever asked for it (an edit, an add, a
    removal, an applied suggestion). A file-backed glossary's change is ``write`` (run in
    a thread, returns how to undo it); a database-only glossary's is the term's new text
    against the fingerprint the editor opened (``expected``; None: a new term)."""

    slug: str
    file: str
    before: Term | None
    after: Term | None
    write: Callable[[], Callable[[], object]] | None = None
    expected: str | None = None
    source: str = "edit"
    credited_id: int | None = None
    what: str = "edit"  # for the commit message: "edit", "add", "remove", "apply"
    glossary: str | None = None  # the glossary's name; None: the one the server uses


@dataclass(frozen=True)
class Outcome:
    """What saving a change did: ``reason`` (and details) when nothing was saved; the
    reload's report, and a note on the git commit, when it was."""

    saved: bool
    reason: str = ""
    embeds: tuple[discord.Embed, ...] = ()
    note: str = ""


AGAIN = "Nothing was overwritten: open the term again and re-apply your change."
UNAVAILABLE = ("The bot cannot reach its shared database right now, so nothing was saved. "
               "Try again in a moment.")
Write = Callable[[], Callable[[], object]]  # runs in a thread; returns how to undo it


async def save_change(bot: GlossaryBot, guild_id: int | None, user: discord.abc.User,
                      change: Change) -> Outcome:
    """Save, validate as a reload does, record in the history (naming the editor and, for
    a suggestion, the student), then commit to git if the glossary asks for it."""
    return await save_changes(bot, guild_id, user, (change,), change.write,
                              _message(change))


async def save_changes(bot: GlossaryBot, guild_id: int | None, user: discord.abc.User,
                       changes: Sequence[Change], write: Write | None, message: str
                       ) -> Outcome:
    """Several terms' changes saved as one, all or nothing: the path every change from
    Discord takes (an edit, an add, a removal, an applied suggestion, a restore, an
    import). A database-only glossary gets every term's new text in ONE
    ``Reloader.apply`` (one transaction, the same checks, each term's fingerprint
    checked); a file-backed one runs ``write`` (every file), then one validated reload,
    and undoes ``write`` when the glossary refuses it. The history records every change
    at once; with ``commit_edits`` the files become ONE git commit by the editor."""
    if not changes:
        return Outcome(True)
    spec = spec_of_change(bot, guild_id, changes[0])
    directory = edit_directory(bot, spec)
    if directory is None or write is None:
        texts = {c.file: term_file_text(c.after) if c.after is not None else None
                 for c in changes}
        try:
            diff = await bot.store.reloader(spec.name).apply(
                texts, {c.file: c.expected for c in changes},
                files_elsewhere=spec.content_dir is not None)
        except EditConflict as exc:
            return Outcome(False, f"{exc}. {AGAIN}")
        except InvalidContent as exc:
            return Outcome(False, "The glossary would not take this change:",
                           (reload_failed_embed(exc.problems),))
        except SharedStateUnavailable:  # PostgreSQL: nothing was published, nor saved
            return Outcome(False, UNAVAILABLE)
        return await _recorded(bot, user, spec, changes, reload_embed(diff), message)
    async with _saving(bot, spec.name):
        return await _save_files(bot, user, spec, directory, changes, write, message)


_SAVING: weakref.WeakKeyDictionary[GlossaryBot, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


def _saving(bot: GlossaryBot, glossary: str) -> asyncio.Lock:
    """One file-backed save of a glossary at a time: each file's fingerprint check and
    replacement, its reload and any undo happen together, so of two editors saving the
    same term at once one wins and the other is told (their text back), and an undo never
    puts back a file another save has just written."""
    return _SAVING.setdefault(bot, {}).setdefault(glossary, asyncio.Lock())


async def _save_files(bot: GlossaryBot, user: discord.abc.User, spec: GlossarySpec,
                      directory: Path, changes: Sequence[Change], write: Write, message: str
                      ) -> Outcome:
    """A file-backed glossary's change: ``write`` (every file), one validated reload, and
    ``write`` undone when the glossary refuses it (or PostgreSQL cannot take it)."""
    many = len(changes) > 1
    publishing = getattr(bot, "publishing", None)
    try:
        if publishing is not None:  # an edit made elsewhere reaches the file first
            await publishing.apply(spec.name)
    except SharedStateUnavailable:
        return Outcome(False, UNAVAILABLE)
    try:
        undo = await asyncio.to_thread(write)
    except EditConflict as exc:
        return Outcome(False, f"{exc}. {AGAIN}")
    except InvalidContent as exc:
        problems = "\n".join(str(p) for p in exc.problems[:5])
        return Outcome(False, f"The term would not load:\n{problems}")
    except OSError as exc:  # written to a temporary file first: nothing changed
        log.warning("Saving to %s failed: %s", directory, exc)
        return Outcome(False, "The term files could not be written "
                       f"({exc.strerror or exc}); nothing was changed.")
    try:
        reloaded = await reload_and_report(bot.store, directory, spec.name)
    except SharedStateUnavailable:
        await asyncio.to_thread(undo)
        return Outcome(False, UNAVAILABLE)
    if reloaded.diff is None:  # the glossary as a whole refused it (a name clash, ...)
        await asyncio.to_thread(undo)
        put_back = ("every file was put back as it was" if many
                    else "the file was put back")
        return Outcome(False, f"The glossary would not reload with "
                       f"{'these terms' if many else 'this change'}, so {put_back}:",
                       (reloaded.embed,))
    report = reloaded.embed
    return await _recorded(bot, user, spec, changes, report, message)


async def _recorded(bot: GlossaryBot, user: discord.abc.User, spec: GlossarySpec,
                    changes: Sequence[Change], report: discord.Embed, message: str
                    ) -> Outcome:
    """A saved change in the history (naming the editor), then committed if asked."""
    name = getattr(user, "display_name", str(user))
    glossary_id = bot.store.glossary_named(spec.name).id
    await bot.store.history.record([HistoryEntry(
        c.slug, c.source, c.before, c.after, actor_id=user.id, actor_name=name,
        credited_id=c.credited_id, glossary_id=glossary_id) for c in changes])
    note = await _commit(bot, spec, [c.file for c in changes], message, user)
    return Outcome(True, embeds=(report,), note=note)


def spec_of_change(bot: GlossaryBot, guild_id: int | None, change: Change) -> GlossarySpec:
    """The glossary a change is for: the one it names, else the server's."""
    if change.glossary is None:
        return bot.spec_for(guild_id)
    spec = bot.glossary_map.named(change.glossary)
    if spec is None:
        raise GlossaryGone("That glossary is no longer served by this bot: nothing was "
                           "changed.")
    return spec


def _message(change: Change) -> str:
    """The commit message of one term's change: ``Glossary: edit Git (definition)``."""
    term = change.after or change.before
    title = term.title if term is not None else change.slug
    parts = ", ".join(changed_sections(change.before, change.after)) if (
        change.before is not None and change.after is not None) else ""
    return f"Glossary: {change.what} {title}" + (f" ({parts})" if parts else "")


async def _commit(bot: GlossaryBot, spec: GlossarySpec, files: Sequence[str], message: str,
                  user: discord.abc.User) -> str:
    """With ``commit_edits``, the saved files as one git commit by the editor; a failure
    is logged and said to the editor, and the change stays saved."""
    directory = edit_directory(bot, spec)  # elsewhere: not committed (see bot.publishing)
    if directory is None or not wants_commits(spec.commit_edits, bot.config.commit_edits):
        return ""
    if not await asyncio.to_thread(is_work_tree, directory):
        log.warning("commit_edits is on for glossary %s, but %s is not a git work tree",
                    spec.name, directory)
        return ""
    name = getattr(user, "display_name", str(user))
    commit, failure = await asyncio.to_thread(
        commit_quietly, directory, files[0] if len(files) == 1 else files, message, name,
        user.id)
    if failure is not None:
        return (f"\n⚠️ Saved, but not committed to git: {shorten(failure, 300)}. Ask the "
                "bot's host to look at the repository.")
    return f"\nCommitted to git as `{commit}`."


# --- /glossary edit --------------------------------------------------------------------

def _shown(part: Section) -> str:
    return part.heading.replace("{course}", "the course")


def _text_back(text: str) -> str:
    """The editor's words, fenced so nothing they typed is lost or rendered."""
    return f"Your text, to copy:\n{FENCE}\n{text.replace(FENCE, '´´´')[:3500]}\n{FENCE}"


@dataclass(frozen=True)
class Opened:
    """A term as an editor opened it: its file (fingerprint checked on save) for a
    file-backed glossary, or its stored fingerprint for a database-only one."""

    file: str
    values: dict[str, Any]
    in_file: OpenedTerm | None = None
    fingerprint: str | None = None
    glossary: str | None = None  # its glossary's name (see Change.glossary)

    def edit(self, before: Term, after: Term, changes: dict[str, Any]) -> Change:
        write = None
        if self.in_file is not None:
            opened = self.in_file

            def write() -> Callable[[], object]:
                saved = save_edit(opened, changes)
                return lambda: undo_edit(saved)

        return Change(before.slug, self.file, before, after, write, self.fingerprint,
                      glossary=self.glossary)

    def removal(self, before: Term) -> Change:
        write = None
        if self.in_file is not None:
            opened = self.in_file

            def write() -> Callable[[], object]:
                previous = opened.path.read_bytes() if opened.path.exists() else b""
                remove_term(opened)
                return lambda: opened.path.write_bytes(previous)

        return Change(before.slug, self.file, before, None, write, self.fingerprint,
                      what="remove", glossary=self.glossary)


async def open_card(bot: GlossaryBot, guild_id: int | None, card: Card,
                    spec: GlossarySpec | None = None) -> Opened:
    """Open a card's term for editing, wherever its glossary (the server's, or ``spec``)
    keeps it."""
    spec = spec or bot.spec_for(guild_id)
    directory = edit_directory(bot, spec)
    if directory is None:
        fingerprint = await bot.store.reloader(spec.name).fingerprint(card.file)
        if fingerprint is None:
            raise EditConflict(f"{card.file} no longer exists", {})
        values = {s.key: getattr(card.term, s.key) for s in SECTIONS}
        return Opened(card.file, values, fingerprint=fingerprint, glossary=spec.name)
    in_file = await asyncio.to_thread(open_term, directory / card.file)
    return Opened(card.file, in_file.values, in_file=in_file, glossary=spec.name)


def edited_term(opened: Opened, before: Term, part: Section, text: str
                ) -> tuple[Term, dict[str, Any]]:
    """The term with one section replaced by what an editor (or a student) wrote."""
    changes = {part.key: section_value(part, text)}
    values = {s.key: opened.values.get(s.key, s.default) for s in SECTIONS}
    return Term(slug=before.slug, **{**values, **changes}), changes


@dataclass(frozen=True)
class Draft:
    """What an editor wrote: the card it would make, the change that saves it, and how to
    reopen its form with their text. ``claim`` may refuse the save (a suggestion someone
    else decided meanwhile); ``settled`` hears whether it was saved."""

    term: Term
    file: str
    text: str  # everything the editor typed, to hand back if it cannot be saved
    change: Change
    reopen: Callable[[], discord.ui.Modal]
    done: str
    claim: Callable[[discord.Interaction], Awaitable[str | None]] | None = None
    settled: Callable[[discord.Interaction, bool], Awaitable[None]] | None = None


async def show_preview(interaction: discord.Interaction, draft: Draft) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    course = spec_of_change(bot, interaction.guild_id, draft.change).course_name
    embed = card_embed(Card(draft.term, {}, draft.file), course,
                       bot.config.embed_colour, note="Preview: nothing is saved yet.")
    await interaction.response.send_message(embed=embed, view=PreviewView(draft),
                                            ephemeral=True)


class EditForm(discord.ui.Modal):
    """One section of one term; what was opened (its fingerprint) travels with it."""

    def __init__(self, opened: Opened, term: Term, part: Section, text: str, *,
                 custom_id: str = "authoring:edit",
                 draft: Callable[[Draft], Draft] | None = None) -> None:
        super().__init__(title=shorten(f"Edit {term.title}", 45), custom_id=custom_id)
        self.opened, self.term, self.part, self.adapt = opened, term, part, draft
        hint = "One item per line." if part.is_list else (
            "Required." if part.required else "Leave it empty to remove the section.")
        self.text = discord.ui.TextInput(
            custom_id="text", style=discord.TextStyle.paragraph, default=text or None,
            max_length=MODAL_TEXT_LIMIT, required=part.required)
        self.add_item(discord.ui.Label(text=shorten(_shown(part), 45), description=hint,
                                       component=self.text))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        opened, part, text = self.opened, self.part, self.text.value
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        if not await _still_there(bot, opened):
            await interaction.response.send_message(ephemeral=True, embed=error_embed(
                "Not saved", f"**{self.term.title}** was removed from the glossary after "
                f"you opened the form, so nothing was changed.\n\n{_text_back(text)}"))
            return
        after, changes = edited_term(opened, self.term, part, text)
        if part.links:  # typed related terms: each must be a term of this glossary
            glossary = (bot.store.glossary_named(opened.glossary) if opened.glossary
                        else bot.glossary_for(interaction.guild_id))
            slugs, unknown = await resolve_related(glossary, self.term.slug,
                                                   changes[part.key])
            if unknown:
                await interaction.response.send_message(ephemeral=True, embed=error_embed(
                    "Not in the glossary", f"{unknown}\n\nNothing was changed; pick "
                    "related terms with `/glossary related`, which suggests them as you "
                    f"type.\n\n{_text_back(text)}"))
                return
            after, changes = edited_term(opened, self.term, part, "\n".join(slugs))
        draft = Draft(
            after, opened.file, text, opened.edit(self.term, after, changes),
            lambda: EditForm(opened, self.term, part, text, custom_id=self.custom_id,
                             draft=self.adapt),
            f"Saved: {_shown(part)} of **{self.term.title}**.")
        await show_preview(interaction, self.adapt(draft) if self.adapt else draft)


async def _still_there(bot: GlossaryBot, opened: Opened) -> bool:
    """Whether the term a form was opened for still exists (its file, or its row)."""
    if opened.in_file is not None:
        return await asyncio.to_thread(opened.in_file.path.exists)
    if opened.glossary is None or opened.fingerprint is None:
        return True  # nothing to look it up by; the save checks again
    return await bot.store.reloader(opened.glossary).fingerprint(opened.file) is not None


ADD_FIELDS = ("title", "definition", "why_it_matters", "category", "aliases")  # 5 at most


class AddForm(discord.ui.Modal):
    """A new term's essentials in one form; the other sections are one /glossary edit
    away. ``directory`` is None for a database-only glossary."""

    def __init__(self, directory: Path | None, typed: dict[str, str] | None = None) -> None:
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
        write = None
        if directory is not None:
            def write() -> Callable[[], object]:
                path = create_term(directory, term)
                return lambda: remove_term(open_term(path))

        change = Change(slug, f"{slug}.yaml", None, term, write, None, what="add")
        await show_preview(interaction, Draft(
            term, f"{slug}.yaml", _typed(typed), change, lambda: AddForm(directory, typed),
            f"Added **{term.title}** ({slug}.yaml)."))


def _typed(typed: dict[str, str]) -> str:
    return "\n\n".join(f"{_shown(section(key))}:\n{text}" for key, text in typed.items()
                        if text.strip())


class PreviewView(discord.ui.View):
    """Save / Keep editing / Cancel under the private preview."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(timeout=15 * 60)  # an interaction token lives 15 minutes
        self.draft = draft

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        return await require_editor(
            interaction, spec_of_change(bot, interaction.guild_id, self.draft.change))

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success,
                       custom_id="authoring:save")
    async def save(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        draft = self.draft
        if draft.claim is not None and (refused := await draft.claim(interaction)):
            await self._not_saved(interaction, refused)
            return
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        outcome = await save_change(bot, interaction.guild_id, interaction.user, draft.change)
        if draft.settled is not None:
            await draft.settled(interaction, outcome.saved)
        if not outcome.saved:
            await self._not_saved(interaction, outcome.reason, *outcome.embeds)
            return
        await interaction.edit_original_response(content=draft.done + outcome.note,
                                                 embeds=list(outcome.embeds), view=None)

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


class RemoveView(EditorsView):
    """Remove / Cancel under the card of the term to remove."""

    def __init__(self, opened: Opened, term: Term) -> None:
        super().__init__(timeout=15 * 60)
        self.opened, self.term = opened, term

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger,
                       custom_id="authoring:remove")
    async def remove(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        outcome = await save_change(bot, interaction.guild_id, interaction.user,
                                    self.opened.removal(self.term))
        if not outcome.saved:
            reason = outcome.reason.replace(AGAIN, "Look at it again before removing it.")
            await interaction.edit_original_response(content=None, view=None, embeds=[
                error_embed("Not removed", reason), *outcome.embeds])
            return
        await interaction.edit_original_response(
            content=f"Removed **{self.term.title}**." + outcome.note,
            embeds=list(outcome.embeds), view=None)

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
    card = await bot.glossary_for(interaction.guild_id).card(term)  # TermNotFound: on_error
    opened = await open_card(bot, interaction.guild_id, card)
    where = (f"Its file {card.file} is deleted." if opened.in_file is not None
             else "It is deleted from the glossary.")
    embed = card_embed(card, bot.spec_for(interaction.guild_id).course_name,
                       bot.config.embed_colour, note=f"Remove this term? {where}")
    await interaction.response.send_message(embed=embed, view=RemoveView(opened, card.term),
                                            ephemeral=True)


@app_commands.command(name="add", description="Add a term (a form, then a preview before "
                      "anything is saved)")
@editors_only()
async def add_command(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(AddForm(_files(interaction)))


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
    card = await bot.glossary_for(interaction.guild_id).card(term)  # TermNotFound: on_error
    chosen = section(part.value)
    opened = await open_card(bot, interaction.guild_id, card)
    text = cell_text(chosen, opened.values.get(chosen.key, chosen.default))
    if len(text) > MODAL_TEXT_LIMIT:
        await interaction.response.send_message(embed=error_embed(
            "Too long for a form", f"This section is {len(text):,} characters; a Discord "
            f"form holds {MODAL_TEXT_LIMIT:,}. Edit the file {card.file} instead."),
            ephemeral=True)
        return
    await interaction.response.send_modal(EditForm(opened, card.term, chosen, text))


# --- /glossary related ------------------------------------------------------------------

async def resolve_related(glossary: Any, slug: str, typed: Sequence[str]
                          ) -> tuple[tuple[str, ...], str]:
    """Typed related terms as the slugs they name (a title or an alias finds its term),
    in order and once each; and, when some name no term (or the term itself), a line
    per problem with the closest names: "did you mean"."""
    slugs: list[str] = []
    problems: list[str] = []
    for item in typed:
        try:
            found = (await glossary.card(item)).term.slug
        except TermNotFound as exc:
            close = ", ".join(f"**{s.title}** (`{s.slug}`)" for s in exc.suggestions[:3])
            problems.append(f"`{item}` is not a term of this glossary"
                            + (f"; did you mean {close}?" if close else "."))
            continue
        if found == slug:
            problems.append(f"`{item}` is this term itself.")
        elif found not in slugs:
            slugs.append(found)
    return tuple(slugs), "\n".join(problems)


async def current_related_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The related terms the chosen term has now, for ``remove``; a failure here must not
    break typing."""
    try:
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        card = await bot.glossary_for(interaction.guild_id).card(
            str(getattr(interaction.namespace, "term", "") or ""))
    except Exception:  # noqa: BLE001 - no term chosen yet, or a miss: no choices
        return []
    wanted = name_key(current)
    choices = []
    for slug in card.term.related:
        title = card.related_titles.get(slug, slug)
        if not wanted or wanted in name_key(title) or wanted in name_key(slug):
            choices.append(app_commands.Choice(name=shorten(title, 100), value=slug))
    return choices[:25]


@app_commands.command(name="related", description="Add or remove a related term, chosen "
                      "from the glossary (a preview before anything is saved)")
@app_commands.describe(term="The term whose related terms change",
                       add="A glossary term to relate to it",
                       remove="One of its related terms to drop")
@app_commands.autocomplete(term=term_autocomplete, add=term_autocomplete,
                           remove=current_related_autocomplete)
@editors_only()
async def related_command(interaction: discord.Interaction, term: str,
                          add: str | None = None, remove: str | None = None) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    _files(interaction)  # FilesElsewhere: on_error
    glossary = bot.glossary_for(interaction.guild_id)
    card = await glossary.card(term)  # TermNotFound: on_error
    if not add and not remove:
        await interaction.response.send_message(ephemeral=True, embed=error_embed(
            "Nothing to change", "Choose a term to `add`, or one to `remove`."))
        return
    related = list(card.term.related)
    if add:
        slugs, unknown = await resolve_related(glossary, card.term.slug, [add])
        if unknown:
            await interaction.response.send_message(ephemeral=True, embed=error_embed(
                "Not in the glossary", f"{unknown}\n\nNothing was changed."))
            return
        if slugs[0] in related:
            await interaction.response.send_message(ephemeral=True, embed=error_embed(
                "Already related", f"**{card.term.title}** already lists "
                f"`{slugs[0]}`. Nothing was changed."))
            return
        related.append(slugs[0])
        add = slugs[0]
    if remove:
        gone = remove if remove in related else slugify(remove)
        if gone not in related:
            listed = ", ".join(f"`{s}`" for s in card.term.related) or "none"
            await interaction.response.send_message(ephemeral=True, embed=error_embed(
                "Not one of its related terms", f"**{card.term.title}** does not list "
                f"`{remove}` (it lists: {listed}). Nothing was changed."))
            return
        related.remove(gone)
    opened = await open_card(bot, interaction.guild_id, card)
    part = section("related")
    text = "\n".join(related)
    after, changes = edited_term(opened, card.term, part, text)
    what = " and ".join(
        ([f"added `{add}`"] if add else [])
        + ([f"removed `{remove}`"] if remove else []))
    draft = Draft(after, opened.file, text, opened.edit(card.term, after, changes),
                  lambda: EditForm(opened, card.term, part, text),
                  f"Saved: related terms of **{card.term.title}** ({what}).")
    await show_preview(interaction, draft)


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

_COMMANDS = (add_command, edit_command, remove_command, related_command,
             export_command)


def _group(bot: GlossaryBot) -> app_commands.Group:
    return glossary_group(bot, "cogs.authoring")


async def setup(bot: GlossaryBot) -> None:
    for command in _COMMANDS:
        _group(bot).add_command(command)


async def teardown(bot: GlossaryBot) -> None:
    for command in _COMMANDS:
        _group(bot).remove_command(command.name)
