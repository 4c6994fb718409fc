"""/glossary export through the fake Discord: the file attached, and who may have it."""

from __future__ import annotations

import pytest

from bot.content import read_term_file
from bot.export import export
from tests.conftest import BUNDLED_TERMS


@pytest.mark.parametrize("fmt", ["csv", "json", "md", "apkg", "yaml"])
async def test_export_attaches_the_file_the_terminal_writes(h, fmt):
    reply = await h.slash("glossary", "export", member=h.moderator, options={"format": fmt})
    await reply.wait_followup()
    assert reply.ephemeral
    [attachment] = reply.message["attachments"]
    suffix = {"yaml": "zip", "apkg": "apkg"}.get(fmt, fmt)
    assert attachment["filename"] == f"glossary.{suffix}"
    terms = [read_term_file(p).term for p in BUNDLED_TERMS.glob("*.yaml")]
    if fmt not in ("apkg", "yaml"):  # those hold timestamps or compression: sizes vary
        assert attachment["size"] == len(export(terms, fmt, "VCA"))
    assert f"{len(terms)} terms" in reply.content


async def test_export_defaults_to_a_spreadsheet(h):
    reply = await h.slash("glossary", "export", member=h.moderator)
    await reply.wait_followup()
    assert reply.message["attachments"][0]["filename"] == "glossary.csv"


async def test_students_may_not_export(h):
    reply = await h.slash("glossary", "export", member=h.student)
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "Moderators only"
    assert not reply.message.get("attachments")
