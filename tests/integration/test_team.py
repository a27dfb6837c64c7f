"""Team channels through the real coach and scheduler, on SQLite and PostgreSQL: /team setup,
show, off and name; the daily team post (once per local day, also across DST and with two
schedulers); "Start my routine" for whoever presses it; the weekly digest; the opt-in "done"
line. No channel payload may ever carry health data."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.config import SOURCE_CONTENT
from bot.core.actions import Action, parse_action
from bot.core.content import load_library
from bot.core.messages import Platform, Reply
from bot.core.schedule import fire_instant
from bot.core.texts import CLINICIAN_SIGNS, EMERGENCY_SIGNS, EMERGENCY_STOP
from bot.scheduler import ReminderScheduler, TickResult
from bot.service import team as team_service
from bot.service.coach import Coach
from storage import db, outbox
from storage.models import Identity, OutboxMessage, Team, TeamMember
from tests.chat import Chat, FakeClock
from tests.integration.scheduler_support import RecordingSender, Sent, add_checkin, scheduler

GUILD = "424242"
CHANNEL = "515151"
TYPED_IN = "600600"  # the channel where /team was typed
GROUP = "-100555"  # a Telegram group
MON = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
TUE_POST = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # Tuesday 07:30 in Berlin
DIGEST = datetime(2027, 1, 11, 6, 30, tzinfo=UTC)  # the Monday after, 07:30 in Berlin
SECONDS = timedelta(seconds=10)

HEALTH = ("pain", "/10", "comfort", "tingling", "numbness", "red flag", "clinician", "hurt")
SCORE = re.compile(r"\b(?:10|[0-9])\s*/\s*10\b")
# Outcomes are as private as pain: no activity, rating, reassessment, lesson or report text.
OUTCOMES = load_library(SOURCE_CONTENT).outcomes
OUTCOME_TEXT = (
    "meaningful",
    "week check",
    "activities",
    "lesson",
    "report",
    *(a.label.lower() for a in OUTCOMES.activities.offered),
    *(label.lower() for label in OUTCOMES.global_rating.labels),
)


def assert_no_health_data(sent: list[Sent]) -> None:
    """Nothing a channel got may carry a score, a health word or a red-flag text."""
    for item in sent:
        assert item.to_channel
        for reply in item.replies:
            text = f"{reply.title or ''}\n{reply.text}".lower()
            assert not any(word in text for word in HEALTH), reply.text
            assert not any(words in text for words in OUTCOME_TEXT), reply.text
            assert reply.document is None and reply.image is None
            assert not SCORE.search(text), reply.text
            for line in (*EMERGENCY_SIGNS.splitlines(), *CLINICIAN_SIGNS.splitlines()):
                assert line.lower().lstrip("• ") not in text
            assert EMERGENCY_STOP.lower()[:40] not in text
            assert not reply.private
            for button in reply.all_buttons():
                action = parse_action(button.action)
                assert action is not None and action.flow == team_service.FLOW


@dataclass
class World:
    coach: Coach
    clock: FakeClock
    sender: RecordingSender
    reminders: ReminderScheduler
    chats: dict[str, Chat] = field(default_factory=dict)

    async def tick(self, at: datetime) -> TickResult:
        self.clock.now = at
        return await self.reminders.tick(at)

    def member(
        self,
        user: str,
        *,
        manage: bool = False,
        private: bool = False,
        platform: Platform = Platform.DISCORD,
    ) -> Chat:
        """A person in the server's channel (or, with private, in their DM with the bot)."""
        chat = Chat(
            self.coach,
            user=user,
            chat=f"dm-{user}" if private else TYPED_IN,
            private=private,
            platform=platform,
            group="" if private else GUILD,
            can_manage=manage,
            name=user.capitalize(),
        )
        return chat

    def in_channel(self, user: str, platform: Platform = Platform.DISCORD) -> Chat:
        """A person in the team channel itself, where the team posts (and their buttons) are."""
        chat = self.member(user, platform=platform)
        chat.chat = CHANNEL
        return chat

    async def team(self) -> Team | None:
        async with self.coach.sessions() as session:
            return (await session.scalars(select(Team))).first()

    async def members(self) -> dict[str, bool]:
        """user ref -> share_name, for everyone in a team."""
        async with self.coach.sessions() as session:
            rows = await session.execute(
                select(Identity.user_ref, TeamMember.share_name).join(
                    Identity, Identity.person_id == TeamMember.person_id
                )
            )
            return {user: share for user, share in rows.all()}

    async def person_id(self, user: str) -> int:
        async with self.coach.sessions() as session:
            found = await session.scalar(
                select(Identity.person_id).where(Identity.user_ref == user)
            )
            assert found is not None
            return int(found)

    def channel_posts(self) -> list[Sent]:
        return [item for item in self.sender.sent if item.to_channel]

    async def setup_team(self, at: str = "07:30", zone: str = "Europe/Berlin") -> Team:
        admin = self.member("ada", manage=True)
        await admin.say(f"/team setup {CHANNEL} {at} {zone}")
        assert "Team posts are on" in admin.text, admin.text
        found = await self.team()
        assert found is not None
        return found

    async def post(self, at: datetime) -> Reply:
        """Tick at `at` and return the team post the channel got."""
        before = len(self.channel_posts())
        await self.tick(at)
        posts = self.channel_posts()[before:]
        assert [p.ref for p in posts] == [CHANNEL], posts
        return posts[0].replies[0]


