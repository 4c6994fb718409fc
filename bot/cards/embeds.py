"""Embeds for cards, search results, reload reports and stats, always within Discord's limits.

Content is written by people, not sized for Discord, so every part is cut at a word
boundary to its own limit and the whole embed is then fitted under the 6,000-character
total; Discord would otherwise reject the message and the student would see nothing.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Sequence

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.models import (
    Card,
    GlossaryStats,
    GuildSettings,
    Problem,
    Quiz,
    QuizOutcome,
    ReloadDiff,
    Score,
    SearchPage,
    SuggestedFix,
    Suggestion,
    Term,
)
from bot.quiz import blank_out
from bot.search import mark_hits
from bot.sections import SECTIONS, Section
from bot.text import section_text, shorten

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
MAX_FIELDS = 25

ERROR_COLOUR = 0xED4245
SUCCESS_COLOUR = 0x57F287
WARNING_COLOUR = 0xFEE75C


# Links stay as typed (a backslash inside one would break it); everything else that means
# something to Discord's markdown is escaped one character at a time. Brackets and
# parentheses end a link here, so none can hide the start of a masked link.
_LINK = re.compile(r"(?:https?|steam)://[^\s<>\[\]()]*[^\s<>\[\]().,:;\"']")
_MARKDOWN_CHAR = re.compile(r"([\\*_~|`>#\-\[\]()<:])")


def _escape(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for link in _LINK.finditer(text):
        pieces += [_MARKDOWN_CHAR.sub(r"\\\1", text[last:link.start()]), link.group()]
        last = link.end()
    pieces.append(_MARKDOWN_CHAR.sub(r"\\\1", text[last:]))
    return escape_mentions("".join(pieces))


def echo(user_text: str, limit: int = 100) -> str:
    """Show text a user typed without letting it format, mention or overflow anything.

    ``discord.utils.escape_markdown`` is not enough: it escapes only the first ``[`` of a
    masked link, so ``[a][click](https://evil.example)`` would still render as a link.
    The limit applies to the escaped text, which is what Discord counts.
    """
    flat = " ".join(user_text.split())
    budget = limit
    while True:
        shown = _escape(shorten(flat, budget))
        if len(shown) <= limit or budget <= 1:
            return shown
        budget -= len(shown) - limit


def fit_together(*embeds: discord.Embed) -> list[discord.Embed]:
    """Embeds for one message, within the 6,000 characters Discord allows *across all of
    them*: the first ones are kept whole and the last is shortened (a copy, so a cached
    card is never cut for good). A quiz verdict sent with the full card needs this."""
    *kept, last = embeds
    room = EMBED_TOTAL_LIMIT - sum(len(embed) for embed in kept)
    return [*kept, _fit(last.copy(), room) if len(last) > room else last]


def _fit(embed: discord.Embed, limit: int = EMBED_TOTAL_LIMIT) -> discord.Embed:
    """Shrink the longest parts until the embed is within ``limit`` characters."""
    while len(embed) > limit:
        excess = len(embed) - limit
        parts = [("description", -1, len(embed.description or ""))]
        parts += [("field", i, len(f.value or "")) for i, f in enumerate(embed.fields)]
        kind, index, length = max(parts, key=lambda part: part[2])
        target = max(length - excess, 1)
        if kind == "description":
            embed.description = shorten(embed.description or "", target)
        else:
            field = embed.fields[index]
            embed.set_field_at(
                index, name=field.name, value=shorten(field.value or "", target),
                inline=field.inline,
            )
    return embed


def _add_field(embed: discord.Embed, name: str, value: str, inline: bool = False) -> None:
    if value and len(embed.fields) < MAX_FIELDS:
        embed.add_field(
            name=shorten(name, FIELD_NAME_LIMIT), value=shorten(value, FIELD_VALUE_LIMIT),
            inline=inline,
        )


def card_embed(
    card: Card, course_name: str, colour: int, *, note: str | None = None,
    sections: Sequence[Section] = SECTIONS,
) -> discord.Embed:
    """The glossary card: every section of the course's glossary page, in page order, each
    where its declaration (``bot.sections``) places it; related terms are its buttons."""
    term = card.term
    placed = {s.card: s for s in sections if s.card in ("title", "description")}
    embed = discord.Embed(
        title=shorten(section_text(term, placed["title"]), TITLE_LIMIT),
        description=shorten(section_text(term, placed["description"]), DESCRIPTION_LIMIT),
        colour=colour,
    )
    for s in sections:
        if s.card == "field":
            _add_field(embed, f"{s.emoji} {s.title(course_name)}", section_text(term, s))
    if note:
        _add_field(embed, "📝 Note", note)
    footer = ["📖 Glossary"]
    # The footer's texts stand alone, then its lists follow, named: "also called a, b".
    for s in sorted((s for s in sections if s.card == "footer"), key=lambda s: s.is_list):
        if value := getattr(term, s.key):
            footer.append(f"{s.heading.lower()} {', '.join(value)}" if s.is_list else value)
    embed.set_footer(text=shorten(" · ".join(footer), FOOTER_LIMIT))
    return _fit(embed)


def not_found_embed(query: str, suggestions: Sequence[Suggestion]) -> discord.Embed:
    lines = [f"There is no glossary entry for **{echo(query)}** yet."]
    if suggestions:
        lines.append("Did you mean one of these?")
    else:
        lines.append("Try `/search` with a word from the explanation you remember.")
    lines.append("The moderators can see which missing terms are asked for most.")
    return discord.Embed(title="Term not found", description="\n".join(lines),
                         colour=WARNING_COLOUR)


def error_embed(title: str, message: str) -> discord.Embed:
    return discord.Embed(
        title=shorten(title, TITLE_LIMIT), description=shorten(message, DESCRIPTION_LIMIT),
        colour=ERROR_COLOUR,
    )


def search_embed(query: str, page: SearchPage, colour: int) -> discord.Embed:
    shown_query = echo(query)
    if not page.hits:
        return discord.Embed(
            title="No results",
            description=f"Nothing in the glossary mentions **{shown_query}**. "
            "Try fewer or different words.",
            colour=WARNING_COLOUR,
        )
    embed = discord.Embed(title=f"Search: {echo(query, TITLE_LIMIT - 8)}", colour=colour)
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        _add_field(embed, f"{number}. {hit.title}",
                   mark_hits(_escape(hit.snippet), "**", "**") or "…")
    last = page.offset + len(page.hits)
    embed.set_footer(text=f"Results {page.offset + 1}–{last} of {page.total}")
    return _fit(embed)


def _problem_lines(problems: Sequence[Problem], limit: int) -> str:
    lines = [str(problem) for problem in problems]
    text = "\n".join(lines)
    if len(text) + 8 <= limit:
        return f"```\n{text}\n```"
    kept: list[str] = []
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) + 60 > limit:
            break
        kept.append(shorten(line, 300))
    more = len(lines) - len(kept)
    return "```\n" + "\n".join(kept) + f"\n```…and {more} more (run `glossary-bot check`)."


def reload_embed(diff: ReloadDiff) -> discord.Embed:
    if diff.is_empty:
        summary = f"Nothing changed: all {diff.term_count} terms were already up to date."
    else:
        summary = f"The glossary now has {diff.term_count} terms."
    embed = discord.Embed(title="Glossary reloaded", description=summary, colour=SUCCESS_COLOUR)
    for label, slugs in (("Added", diff.added), ("Changed", diff.changed),
                         ("Removed", diff.removed)):
        if slugs:
            _add_field(embed, f"{label} ({len(slugs)})", ", ".join(slugs))
    if diff.warnings:
        _add_field(embed, f"Warnings ({len(diff.warnings)})",
                   _problem_lines(diff.warnings, FIELD_VALUE_LIMIT))
    return _fit(embed)


def reload_failed_embed(problems: Sequence[Problem]) -> discord.Embed:
    errors = [p for p in problems if not p.is_warning]
    text = (
        f"Found {len(errors)} problem(s); nothing was changed and the previous glossary is "
        "still being served. Fix these and reload again:\n"
    )
    body = _problem_lines(errors, DESCRIPTION_LIMIT - len(text))
    return error_embed("Reload refused", text + body)


def stats_embed(stats: GlossaryStats, colour: int) -> discord.Embed:
    if stats.last_reload_at:
        moment = datetime.datetime.fromtimestamp(stats.last_reload_at, datetime.UTC)
        reloaded = discord.utils.format_dt(moment, "R")
    else:
        reloaded = "never"
    embed = discord.Embed(
        title="Glossary stats",
        description=f"**{stats.term_count}** terms · last reload {reloaded}",
        colour=colour,
    )
    top = "\n".join(f"{c.count} × {escape_markdown(c.name)}" for c in stats.top_terms)
    misses = "\n".join(f"{c.count} × {echo(c.name)}" for c in stats.top_misses)
    _add_field(embed, "Most looked up", top or "No lookups yet.", inline=True)
    _add_field(embed, "Asked for but missing", misses or "No misses yet.", inline=True)
    embed.set_footer(text=f"As of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return _fit(embed)


def suggestion_embed(
    title: str, file: str, section: str, problem: str, proposal: str, author: object,
    notes: Sequence[tuple[str, str]] = (),
) -> discord.Embed:
    """What moderators see: enough to find the file and decide, nothing that pings.
    ``file`` is the term file's real path (content directory and suffix as configured);
    ``notes`` are (name, text) fields the bot adds (who can apply a shared glossary's)."""
    embed = discord.Embed(
        title=shorten(f"Suggested fix: {title}", TITLE_LIMIT),
        description=f"File: `{shorten(file, 1000)}`", colour=WARNING_COLOUR,
    )
    _add_field(embed, "Part", echo(section, 100) if section.strip() else "not said", inline=True)
    _add_field(embed, "From", f"{getattr(author, 'mention', '')} "
               f"({echo(getattr(author, 'display_name', ''), 80)})", inline=True)
    _add_field(embed, "What is wrong", echo(problem, FIELD_VALUE_LIMIT - 10))
    if proposal.strip():
        _add_field(embed, "Proposed text", echo(proposal, FIELD_VALUE_LIMIT - 10))
    for name, text in notes:
        _add_field(embed, name, text[:FIELD_VALUE_LIMIT])
    return _fit(embed)


def saved_suggestions_embed(saved: Sequence[SuggestedFix], colour: int) -> discord.Embed:
    """``/glossary suggestions``: the newest, those that never reached the channel first."""
    if not saved:
        return discord.Embed(title="Suggested fixes", colour=colour,
                             description="No student has suggested a fix in this server yet.")
    waiting = sum(not fix.delivered for fix in saved)
    embed = discord.Embed(
        title="Suggested fixes", colour=colour,
        description=(f"**{waiting}** could not be posted in the moderators' channel and "
                     "are only here." if waiting else "All of these were also posted in the "
                     "moderators' channel."),
    )
    for fix in saved:
        when = f"<t:{int(fix.created_at)}:R>"
        status = "" if fix.delivered else " · not posted"
        if fix.status in ("applied", "dismissed"):
            status += f" · {fix.status}" + (f" by <@{fix.decided_by}>" if fix.decided_by
                                             else "")
        value = (f"From <@{fix.author_id}> ({echo(fix.author_name, 60)}) {when}{status}\n"
                 f"**{echo(fix.section, 60) or 'Part not said'}:** {echo(fix.problem, 400)}")
        if fix.proposal.strip():
            value += f"\n**Proposed:** {echo(fix.proposal, 400)}"
        _add_field(embed, shorten(fix.title, 200), value)
    return _fit(embed)


def quiz_embed(quiz: Quiz, terms: dict[str, Term], colour: int) -> discord.Embed:
    """The public question. The term's own names are blanked out of every definition."""
    answer = terms[quiz.answer]
    if quiz.mode == "name":
        embed = discord.Embed(
            title="Quiz: which term is this?",
            description=shorten(blank_out(answer.definition, answer), 1500), colour=colour,
        )
    else:
        embed = discord.Embed(
            title=shorten(f"Quiz: what does “{answer.title}” mean?", TITLE_LIMIT), colour=colour,
        )
        for letter, slug in zip("ABCD", quiz.choices, strict=False):
            term = terms[slug]
            _add_field(embed, letter, shorten(blank_out(term.definition, term), 300))
    embed.set_footer(text="Anyone can answer once; only you see whether you were right.")
    return _fit(embed)


def quiz_result_embed(outcome: QuizOutcome, answer_title: str) -> discord.Embed:
    answer = escape_markdown(shorten(answer_title, 200))
    if outcome.already_answered:
        verdict = "right" if outcome.correct else "not quite right"
        return discord.Embed(
            title="You already answered this one",
            description=f"Your first answer counts, and it was {verdict}. "
            f"The answer is **{answer}**.",
            colour=WARNING_COLOUR,
        )
    if outcome.correct:
        return discord.Embed(title="✅ Correct!", colour=SUCCESS_COLOUR,
                             description=f"It is **{answer}**. Here is its card to remember it by.")
    return discord.Embed(
        title="❌ Not quite", description=f"The answer is **{answer}**. "
        "Read the card below and try the next quiz!", colour=ERROR_COLOUR,
    )


def leaderboard_embed(scores: Sequence[Score], colour: int) -> discord.Embed:
    if not scores:
        return discord.Embed(title="Quiz leaderboard",
                             description="No answers yet. Start one with `/quiz ask`!",
                             colour=colour)
    medals = ["🥇", "🥈", "🥉"]
    lines = [
        f"{medals[i] if i < 3 else f'{i + 1}.'} <@{s.user_id}> — {s.correct} right of {s.answered}"
        for i, s in enumerate(scores)
    ]
    return discord.Embed(title="Quiz leaderboard", description="\n".join(lines), colour=colour)


def mentions_embed(found: Sequence[tuple[str, str]], colour: int) -> discord.Embed:
    if not found:
        return discord.Embed(
            title="No glossary terms found",
            description="None of the glossary's terms appear in that message. "
            "Try `/search` with a word you are unsure about.",
            colour=WARNING_COLOUR,
        )
    shown = found[:25]
    lines = [f"• **{escape_markdown(shorten(title, 120))}**" for _, title in shown]
    if len(found) > len(shown):
        lines.append(f"…and {len(found) - len(shown)} more.")
    return _fit(discord.Embed(
        title="Terms in this message", description="\n".join(lines) +
        "\n\nOpen one to read its card (only you will see it).", colour=colour,
    ))


def settings_embed(settings: GuildSettings, colour: int, timezone: str) -> discord.Embed:
    def channel(channel_id: int | None) -> str:
        return f"<#{channel_id}>" if channel_id else "not set"

    embed = discord.Embed(title="Glossary settings for this server", colour=colour)
    _add_field(embed, "/define answers", "privately" if settings.define_private
               else "publicly (add private:True to hide)", inline=True)
    _add_field(embed, "Moderator role", f"<@&{settings.moderator_role_id}>"
               if settings.moderator_role_id else "Manage Server only", inline=True)
    _add_field(embed, "Moderators' channel", channel(settings.mod_channel_id) +
               " (suggested fixes, auto-reload reports)", inline=False)
    _add_field(embed, "Term of the day", (
        f"{channel(settings.daily_channel_id)} at {settings.daily_hour:02d}:00 ({timezone})"
        if settings.daily_channel_id else "off"), inline=False)
    return embed
