"""/glossary import: a spreadsheet, Quizlet export or JSON attached in Discord, for editors.

The same import as ``glossary-bot import`` (``bot.bulk_import``): the file is read and
every row checked before anything is written, and the editor sees, privately, what would
be added, changed and left unchanged, and every problem as ``file:row: column: problem``.
Confirm saves through ``cogs.authoring.save_changes``, the path every edit takes: for a
file-backed glossary every file is written in one step, then the validated reload
/glossary reload runs (one transaction in the store), and a reload that refuses the
result puts the files back; a database-only glossary gets every row in ONE
``Reloader.apply`` (one transaction, every stored term's fingerprint checked). The
history names the editor, with ``import`` as the source; with ``commit_edits`` the whole
import is one git commit of the files it wrote, by the editor.

The plan compares every row with the directory's files; a file the bot's last load read
with the same size and modification time is taken from the database
(``store.stored_terms``), so a 10,000-row preview parses only the files saved since.

An attachment is checked before it is downloaded (at most 5 MB) and read whole: a wrong
encoding, a binary file, too many rows or missing columns are the plan's problems, in the
CLI's words. Confirm plans again from the same bytes: if a reload or an edit changed the
glossary since the preview, the editor sees the new preview instead of a stale one
being applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import discord
from discord import app_commands

from bot.bulk_import import ImportPlan, apply_import, plan_upload, target_name, undo_import
from bot.cards import error_embed
from bot.client import GlossaryBot
from bot.import_sources import attachment_too_big
from bot.storage.snapshot import StoredFile
from bot.text import shorten
from cogs.authoring import (
    AGAIN,
    Change,
    EditorsView,
    Write,
    edit_directory,
    editors_only,
    save_changes,
)
from cogs.moderation import glossary_group

log = logging.getLogger(__name__)

LISTED = 12  # changes of each kind shown in the preview
LISTED_PROBLEMS = 15
EMBED_TEXT = 4000  # an embed's description holds 4,096 characters
PREVIEW_COLOUR = 0x5865F2


@dataclass(frozen=True)
class Upload:
    """The attached file as the editor sent it: planned again on Confirm."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Planned:
    """An import planned against the glossary the server uses now: its term files, or
    the database (``fingerprints``: each stored file's, which the save checks again)."""

    plan: ImportPlan
    fingerprints: dict[str, str]
    glossary: str  # its name: the save goes there, whatever the server uses by then


async def plan_for(bot: GlossaryBot, guild_id: int | None, upload: Upload) -> Planned:
    spec = bot.spec_for(guild_id)
    directory = edit_directory(bot, spec)
    if directory is not None:
        plan = await plan_upload(upload.data, upload.name, directory,
                                 loaded=await _stored(bot, guild_id))
        return Planned(plan, {}, spec.name)
    stored = await bot.glossary_for(guild_id).stored_terms()
    plan = await plan_upload(upload.data, upload.name, None,
                             [(file, term) for file, _, term in stored])
    return Planned(plan, {file: fingerprint for file, fingerprint, _ in stored}, spec.name)


def import_changes(planned: Planned) -> list[Change]:
    """Every added or changed term as the change ``save_changes`` saves."""
    plan = planned.plan
    changes = []
    for c in plan.writes:
        file = target_name(plan, c.term.slug)
        changes.append(Change(c.term.slug, file, c.before, c.term,
                              expected=planned.fingerprints.get(file), source="import",
                              what="import", glossary=planned.glossary))
    return changes


def files_write(plan: ImportPlan) -> Write | None:
    """Writing every file of a file-backed import (None: a database-only one)."""
    if plan.directory is None:
        return None

    def write() -> Callable[[], object]:
        applied = apply_import(plan)
        return lambda: undo_import(applied)

    return write


async def _stored(bot: GlossaryBot, guild_id: int | None) -> dict[str, StoredFile]:
    """The files as the bot last loaded them: the plan parses only those saved since."""
    return await bot.store.stored_terms(bot.glossary_for(guild_id).id)


def _outline(plan: ImportPlan) -> tuple[object, ...]:
    """What an import would do, to tell a stale preview from a current one."""
    return (tuple((c.kind, c.term, c.sections) for c in plan.changes),
            tuple(str(p) for p in plan.problems))


def _listed(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit} more"]