@pytest.fixture
async def world(coach_on: Coach, clock: FakeClock) -> AsyncIterator[World]:
    clock.now = MON
    sender = RecordingSender(Platform.DISCORD, clock=clock)
    yield World(coach_on, clock, sender, scheduler(coach_on.sessions, {Platform.DISCORD: sender}))


async def onboarded(world: World, user: str) -> Chat:
    dm = world.member(user, private=True)
    await dm.onboard(activities=[("Tying my shoes", 4)])  # Berlin, 07:30
    return dm


# /team -----------------------------------------------------------------------------------------


async def test_setup_by_a_manager_then_show_and_off(world: World) -> None:
    admin = world.member("ada", manage=True)
    await admin.say(f"/team setup {CHANNEL} 07:30 Europe/Berlin")
    [reply] = admin.last
    assert not reply.private  # nothing personal in it
    assert f"<#{CHANNEL}>" in reply.text and "07:30 (Europe/Berlin)" in reply.text
    assert "Mondays" in reply.text and "Mon 11 Jan" in reply.text  # the digest day
    team = await world.team()
    assert team is not None
    assert (team.platform, team.group_ref, team.channel_ref) == ("discord", GUILD, CHANNEL)
    assert (team.post_time, team.timezone, team.enabled) == ("07:30", "Europe/Berlin", True)
    assert team.next_post_utc == TUE_POST  # 09:00 now: the first post is tomorrow's
    assert team.next_digest_utc == DIGEST

    ben = world.member("ben")
    await ben.say("/team show")
    assert "Team posts are on (0 members)" in ben.text and "07:30" in ben.text
    await ben.say("/team off")
    assert ben.text == team_service.REFUSE_MANAGE
    assert (await world.team()).enabled  # type: ignore[union-attr]

    # A change of time keeps the digest's day.
    await admin.say(f"/team setup {CHANNEL} 18:00 Europe/Berlin")
    team = await world.team()
    assert team is not None
    assert team.next_post_utc == datetime(2027, 1, 4, 17, 0, tzinfo=UTC)  # today 18:00
    assert team.next_digest_utc == datetime(2027, 1, 11, 17, 0, tzinfo=UTC)

    await admin.say("/team off")
    assert "Team posts are off" in admin.text
    team = await world.team()
    assert team is not None and not team.enabled and team.next_post_utc is None
    await ben.say("/team show")
    assert "No team posts here" in ben.text
    assert not (await world.tick(TUE_POST + SECONDS)).claimed
    assert world.channel_posts() == []


async def test_setup_refused_for_a_member_and_in_a_private_chat(world: World) -> None:
    ben = world.member("ben")
    await ben.say(f"/team setup {CHANNEL} 07:30 Europe/Berlin")
    assert ben.text == team_service.REFUSE_MANAGE
    dm = world.member("ada", manage=True, private=True)
    for command in (f"/team setup {CHANNEL} 07:30 Europe/Berlin", "/team show", "/team off"):
        await dm.say(command)
        assert dm.text == team_service.REFUSE_PRIVATE
    assert await world.team() is None


