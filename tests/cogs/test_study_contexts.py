"""Where each command works: student commands anywhere, the class's commands in servers."""

from __future__ import annotations

import pytest

from tests.cogs.study_support import PLACES, click_in, slash_in
from tests.support.harness import BotHarness

ANYWHERE = {"define", "search", "Explain terms", "mylist", "review", "study", "mydata"}
SERVER_ONLY = {"glossary", "share", "quiz"}


def definitions(h: BotHarness) -> dict[str, dict]:
    return {c.name: c.to_dict(h.bot.tree) for c in h.bot.tree.get_commands()}


async def test_student_commands_are_offered_everywhere_and_class_commands_in_servers(
    h: BotHarness,
) -> None:
    defs = definitions(h)
    assert ANYWHERE | SERVER_ONLY <= set(defs)
    for name in ANYWHERE:
        assert sorted(defs[name]["contexts"]) == [0, 1, 2], name
        assert sorted(defs[name]["integration_types"]) == [0, 1], name
    for name in set(defs) - ANYWHERE:
        assert defs[name]["contexts"] == [0], name
        assert defs[name]["integration_types"] == [0], name


@pytest.mark.parametrize("where", PLACES)
async def test_define_answers_in_every_place(h: BotHarness, where: str) -> None:
    reply = await slash_in(h, where, "define", term="backend")
    assert reply.embeds[0]["title"] == "backend"
    # Private where the student alone brought the app into someone else's server.
    assert reply.ephemeral == (where == "elsewhere")
    related = next(b for b in reply.buttons if b["custom_id"].startswith("gl:t:"))
    opened = await click_in(h, where, related["custom_id"], reply.message)
    assert opened.embeds and opened.ephemeral


@pytest.mark.parametrize("where", PLACES)
async def test_search_answers_in_every_place(h: BotHarness, where: str) -> None:
    reply = await slash_in(h, where, "search", query="database")
    assert reply.embeds and reply.ephemeral


@pytest.mark.parametrize("where", PLACES)
async def test_explain_terms_answers_in_every_place(h: BotHarness, where: str) -> None:
    from tests.cogs.study_support import _payload

    synced = next(c for c in h.fake.synced_commands(None) if c["name"] == "Explain terms")
    message = {
        "id": str(h.fake.snowflake()), "type": 0, "channel_id": "0",
        "author": h.student.user_payload(), "content": "my prisma migration broke git",
        "timestamp": "2026-11-23T10:00:00+00:00", "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "components": [], "pinned": False, "flags": 0,
    }
    data = {"id": synced["id"], "name": "Explain terms", "type": 3,
            "target_id": message["id"], "resolved": {"messages": {message["id"]: message}}}
    payload = _payload(h, where, 2, data, h.student, None)
    message["channel_id"] = payload["channel_id"]
    reply = await (await h.fake.inject(payload, f"Explain terms in {where}")).wait_callback()
    assert reply.ephemeral
    assert [b["label"] for b in reply.buttons] == ["Prisma", "Migrations", "Git"]


async def test_class_commands_stay_out_of_dms(h: BotHarness) -> None:
    """Discord would not offer them there; if a stale client sends one anyway, the
    student gets a clear answer rather than a failure."""
    reply = await slash_in(h, "dm", "quiz", "leaderboard")
    assert reply.ephemeral and reply.embeds[0]["title"] == "Servers only"
