"""/define, its autocomplete and the related-term buttons, through the real discord.py stack."""

from __future__ import annotations

import pytest

from bot.content import dump_term
from tests.cogs.conftest import reload_ok
from tests.conftest import make_term

CALLBACK_MESSAGE, CALLBACK_UPDATE = 4, 7
SEED_HEADINGS = ("Why it matters", "Example in VCA", "Another Real World Example",
                 "Common mistakes")


def field_map(embed: dict) -> dict[str, str]:
    return {f["name"].split(" ", 1)[1]: f["value"] for f in embed.get("fields", [])}


async def test_define_shows_every_section_and_related_buttons(h):
    reply = await h.slash("define", term="backend")
    assert reply.type == CALLBACK_MESSAGE and not reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == "backend"
    assert embed["description"].startswith("The backend refers to the server-side part")
    fields = field_map(embed)
    assert list(fields) == list(SEED_HEADINGS)
    assert fields["Common mistakes"].count("\n- ") == 4
    assert "server side" in embed["footer"]["text"]
    labels = [b["label"] for b in reply.buttons]
    assert labels == ["API routes", "NodeJS", "MySQL", "Server", "Migrations", "Prisma", "Git",
                      "Production", "Save"]
    assert not any(b.get("disabled") for b in reply.buttons)
    assert reply.allowed_mentions == {"parse": []}


async def test_private_define_is_ephemeral(h):
    reply = await h.slash("define", term="git", private=True)
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "Git"


async def test_autocomplete_suggests_prefixes_and_typos(h):
    choices = await h.autocomplete("define", focused="term", term="mi")
    assert [c["value"] for c in choices][:2] == ["middleware", "migrations"]  # name order
    typo = await h.autocomplete("define", focused="term", term="bakend")
    assert typo[0] == {"name": "backend", "value": "backend"}
    nothing = await h.autocomplete("define", focused="term", term="zzzzqqq")
    assert nothing == []
    everything = await h.autocomplete("define", focused="term", term="")
    assert 0 < len(everything) <= 25


async def test_remembered_choices_follow_a_reload(h, content_dir):
    before = await h.autocomplete("define", focused="term", term="ba")
    assert before == await h.autocomplete("define", focused="term", term="ba")  # remembered
    (content_dir / "bash.yaml").write_text(dump_term(make_term("bash", title="Bash")))
    await reload_ok(h)
    after = await h.autocomplete("define", focused="term", term="ba")
    assert "bash" not in [c["value"] for c in before]
    assert "bash" in [c["value"] for c in after]


async def test_related_click_on_a_public_card_answers_only_the_clicker(h):
    card = await h.slash("define", term="backend")
    server_button = next(b for b in card.buttons if b["label"] == "Server")
    clicked = await h.click(server_button["custom_id"], message=card.message, member=h.student)
    assert clicked.type == CALLBACK_MESSAGE and clicked.ephemeral
    assert clicked.embeds[0]["title"] == "Server"
    assert card.message["embeds"][0]["title"] == "backend"  # the class still sees backend


async def test_click_inside_a_private_card_replaces_it_and_offers_back(h):
    card = await h.slash("define", term="backend", private=True)
    git = next(b for b in card.buttons if b["label"] == "Git")
    moved = await h.click(git["custom_id"], message=card.message)
    assert moved.type == CALLBACK_UPDATE
    assert moved.embeds[0]["title"] == "Git"
    back = next(b for b in moved.buttons if b["label"] == "Back")
    returned = await h.click(back["custom_id"], message=moved.message)
    assert returned.type == CALLBACK_UPDATE
    assert returned.embeds[0]["title"] == "backend"


async def test_button_on_a_message_from_before_a_restart_still_works(start_bot):
    async with start_bot() as first:
        card = await first.slash("define", term="backend")
        custom_id = next(b["custom_id"] for b in card.buttons if b["label"] == "Prisma")
    async with start_bot() as second:  # a new process would know nothing about the message
        clicked = await second.click(custom_id, message=None)
        assert clicked.ephemeral
        assert clicked.embeds[0]["title"] == "Prisma"