async def test_bad_time_or_zone_asks_again_and_changes_nothing(world: World) -> None:
    admin = world.member("ada", manage=True)
    cases = {
        f"/team setup {CHANNEL} 25:00 Europe/Berlin": "hours go from 00 to 23",
        f"/team setup {CHANNEL} teatime Europe/Berlin": "not a time of day",
        f"/team setup {CHANNEL} 07:30 Atlantis/Nowhere": "I don't know the time zone",
        f"/team setup {CHANNEL} 07:30": "Which time zone",  # Ada has no zone of her own
        "/team setup": "At what time",
    }
    for command, expected in cases.items():
        await admin.say(command)
        assert expected in admin.text, (command, admin.text)
        assert "Example: /team setup" in admin.text
    assert await world.team() is None
    await admin.say("/team dance")
    assert "/team setup HH:MM ZONE" in admin.text
    # Then a good one: a city for a zone works too.
    await admin.say(f"/team setup <#{CHANNEL}> 7:30am berlin")
    team = await world.team()
    assert team is not None and (team.channel_ref, team.post_time, team.timezone) == (
        CHANNEL,
        "07:30",
        "Europe/Berlin",
    )


async def test_telegram_group_is_its_own_channel(world: World) -> None:
    admin = Chat(
        world.coach,
        user="900",
        chat=GROUP,
        private=False,
        platform=Platform.TELEGRAM,
        group=GROUP,
        can_manage=True,
    )
    await admin.say("/team setup -100999 07:30 Europe/Berlin")
    assert "this group itself" in admin.text
    await admin.say("/team setup 07:30 Europe/Berlin")
    assert "in this group" in admin.text
    team = await world.team()
    assert team is not None and (team.platform, team.group_ref, team.channel_ref) == (
        "telegram",
        GROUP,
        GROUP,
    )


# The daily post --------------------------------------------------------------------------------


async def test_daily_post_once_and_start_my_routine_for_whoever_presses(world: World) -> None:
    await world.setup_team()
    await onboarded(world, "ann")
    assert not (await world.tick(TUE_POST - SECONDS)).claimed
    post = await world.post(TUE_POST + SECONDS)
    assert post.title == "Team routine" and "Floor work" in post.text
    [start] = post.all_buttons()
    assert start.label == "Start my routine"
    team = await world.team()
    assert team is not None
    assert parse_action(start.action) == Action("tm", "start", "go", team.id)
    # Later ticks that day post nothing more; the next day posts again.
    await world.tick(TUE_POST + timedelta(hours=2))
    await world.tick(TUE_POST + timedelta(hours=12))
    assert len(world.channel_posts()) == 1

    # Ann (onboarded) and Ben (new) press the same post in the channel.
    ann_here, ben_here = world.in_channel("ann"), world.in_channel("ben")
    world.clock.now = TUE_POST + timedelta(minutes=5)
    replies = await ann_here.press_payload(start.action)
    assert all(reply.private for reply in replies)
    assert "Phase 1 of 3" in ann_here.text and "Done - check in" in [
        b.label for r in replies for b in r.all_buttons()
    ]
    done = parse_action(ann_here.button("Done - check in").action)
    assert done == Action("rt", "done", f"t{team.id}", 0)
    assert "Show my name to the team" in [b.label for r in replies for b in r.all_buttons()]
    replies = await ben_here.press_payload(start.action)
    assert all(reply.private for reply in replies)
    assert "Let's get you set up first" in ben_here.text and "safety check" in ben_here.text
    assert await world.members() == {"ann": False, "ben": False}

    # A second press: the routine again, no second membership.
    await ann_here.press_payload(start.action)
    assert "Phase 1 of 3" in ann_here.text and "team's list" not in ann_here.text
    assert await world.members() == {"ann": False, "ben": False}

    await world.tick(TUE_POST + timedelta(days=1) + SECONDS)
    assert len(world.channel_posts()) == 2
    assert_no_health_data(world.channel_posts())


