""""Explain terms" on a message, through a real message-command interaction."""

from __future__ import annotations

from typing import Any

from bot.content import dump_term
from tests.conftest import make_term
from tests.support.harness import BotHarness

MESSAGE_COMMAND = 3


async def explain(h: BotHarness, content: str) -> Any:
    """Right-click a student's message > Apps > Explain terms."""
    synced = next(c for c in h.fake.synced_commands(None) if c["name"] == "Explain terms")
    message = {
        "id": str(h.fake.snowflake()), "type": 0, "channel_id": h.channel["id"],
        "author": h.student.user_payload(), "content": content, "timestamp":
        "2026-11-23T10:00:00+00:00", "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "components": [], "pinned": False, "flags": 0,
    }
    data = {"id": synced["id"], "name": "Explain terms", "type": MESSAGE_COMMAND,
            "target_id": message["id"], "resolved": {"messages": {message["id"]: message}}}
    reply = await h.fake.inject(h.fake.interaction_payload(2, data), "Explain terms")
    return await reply.wait_callback()


async def test_explain_lists_each_term_once_longest_match_first(h):
    reply = await explain(h, "I broke my API-routes after a prisma migration; the backend "
                             "and the Back End both failed, then I ran git push.")
    assert reply.ephemeral
    (embed,) = reply.embeds
    assert [b["label"] for b in reply.buttons] == ["API routes", "Prisma", "Migrations", "backend",
                                                  "git push"]  # not "Git": longest match
    assert "**API routes**" in embed["description"]
    opened = await h.click(reply.buttons[1]["custom_id"], message=reply.message)
    assert opened.ephemeral and opened.embeds[0]["title"] == "Prisma"


async def test_explain_with_nothing_found_offers_search(h):
    reply = await explain(h, "hello everyone, see you @everyone tomorrow")
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "No glossary terms found"
    assert "/search" in reply.embeds[0]["description"]
    assert reply.allowed_mentions == {"parse": []}


async def test_many_long_titles_stay_within_discord_limits(start_bot, content_dir):
    for number in range(30):
        (content_dir / f"long-{number:02d}.yaml").write_text(dump_term(make_term(
            f"long-{number:02d}", title=f"Term {number:02d} " + "x" * 240,
            aliases=(f"lt{number:02d}",))))
    async with start_bot() as h:
        reply = await explain(h, " ".join(f"lt{number:02d}" for number in range(30)))
        (embed,) = reply.embeds
        assert embed["title"] == "Terms in this message"
        assert len(embed["description"]) <= 4096 and len(reply.buttons) == 25
