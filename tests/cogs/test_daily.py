"""Term of the day with a controllable clock, across a simulated restart."""

from __future__ import annotations

import datetime

from tests.support.fake_discord import FakeDiscord
from tests.support.harness import BotHarness

UTC = datetime.UTC


def at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, 30, tzinfo=UTC)


def daily_posts(h: BotHarness) -> list[dict]:
    return [m for m in h.channel_messages() if m["content"].startswith("📅 **Term of the day**")]


async def enable_daily(h: BotHarness, hour: int) -> None:
    reply = await h.slash("glossary", "settings", member=h.moderator, daily_channel=h.channel,
                          daily_hour=hour)
    await reply.wait_followup()


async def test_posts_once_a_day_after_the_hour_even_across_restarts(start_bot):
    async with FakeDiscord() as fake:
        async with start_bot(fake) as h:
            await enable_daily(h, hour=9)
            daily = h.bot.get_cog("TermOfTheDay")
            assert await daily.post_due(at(1, 8)) == []  # too early
            assert await daily.post_due(at(1, 9)) == [int(h.channel["id"])]
            assert await daily.post_due(at(1, 15)) == []  # already posted today
            first_day = daily_posts(h)
            assert len(first_day) == 1 and first_day[0]["content"].endswith("2026-03-01")
            assert first_day[0]["embeds"][0]["title"]
        async with start_bot(fake) as restarted:  # a redeploy later that day
            daily = restarted.bot.get_cog("TermOfTheDay")
            assert await daily.post_due(at(1, 20)) == []
            assert await daily.post_due(at(2, 9)) == [int(restarted.channel["id"])]
            posts = daily_posts(restarted)
            assert len(posts) == 2
            assert posts[0]["embeds"][0]["title"] != posts[1]["embeds"][0]["title"]


async def test_every_term_once_before_any_repeats(h):
    await enable_daily(h, hour=0)
    daily = h.bot.get_cog("TermOfTheDay")
    for day in range(1, 10):
        await daily.post_due(at(day, 0))
    titles = [m["embeds"][0]["title"] for m in daily_posts(h)]
    assert len(titles) == 9 == len(set(titles))


async def test_time_zone_from_config(start_bot):
    async with start_bot(timezone="Asia/Tokyo") as h:  # UTC+9, no daylight saving
        await enable_daily(h, hour=9)
        daily = h.bot.get_cog("TermOfTheDay")
        assert await daily.post_due(datetime.datetime(2026, 3, 1, 0, 5, tzinfo=UTC)) == [
            int(h.channel["id"])]
        assert daily_posts(h)[0]["content"].endswith("2026-03-01")


async def test_no_channel_no_posts(h):
    daily = h.bot.get_cog("TermOfTheDay")
    assert await daily.post_due(at(1, 23)) == []
    assert daily_posts(h) == []


async def test_a_channel_closed_to_the_bot_is_skipped_for_the_day_and_reported(h):
    """A 403 is not retried every minute (it would fill the log); the moderators are told
    once (here in the same channel, whose next post goes through), and the next day is
    tried again."""
    settings = await h.slash("glossary", "settings", member=h.moderator,
                             moderators_channel=h.channel)
    await settings.wait_followup()
    await enable_daily(h, hour=9)
    daily = h.bot.get_cog("TermOfTheDay")
    h.fake.fail_next("POST", rf"/channels/{h.channel['id']}/messages", status=403,
                     body={"message": "Missing Access", "code": 50001})
    assert await daily.post_due(at(1, 9)) == []
    assert await daily.post_due(at(1, 10)) == []  # not retried today
    reports = [m for m in h.channel_messages()
               if m["embeds"] and m["embeds"][0]["title"] == "Term of the day not posted"]
    assert len(reports) == 1
    assert await daily.post_due(at(2, 9)) == [int(h.channel["id"])]  # tomorrow it posts