async def test_a_forged_or_foreign_team_button_is_refused(world: World) -> None:
    team = await world.setup_team()
    ben = world.member("ben")
    for payload in (
        Action("tm", "start", "go", team.id + 999).encode(),
        Action("tm", "name", "on", team.id + 999).encode(),
        Action("tm", "dance", "go", team.id).encode(),
    ):
        [refusal] = await ben.press_payload(payload)
        assert refusal.alert and refusal.private
    # The team's own button pressed from another platform is not this team's either.
    elsewhere = world.member("ben", platform=Platform.TELEGRAM)
    [refusal] = await elsewhere.press_payload(Action("tm", "start", "go", team.id).encode())
    assert refusal.alert
    assert await world.members() == {}


async def outbox_rows(world: World) -> int:
    async with world.coach.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_team_buttons_work_only_from_the_teams_own_chat(world: World) -> None:
    """A payload names a team by its (sequential) id; where the press happened is what counts."""
    team = await world.setup_team()
    await onboarded(world, "mal")
    start = Action("tm", "start", "go", team.id).encode()
    name_on = Action("tm", "name", "on", team.id).encode()
    other_guild = world.member("mal")
    other_guild.group, other_guild.chat = "999999", CHANNEL  # same channel id, other server
    wrong_places = (
        world.member("mal", private=True),  # the bot's DM
        world.member("mal"),  # another channel of the team's server
        other_guild,
    )
    for chat in wrong_places:
        for payload in (start, name_on):
            [refusal] = await chat.press_payload(payload)
            assert refusal.alert and refusal.text == team_service.REFUSE_ELSEWHERE, chat
    assert await world.members() == {}
    # A Telegram group's press names a Telegram team only, and only its own group.
    admin, stranger = (
        Chat(
            world.coach,
            user=u,
            chat=g,
            private=False,
            platform=Platform.TELEGRAM,
            group=g,
            can_manage=True,
        )
        for u, g in (("900", GROUP), ("901", "-100777"))
    )
    await admin.say("/team setup 07:30 Europe/Berlin")
    async with world.coach.sessions() as session:
        telegram_team = await session.scalar(select(Team).where(Team.platform == "telegram"))
    assert telegram_team is not None
    [refusal] = await stranger.press_payload(Action("tm", "start", "go", telegram_team.id).encode())
    assert refusal.text == team_service.REFUSE_ELSEWHERE
    assert await world.members() == {}
    # From the team channel the same buttons work; then the member's own name button works in
    # the DM too (on Telegram that is where it lands).
    here = world.in_channel("mal")
    await here.press_payload(start)
    assert "Phase 1 of 3" in here.text
    [reply] = await world.member("mal", private=True).press_payload(name_on)
    assert not reply.alert and "Never your scores" in reply.text
    assert await world.members() == {"mal": True}


async def test_a_forged_done_tag_names_nobody_who_is_not_a_member(world: World) -> None:
    team = await world.setup_team()
    dm = await onboarded(world, "mal")
    before = await outbox_rows(world)
    await dm.press_payload(Action("rt", "done", f"t{team.id}", 0).encode())
    for label in ("2", "No", "Yes", "6"):
        await dm.press(label)
    assert "Logged: pain 2/10" in dm.text
    assert await world.members() == {}
    assert await outbox_rows(world) == before  # no "did today's routine" line queued
    await world.tick(world.clock.now + SECONDS)
    assert world.channel_posts() == []


async def test_names_posted_in_the_channel_cannot_ping_or_format(world: World) -> None:
    await world.setup_team()
    dm = world.member("eve", private=True)
    dm.name = "@everyone <@&1> <#2> **Eve** [x](https://t.me/a) @here_and_a_very_long_name_indeed"
    await dm.onboard()
    post = await world.post(TUE_POST + SECONDS)
    here = world.in_channel("eve")
    here.name = dm.name
    world.clock.now = TUE_POST + timedelta(minutes=5)
    await here.press_payload(post.all_buttons()[0].action)
    done = here.button("Done - check in").action
    await here.press("Show my name to the team")
    await here.press_payload(done)
    for label in ("2", "No", "Yes", "6"):
        await here.press(label)
    await world.tick(world.clock.now + SECONDS)
    [line] = [item.text for item in world.channel_posts()[1:]]
    name = line.removesuffix(" did today's routine.")
    assert name == "everyone 1 2 Eve xhttpstmea here"  # cut at 32 characters
    assert not set("@<>#*[]()/:._") & set(name)