async def test_button_for_a_removed_term_answers_politely(h, content_dir):
    card = await h.slash("define", term="backend")
    prisma = next(b["custom_id"] for b in card.buttons if b["label"] == "Prisma")
    for path in content_dir.glob("*.yaml"):
        text = path.read_text()
        path.write_text(text.replace("- prisma\n", ""))
    (content_dir / "prisma.yaml").unlink()
    await reload_ok(h)
    clicked = await h.click(prisma, message=card.message)
    assert clicked.ephemeral
    assert clicked.embeds[0]["title"] == "No longer in the glossary"


async def test_unknown_term_suggests_without_pinging_anyone(h):
    reply = await h.slash("define", term="@everyone bakend <@123> **bold**")
    assert reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == "Term not found"
    assert "@\u200beveryone" in embed["description"] and "\\*\\*bold\\*\\*" in embed["description"]
    assert reply.allowed_mentions == {"parse": []}
    assert len(reply.buttons) <= 5
    miss = await h.slash("define", term="bakend")
    assert miss.buttons[0]["label"] == "backend"
    opened = await h.click(miss.buttons[0]["custom_id"], message=miss.message)
    assert opened.type == CALLBACK_UPDATE and opened.embeds[0]["title"] == "backend"
    stats = await h.slash("glossary", "stats", member=h.moderator)
    await stats.wait_followup()
    assert "bakend" in stats.embeds[0]["fields"][1]["value"]


async def test_dangling_related_term_is_shown_disabled(h, content_dir):
    (content_dir / "docker.yaml").write_text(dump_term(make_term("docker", related=(
        "kubernetes", "server"))))
    await reload_ok(h)
    reply = await h.slash("define", term="docker")
    by_label = {b["label"]: b for b in reply.buttons}
    assert by_label["kubernetes (coming soon)"]["disabled"] is True
    assert not by_label["Server"].get("disabled")


async def test_huge_content_stays_within_discord_limits(h, content_dir):
    long_words = " ".join(["verylongword"] * 1500)
    (content_dir / "huge.yaml").write_text(dump_term(make_term(
        "huge", title="T" * 300, definition=long_words, why_it_matters=long_words,
        course_example=long_words, real_world_example=long_words,
        common_mistakes=tuple(long_words[:1500] for _ in range(30)),
        aliases=tuple(f"huge alias {i}" for i in range(60)),
        related=tuple(f"missing-{i}" for i in range(20)),
    )))
    await reload_ok(h)
    reply = await h.slash("define", term="huge")
    (embed,) = reply.embeds
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"]) + sum(
        len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed["description"].endswith("verylongword…")
    related = [b for b in reply.buttons if b["custom_id"].startswith("gl:t:")]
    assert len(related) == 20 and all(len(b["label"]) <= 80 for b in reply.buttons)
    assert len(reply.buttons) == 21  # and Save


async def test_cooldown_stops_a_flood_but_serves_others(start_bot):
    async with start_bot(cooldown_uses=3, cooldown_seconds=60.0) as h:
        answers = [await h.slash("define", term="git") for _ in range(4)]
        assert [a.embeds[0]["title"] for a in answers[:3]] == ["Git"] * 3
        assert answers[3].ephemeral
        assert answers[3].embeds[0]["title"] == "Slow down a little"
        other = await h.slash("define", term="git", member=h.member(username="classmate"))
        assert other.embeds[0]["title"] == "Git"


@pytest.mark.parametrize("term", ["", " ", "\x00", "💥" * 100, "<@&1234>", "a" * 100])
async def test_odd_terms_never_break_define(h, term):
    reply = await h.slash("define", term=term)
    assert reply.type == CALLBACK_MESSAGE
    assert reply.allowed_mentions == {"parse": []}
