"""Lost connections and Discord errors, injected by the fake Discord, while the bot works.

Faults: gateway RECONNECT (op 7), INVALID SESSION (op 9, not resumable), the TCP socket
under the gateway dropped without a close frame, a 429 with ``retry_after`` on the
interaction callback, a 500 on the callback, and a 500 and a 429 on ``/glossary
reload``'s follow-up. After each, the same bot object (no restart) answers new commands,
and an interaction sent while the socket was down is delivered on RESUME and answered.

For every interaction the fake saw, the bot acknowledged it exactly once (successful
callbacks counted per interaction id in ``fake.requests``), no request was refused (4xx
other than the injected ones), no ERROR was logged by ``bot``, ``cogs`` or ``discord``,
and the fake's 3-second acknowledgement deadline stays on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.content import dump_term
from tests.conftest import make_term
from tests.hardening._support import acknowledgements, captured_logs, reply_problems
from tests.support.fake_discord import FakeDiscord

CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


def assert_answered_once_each(h: Any) -> None:
    acks = acknowledgements(h.fake)
    unanswered = [r.description for i, r in h.fake.interactions.items() if acks[i] == 0]
    twice = [h.fake.interactions[i].description for i, n in acks.items() if n > 1]
    assert not unanswered, f"never answered: {unanswered}"
    assert not twice, f"answered twice: {twice}"


async def define_works(h: Any, term: str = "git", title: str = "Git") -> None:
    reply = await h.slash("define", term=term)
    assert reply.embeds[0]["title"] == title, reply.embeds


async def gateway_fault(h: Any, kind: str) -> None:
    """Inject one gateway fault and check the bot came back the expected way."""
    fake = h.fake
    identifies, resumes = fake.identify_count, fake.resume_count
    if kind == "reconnect":
        await fake.reconnect_request()
    elif kind == "invalidate":
        await fake.invalidate_session(resumable=False)
    else:
        await fake.drop_socket()
    # Sent while the socket is down: delivered on RESUME (or after re-IDENTIFY: the fake
    # waits for the new session), and answered once.
    reply = await h.slash("define", term="backend", timeout=10)
    assert reply.embeds[0]["title"] == "backend"
    if kind == "invalidate":
        assert fake.identify_count == identifies + 1
    else:
        assert fake.resume_count == resumes + 1 and fake.identify_count == identifies


async def http_fault(h: Any, kind: str, content_dir: Any, version: int) -> None:
    """Inject one REST fault on the path it names and check the answer arrived once."""
    fake = h.fake
    if kind in ("callback-429", "callback-500"):
        status = int(kind[-3:])
        before = len(fake.find_requests("POST", CALLBACK))
        body = {"retry_after": 0.3, "global": False, "message": "You are being rate limited."}
        fake.fail_next("POST", CALLBACK, status=status, body=body if status == 429 else None)
        await define_works(h)
        statuses = [r.status for r in fake.find_requests("POST", CALLBACK)[before:]]
        assert statuses == [status, 200], statuses
        return
    status = int(kind[-3:])
    (content_dir / "docker.yaml").write_text(
        dump_term(make_term("docker", definition=f"Docker, version {version}.")))
    before = len(fake.find_requests("POST", FOLLOWUP))
    fake.fail_next("POST", FOLLOWUP, status=status)
    reply = await h.slash("glossary", "reload", member=h.moderator)
    await reply.wait_followup(timeout=10)
    assert reply.embeds[0]["title"] == "Glossary reloaded", reply.embeds
    statuses = [r.status for r in fake.find_requests("POST", FOLLOWUP)[before:]]
    assert statuses == [status, 200], statuses
    assert len(reply.followups) == 1
    card = await h.slash("define", term="docker")
    assert card.embeds[0]["description"] == f"Docker, version {version}."


GATEWAY = ["reconnect", "invalidate", "drop"]
HTTP = ["callback-429", "callback-500", "followup-500", "followup-429"]


async def run_faults(start_bot: Any, content_dir: Any, faults: list[str]) -> dict[str, int]:
    fake = FakeDiscord()
    with captured_logs() as logs:
        async with fake, start_bot(fake, cooldown_uses=0) as h:
            bot = h.bot
            for number, fault in enumerate(faults):
                if fault in GATEWAY:
                    await gateway_fault(h, fault)
                else:
                    await http_fault(h, fault, content_dir, number)
                await define_works(h)
                assert h.bot is bot and not bot.is_closed()
            await asyncio.sleep(0.2)  # anything still in flight would show up now
            assert_answered_once_each(h)
            injected = [r for r in fake.requests if r.status in (429, 500)]
            problems = [p for p in reply_problems(fake.requests)
                        if " answered 4" not in p]  # injected 429s are not problems
            assert not problems, problems
            assert len(injected) == len([f for f in faults if f in HTTP])
            figures = {"faults": len(faults), "interactions": len(fake.interactions),
                       "identifies": fake.identify_count, "resumes": fake.resume_count,
                       "errors_injected": len(injected), "requests": len(fake.requests)}
    assert not logs.errors(), logs.errors()
    return figures


@pytest.mark.parametrize("fault", GATEWAY + HTTP)
async def test_bot_recovers_from(start_bot, content_dir, fault):
    await run_faults(start_bot, content_dir, [fault])


async def test_every_fault_in_turn_on_one_bot(start_bot, content_dir):
    faults = GATEWAY + HTTP + GATEWAY[::-1]
    figures = await run_faults(start_bot, content_dir, faults)
    print(f"\nconnection faults: {figures}")


async def test_reconnect_while_a_reload_is_being_answered(start_bot, content_dir):
    """The gateway goes away between the deferral and the follow-up of a reload."""
    fake = FakeDiscord()
    with captured_logs() as logs:
        async with fake, start_bot(fake) as h:
            (content_dir / "docker.yaml").write_text(dump_term(make_term("docker")))
            fake.fail_next("POST", FOLLOWUP, status=500)  # holds the follow-up back ~1 s
            reply = await h.slash("glossary", "reload", member=h.moderator)
            assert reply.type == 5  # deferred
            await fake.drop_socket()
            await reply.wait_followup(timeout=10)
            assert reply.embeds[0]["title"] == "Glossary reloaded"
            await define_works(h, "docker", "Docker")
            assert_answered_once_each(h)
    assert not logs.errors(), logs.errors()


@pytest.mark.slow
async def test_faults_over_and_over(start_bot, content_dir):
    faults = (GATEWAY + HTTP) * 8
    figures = await run_faults(start_bot, content_dir, faults)
    print(f"\nconnection faults: {figures}")