async def test_team_name_opt_in_export_and_delete(world: World) -> None:
    team = await world.setup_team()
    dm = await onboarded(world, "ann")
    await dm.say("/team name on")
    assert "not in a team yet" in dm.text
    here = world.member("ann")
    await here.say("/team name on")
    assert here.last[0].private and "Never your scores" in here.text
    assert await world.members() == {"ann": True}
    await dm.say("/team name off")
    assert await world.members() == {"ann": False}
    await here.press_payload(Action("tm", "name", "on", team.id).encode())
    assert await world.members() == {"ann": True}

    await dm.say("/export")
    data = json.loads(dm.last[0].text)
    assert data["teams"] == [
        {"platform": "discord", "group": GUILD, "joined_at": MON.isoformat(), "share_name": True}
    ]
    await dm.say("/delete")
    await dm.say("DELETE")
    assert await world.members() == {}
    async with world.coach.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Team)) == 1


async def test_the_name_button_toggles_both_ways(world: World) -> None:
    team = await world.setup_team()
    await onboarded(world, "ann")
    post = await world.post(TUE_POST + SECONDS)
    here = world.in_channel("ann")
    await here.press_payload(post.all_buttons()[0].action)
    show, hide = team_service.SHOW_NAME_LABEL, team_service.HIDE_NAME_LABEL
    for label, shared, then, said in (
        (show, True, Action("tm", "name", "off", team.id), "/teamname off undoes it"),
        (hide, False, Action("tm", "name", "on", team.id), "/teamname on shows it"),
        (show, True, Action("tm", "name", "off", team.id), "Never your scores"),
    ):
        [reply] = await here.press(label)
        assert reply.private and reply.edit and said in reply.text
        # The same private message now offers the other way round.
        assert [(b.label, parse_action(b.action)) for b in reply.all_buttons()] == [
            (hide if shared else show, then)
        ]
        assert await world.members() == {"ann": shared}

    # On Telegram `/team name` is open to everyone, so the text names it.
    admin, member = (
        Chat(
            world.coach,
            user=user,
            chat=GROUP,
            private=False,
            platform=Platform.TELEGRAM,
            group=GROUP,
            can_manage=user == "900",
        )
        for user in ("900", "901")
    )
    await admin.say("/team setup 07:30 Europe/Berlin")
    async with world.coach.sessions() as session:
        telegram_team = await session.scalar(select(Team).where(Team.platform == "telegram"))
    assert telegram_team is not None
    [reply] = await member.press_payload(Action("tm", "name", "on", telegram_team.id).encode())
    assert "/team name off undoes it" in reply.text and "/teamname" not in reply.text
    assert [b.label for b in reply.all_buttons()] == [hide]


async def test_daily_post_once_per_local_day_across_dst(world: World) -> None:
    """02:30 in Berlin does not exist on 28 March 2027 and happens twice on 31 October."""
    rows: list[OutboxMessage] = []
    for start, end in (
        (datetime(2027, 3, 20, 12, 0, tzinfo=UTC), date(2027, 4, 5)),
        (datetime(2027, 10, 24, 12, 0, tzinfo=UTC), date(2027, 11, 8)),
    ):
        world.clock.now = start
        await world.setup_team(at="02:30")
        while True:
            team = await world.team()
            assert team is not None and team.next_post_utc and team.next_digest_utc
            due = min(team.next_post_utc, team.next_digest_utc)
            if due.date() >= end:
                break
            await world.tick(due + SECONDS)
            await world.tick(due + timedelta(hours=1) + SECONDS)  # the second 02:30 in October
        async with world.coach.sessions() as session:  # before old rows are pruned
            found = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.not_in([r.id for r in rows]))
            )
            rows += sorted(found.all(), key=lambda row: row.id)
    posts = [row for row in rows if row.kind == outbox.TEAM_POST]
    days = [row.local_date for row in posts]
    assert len(days) == len(set(days))  # once per local day
    expected = [date(2027, 3, 21) + timedelta(days=n) for n in range(15)] + [
        date(2027, 10, 25) + timedelta(days=n) for n in range(14)
    ]
    assert days == expected
    for row in posts:
        assert row.state == outbox.SENT
        assert row.fire_at == fire_instant(row.local_date, time(2, 30), "Europe/Berlin")
    by_day = {row.local_date: row.fire_at for row in posts}
    assert by_day[date(2027, 3, 28)] == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # the jump
    assert by_day[date(2027, 10, 31)] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # first one
    digests = [row.local_date for row in rows if row.kind == outbox.DIGEST]
    assert digests == [date(2027, 3, 27), date(2027, 4, 3), date(2027, 10, 31), date(2027, 11, 7)]
    assert len(world.channel_posts()) == len(posts) + len(digests)
    assert_no_health_data(world.channel_posts())