def preview_embed(plan: ImportPlan, name: str, note: str = "") -> discord.Embed:
    """The diff as the CLI prints it: problems first (nothing is written while there are
    any), then the added and changed terms, then the counts."""
    parts = [note] if note else []
    parts.append(f"**{plan.summary()}**")
    if plan.problems:
        problems = _listed([str(p) for p in plan.problems], LISTED_PROBLEMS)
        parts.append("Nothing can be imported until these are fixed in the file:\n```\n"
                     + "\n".join(shorten(p, 180) for p in problems) + "\n```")
    for kind in ("added", "changed"):
        lines = [f"{c.term.title} ({c.term.slug})" + (
            f": {', '.join(c.sections)}" if kind == "changed" else "")
            for c in plan.changes if c.kind == kind]
        if lines:
            parts.append(f"**{kind.capitalize()}**\n" + "\n".join(
                f"- {shorten(line, 150)}" for line in _listed(lines, LISTED)))
    if plan.warnings:
        warnings = _listed([str(w) for w in plan.warnings], 5)
        parts.append("Warnings (the import still works):\n```\n" + "\n".join(
            shorten(w, 180) for w in warnings) + "\n```")
    if plan.ok and plan.writes:
        parts.append("Nothing is written until you press **Import**.")
    elif plan.ok:
        parts.append("Every term in the file is already in the glossary as it is: nothing "
                     "to import.")
    else:
        parts.append("Nothing was changed. Fix the rows above and attach the file again.")
    text = "\n\n".join(parts)
    if len(text) > EMBED_TEXT:
        text = text[:EMBED_TEXT - 2] + " …"
    return discord.Embed(title=shorten(f"Import preview: {name}", 256), description=text,
                         colour=PREVIEW_COLOUR)


class ConfirmImport(EditorsView):
    """Import / Cancel under the private preview."""

    def __init__(self, upload: Upload, plan: ImportPlan) -> None:
        super().__init__(timeout=15 * 60)  # an interaction token lives 15 minutes
        self.upload, self.plan = upload, plan

    @discord.ui.button(label="Import", style=discord.ButtonStyle.success,
                       custom_id="import:confirm")
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        self.stop()
        upload = self.upload
        bot: GlossaryBot = interaction.client  # type: ignore[assignment]
        planned = await plan_for(bot, interaction.guild_id, upload)
        plan = planned.plan
        if _outline(plan) != _outline(self.plan) or not plan.ok or not plan.writes:
            # The glossary changed since the preview: show what the import does now.
            view = ConfirmImport(upload, plan) if plan.ok and plan.writes else None
            await interaction.edit_original_response(
                embed=preview_embed(plan, upload.name, "The glossary changed since the "
                                    "preview, so nothing was imported. This is what the "
                                    "import would do now:"), view=view)
            return
        message = (f"Glossary: import {upload.name} ({plan.count('added')} added, "
                   f"{plan.count('changed')} changed)")
        outcome = await save_changes(bot, interaction.guild_id, interaction.user,
                                     import_changes(planned), files_write(plan), message)
        if not outcome.saved:
            reason = outcome.reason.replace(AGAIN, "Nothing was imported: attach the file "
                                            "again to see what it would do now.")
            await interaction.edit_original_response(view=None, embeds=[
                error_embed("Not imported", reason), *outcome.embeds])
            return
        await interaction.edit_original_response(
            content=f"Imported {upload.name}: {plan.summary()}.{outcome.note}",
            embeds=list(outcome.embeds), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary,
                       custom_id="import:cancel")
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was imported.", embed=None,
                                                view=None)


@app_commands.command(name="import", description="Bring terms in from a spreadsheet (CSV), "
                      "a Quizlet export or JSON: a preview first, then Import")
@app_commands.describe(file="A CSV (Google Sheets or Excel: CSV UTF-8), a Quizlet export "
                       "(.txt) or JSON, at most 5 MB")
@editors_only()
async def import_command(interaction: discord.Interaction, file: discord.Attachment) -> None:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    if too_big := attachment_too_big(file.size, file.filename):
        await interaction.response.send_message(ephemeral=True, embed=error_embed(
            "Too big to import", f"`{too_big}`\n\nSplit the spreadsheet into smaller "
            "files and import them one after another."))
        return
    await interaction.response.defer(ephemeral=True, thinking=True)  # 10,000 rows: seconds
    try:
        data = await file.read()
    except discord.HTTPException as exc:
        log.warning("Downloading attachment %s failed: %s", file.filename, exc)
        await interaction.followup.send(ephemeral=True, embed=error_embed(
            "Could not read the file", "Discord did not hand the bot the attached file. "
            "Attach it again in a new /glossary import."))
        return
    upload = Upload(file.filename, data)
    plan = (await plan_for(bot, interaction.guild_id, upload)).plan
    view = ConfirmImport(upload, plan) if plan.ok and plan.writes else None
    extra = {"view": view} if view else {}
    await interaction.followup.send(embed=preview_embed(plan, file.filename), ephemeral=True,
                                    **extra)


def _group(bot: GlossaryBot) -> app_commands.Group:
    return glossary_group(bot, "cogs.importing")


async def setup(bot: GlossaryBot) -> None:
    _group(bot).add_command(import_command)


async def teardown(bot: GlossaryBot) -> None:
    _group(bot).remove_command(import_command.name)
