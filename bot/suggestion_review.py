"""Deciding a student's suggested fix: which section it names, and what the post says after.

A student names the part of the card in their own words ("Definition", "the common
mistakes", "why it matters:"); Apply needs one section it can write the proposed text
into, so the words are matched the way the importer matches headings. Anything it cannot
match is left to an editor's "Edit first", who picks the section. No Discord here.
"""

from __future__ import annotations

import re

from bot.sections import SECTIONS, Section


def resolve_section(said: str) -> Section | None:
    """The one section a student's "Which part?" names, or None (unsaid, or unclear)."""
    text = re.sub(r"\s+", " ", said.casefold()).strip(" \t:.!?'\"`*")
    text = re.sub(r"^(?:the|a|an) ", "", text)
    if not text:
        return None
    for part in SECTIONS:
        names = {part.key.replace("_", " "), part.heading.casefold(),
                 part.heading.replace("{course}", "the course").casefold()}
        if text in names or (part.importer and re.fullmatch(part.importer, text)):
            return part
    if text in ("course example", "example"):
        return next(s for s in SECTIONS if s.key == "course_example")
    return None


def outcome_line(status: str, by_name: str, by_id: int | None) -> str:
    """What a decided post says, naming the editor (a mention never pings in an edit
    with no allowed mentions, and shows the name to everyone who can see the channel)."""
    who = f"<@{by_id}>" if by_id else (by_name or "an editor")
    if status == "applied":
        return f"✅ Applied by {who}."
    if status == "dismissed":
        return f"Dismissed by {who}."
    if status == "applying":
        return f"{who} is applying it right now."
    return "Open."