async def test_a_post_missed_beyond_the_grace_period_is_dropped_not_caught_up(
    world: World,
) -> None:
    await world.setup_team()
    result = await world.tick(TUE_POST + timedelta(days=3, hours=1))
    assert (result.claimed, result.dropped, result.sent) == (1, 1, 0)
    # Tuesday's post was dropped, Wednesday's and Thursday's skipped; Friday's, an hour late, is
    # within the grace period and goes out with the next tick.
    team = await world.team()
    assert team is not None and team.next_post_utc == TUE_POST + timedelta(days=3)
    await world.post(TUE_POST + timedelta(days=3, hours=1) + SECONDS)
    team = await world.team()
    assert team is not None and team.next_post_utc == TUE_POST + timedelta(days=4)


# The weekly digest and the "done" line -------------------------------------------------------


async def test_digest_counts_and_names_only_opted_in_members(world: World) -> None:
    await world.setup_team()
    for user in ("ann", "ben", "cat"):
        await onboarded(world, user)
    post = await world.post(TUE_POST + SECONDS)
    world.clock.now = TUE_POST + timedelta(minutes=5)
    for user in ("ann", "ben", "cat"):
        await world.in_channel(user).press_payload(post.all_buttons()[0].action)
    await world.member("ann").say("/team name on")
    await world.member("cat").say("/team name on")  # opted in, but did not train
    sessions = world.coach.sessions
    ann, ben = await world.person_id("ann"), await world.person_id("ben")
    for day in (5, 6, 7):  # Tue, Wed, Thu
        await add_checkin(sessions, ann, date(2027, 1, day), datetime(2027, 1, day, 9, tzinfo=UTC))
    await add_checkin(sessions, ben, date(2027, 1, 5), datetime(2027, 1, 5, 9, tzinfo=UTC))
    # Outside the week: the Monday of the digest itself.
    await add_checkin(sessions, ben, date(2027, 1, 11), datetime(2027, 1, 11, 5, tzinfo=UTC))

    for day in range(1, 7):
        await world.tick(TUE_POST + timedelta(days=day) + SECONDS)
    digests = [p for p in world.channel_posts() if p.replies[0].title == "Team digest"]
    assert len(digests) == 1
    text = digests[0].text
    assert "(Mon 04 Jan - Sun 10 Jan)" in text
    assert "2 of 3 members trained this week" in text
    # Planned days Tue-Sun for each of the three (they joined on Tuesday): 4 of 18 done.
    assert "Team adherence: 22% of planned days done" in text
    assert "Trained this week: Ann." in text
    assert "Ben" not in text and "Cat" not in text
    assert digests[0].ref == CHANNEL and digests[0].at == DIGEST + SECONDS
    team = await world.team()
    assert team is not None and team.next_digest_utc == DIGEST + timedelta(days=7)
    assert_no_health_data(world.channel_posts())


