"""/search: ranked results, buttons to open them, and pages."""

from __future__ import annotations

from bot.content import dump_term
from tests.cogs.conftest import reload_ok
from tests.conftest import make_term


async def test_search_lists_ranked_results_with_open_buttons(h):
    reply = await h.slash("search", query="migration history")
    assert reply.ephemeral
    (embed,) = reply.embeds
    assert embed["fields"][0]["name"] == "1. Migrations"
    assert "**" in embed["fields"][0]["value"]
    opened = await h.click(reply.buttons[0]["custom_id"], message=reply.message)
    assert opened.ephemeral and opened.embeds[0]["title"] == "Migrations"
    assert reply.message["embeds"][0]["fields"][0]["name"] == "1. Migrations"  # results stay


async def test_search_pages_through_many_results(h, content_dir):
    for number in range(12):
        (content_dir / f"pager-{number:02d}.yaml").write_text(dump_term(make_term(
            f"pager-{number:02d}", definition="A zebracorn is mentioned here for paging.")))
    await reload_ok(h)
    first = await h.slash("search", query="zebracorn")
    assert first.embeds[0]["footer"]["text"] == "Results 1–5 of 12"
    labels = [b["label"] for b in first.buttons]
    assert labels[-1] == "Next ▶" and "◀ Previous" not in labels
    nxt = next(b for b in first.buttons if b["label"] == "Next ▶")
    second = await h.click(nxt["custom_id"], message=first.message)
    assert second.type == 7
    assert second.embeds[0]["footer"]["text"] == "Results 6–10 of 12"
    assert {"◀ Previous", "Next ▶"} <= {b["label"] for b in second.buttons}
    last_button = next(b for b in second.buttons if b["label"] == "Next ▶")
    third = await h.click(last_button["custom_id"], message=second.message)
    assert third.embeds[0]["footer"]["text"] == "Results 11–12 of 12"
    assert "Next ▶" not in {b["label"] for b in third.buttons}


async def test_search_with_operators_and_nothing_found(h):
    for query in ('api-routes AND "', "c++", "NEAR(", "*", "@here"):
        reply = await h.slash("search", query=query)
        assert reply.ephemeral and reply.allowed_mentions == {"parse": []}
    nothing = await h.slash("search", query="xylophone @everyone")
    assert nothing.embeds[0]["title"] == "No results"
    assert "@\u200beveryone" in nothing.embeds[0]["description"]