async def test_done_line_only_for_opted_in_members_from_the_team_post(world: World) -> None:
    await world.setup_team()
    for user in ("ann", "ben"):
        await onboarded(world, user)
    post = await world.post(TUE_POST + SECONDS)
    start = post.all_buttons()[0].action
    world.clock.now = TUE_POST + timedelta(minutes=5)
    ann, ben = world.in_channel("ann"), world.in_channel("ben")
    done: dict[str, str] = {}
    for chat in (ann, ben):
        await chat.press_payload(start)
        done[chat.user] = chat.button("Done - check in").action
    await ann.press("Show my name to the team")

    for chat in (ann, ben):  # the check-in from the team post's private routine
        await chat.press_payload(done[chat.user])
        assert "DURING the routine" in chat.text and chat.last[-1].private
        for label in ("2", "No", "Yes", "6"):
            await chat.press(label)
        assert "Logged: pain 2/10" in chat.text and all(r.private for r in chat.last)

    # A check-in from a plain /routine names nobody.
    dm = world.member("ann", private=True)
    world.clock.now += timedelta(hours=1)
    await dm.say("/checkin 2 yes 7")
    assert "Logged" in dm.text

    before = len(world.channel_posts())
    await world.tick(world.clock.now + SECONDS)
    lines = world.channel_posts()[before:]
    assert [(item.ref, item.text) for item in lines] == [(CHANNEL, "Ann did today's routine.")]
    assert_no_health_data(world.channel_posts())


# Two schedulers ------------------------------------------------------------------------------


async def test_two_schedulers_send_each_team_post_once(database_url: str) -> None:
    engines = [db.create_engine(database_url), db.create_engine(database_url)]
    try:
        await db.upgrade(engines[0])
        sessions = [db.sessionmaker(engine) for engine in engines]
        count = 120
        async with sessions[0]() as session, session.begin():
            rows: list[dict[str, Any]] = [
                {
                    "platform": "discord",
                    "group_ref": f"g{n}",
                    "channel_ref": str(700_000 + n),
                    "post_time": "07:30",
                    "timezone": "Europe/Berlin",
                    "enabled": True,
                    "next_post_utc": TUE_POST,
                    "next_digest_utc": TUE_POST if n % 2 else DIGEST,
                    "created_at": MON,
                }
                for n in range(count)
            ]
            await session.execute(insert(Team), rows)
        senders = [RecordingSender(Platform.DISCORD) for _ in sessions]
        replicas = [
            scheduler(s, {Platform.DISCORD: sender}, batch=25)
            for s, sender in zip(sessions, senders, strict=True)
        ]
        now = TUE_POST + SECONDS
        results = await asyncio.gather(*(replica.tick(now) for replica in replicas))
        again = await asyncio.gather(*(r.tick(now + timedelta(minutes=1)) for r in replicas))
        assert sum(r.sent for r in again) == 0
        sent = Counter[tuple[str, str | None]]()
        for sender in senders:
            sent.update((item.ref, item.replies[0].title) for item in sender.sent)
        assert len(sent) == count + count // 2 and set(sent.values()) == {1}
        assert sum(r.sent for r in results) == count + count // 2
        if "postgresql" in database_url:
            assert all(r.lost == 0 for r in results)  # SKIP LOCKED: never fought over
        async with sessions[1]() as session:
            moved = await session.scalar(
                select(func.count()).where(Team.next_post_utc == TUE_POST + timedelta(days=1))
            )
        assert moved == count
        assert_no_health_data([item for sender in senders for item in sender.sent])
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_team_post_asks_the_morning_question_first_and_keeps_the_team(
    world: World,
) -> None:
    await world.setup_team()
    ann = await onboarded(world, "ann")
    dm = world.member("ann", private=True)
    world.clock.now = TUE_POST - timedelta(days=1)
    await dm.say("/checkin 2 yes 7")  # yesterday's session: its morning is due today
    post = await world.post(TUE_POST + SECONDS)
    world.clock.now = TUE_POST + timedelta(minutes=5)
    chat = world.in_channel("ann")
    await chat.press_payload(post.all_buttons()[0].action)
    assert "this morning" in chat.text and all(r.private for r in chat.last)
    show_name = chat.button("Show my name to the team").action
    await chat.press("2")  # the morning answer, then the routine it interrupted
    assert "2/10 noted" in chat.text and "Phase 1 of 3" in chat.text
    done = chat.button("Done - check in").action
    await chat.press_payload(show_name)
    await chat.press_payload(done)
    for label in ("2", "No", "Yes", "6"):
        await chat.press(label)
    assert "Logged: pain 2/10" in chat.text
    before = len(world.channel_posts())
    await world.tick(world.clock.now + SECONDS)
    lines = [item.text for item in world.channel_posts()[before:]]
    assert lines == ["Ann did today's routine."], ann.text
    assert_no_health_data(world.channel_posts())
