"""The weekly summary through the real coach and scheduler, on SQLite and PostgreSQL: /summary
on|off and its bad input, the summary riding on the Sunday reminder (chart and aim sentence),
exactly once per week across ticks and schedulers, text only without check-ins, nothing while
paused or on a day without a reminder; and the aim sentence for each state."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.adapters.console import ConsoleChat, ConsoleSender
from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.core.messages import Platform
from bot.core.progression import Neutral, Session
from bot.scheduler import ReminderScheduler, TickResult
from bot.service import weekly
from bot.service.coach import Coach
from storage.models import OutboxMessage, Person
from tests.chat import Chat, FakeClock
from tests.integration.scheduler_support import RecordingSender, Sent, library, scheduler

# Onboarding is on Monday 2027-01-04 at 09:00 in Berlin, reminders daily at 07:30 (06:30 UTC).
TUE_0730 = datetime(2027, 1, 5, 6, 30, 20, tzinfo=UTC)
SUN_0730 = datetime(2027, 1, 10, 6, 30, 20, tzinfo=UTC)
MON_0730 = datetime(2027, 1, 11, 6, 30, 20, tzinfo=UTC)
DAY = timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class World:
    coach: Coach
    clock: FakeClock
    sender: RecordingSender
    reminders: ReminderScheduler
    chat: Chat
    charts: Path

    async def tick(self, at: datetime, reminders: ReminderScheduler | None = None) -> TickResult:
        self.clock.now = at
        return await (reminders or self.reminders).tick(at)

    async def days(self, first: datetime, last: datetime) -> None:
        """A tick at the reminder time of every day from `first` to `last`, both included."""
        at = first
        while at <= last:
            await self.tick(at)
            at += DAY

    async def train(self, at: datetime) -> None:
        """A calm check-in with a neutral back at `at`."""
        self.clock.now = at
        await self.chat.say("/checkin 2 yes 6")
        if "this morning" in self.chat.text:
            await self.chat.say("2")  # the check-in the question interrupted carries on
        assert "Logged" in self.chat.text, self.chat.text

    def summaries(self) -> list[Sent]:
        return [s for s in self.sender.sent if s.replies[0].title == weekly.TITLE]

    def reminders_sent(self) -> list[Sent]:
        return [s for s in self.sender.sent if s.replies[0].title == "Reminder"]

    async def person(self) -> Person:
        async with self.coach.sessions() as session:
            found = (await session.scalars(select(Person))).first()
            assert found is not None
            return found

    async def kinds(self) -> list[tuple[str, str, date]]:
        async with self.coach.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage))).all()
            return sorted((row.kind, row.state, row.local_date) for row in rows)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    coach = await build_coach(
        Settings(database_url=database_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    coach.charts_dir = tmp_path / "progress"
    sender = RecordingSender(Platform.CONSOLE, clock=clock)
    chat = Chat(coach)
    await chat.onboard()  # Berlin, 07:30 every day
    charts = tmp_path / "charts"
    reminders = scheduler(coach.sessions, {Platform.CONSOLE: sender}, charts_dir=charts)
    yield World(coach, clock, sender, reminders, chat, charts)
    await coach.close()


async def test_summary_rides_on_the_sunday_reminder_once(world: World) -> None:
    await world.chat.say("/summary on sun")
    assert "Weekly summary on: Sundays" in world.chat.text and world.chat.last[0].private
    assert (await world.person()).summary_day == 6
    for day in range(4):  # Tuesday to Friday, after the reminder
        await world.tick(TUE_0730 + day * DAY)
        await world.train(TUE_0730 + day * DAY + timedelta(hours=3))
    await world.days(TUE_0730 + 4 * DAY, SUN_0730 - DAY)
    assert world.summaries() == [] and len(world.reminders_sent()) == 5

    result = await world.tick(SUN_0730)
    assert (result.claimed, result.enqueued, result.sent) == (1, 2, 2)
    [summary] = world.summaries()
    assert len(world.reminders_sent()) == 6 and summary.ref == "u1"
    words, picture = summary.replies
    assert all(reply.private for reply in summary.replies)
    assert words.text.startswith(
        "This week: 4 sessions in the last 7 days, 4 of 7 planned days done (57%)."
    )
    assert words.text.endswith(
        "Next week: 2 sessions with a neutral back, pain at 3/10 or less, "
        "to move up to Phase 2 (Standing work)."
    )
    assert picture.image is not None and picture.image.parent == world.charts
    assert picture.image.read_bytes()[:8] == PNG and picture.image.stat().st_size > 10_000

    # Again the same Sunday, by this scheduler and by a second one: nothing more.
    assert not (await world.tick(SUN_0730 + timedelta(minutes=1))).sent
    other = scheduler(
        world.coach.sessions, {Platform.CONSOLE: world.sender}, charts_dir=world.charts
    )
    assert not (await world.tick(SUN_0730 + timedelta(minutes=2), other)).sent
    # A snooze on Sunday writes the same key again: still one summary.
    world.clock.now = SUN_0730 + timedelta(minutes=5)
    await world.chat.say("/snooze 30m")
    await world.tick(SUN_0730 + timedelta(minutes=36))
    assert len(world.summaries()) == 1 and "again" in world.sender.sent[-1].text
    # Monday: the reminder only.
    result = await world.tick(MON_0730)
    assert result.sent == 1 and len(world.summaries()) == 1
    weeklies = [row for row in await world.kinds() if row[0] == "weekly"]
    assert weeklies == [("weekly", "sent", date(2027, 1, 10))]


async def test_off_and_bad_input_store_nothing(world: World) -> None:
    await world.chat.say("/summary")
    assert "weekly summary is off" in world.chat.text
    await world.chat.say("/summary on funday")
    assert "'funday' is not a day" in world.chat.text
    await world.chat.say("/summary banana")
    assert "/summary on [day]" in world.chat.text
    await world.chat.say("/summary on sun mon")
    assert "One day only" in world.chat.text
    assert (await world.person()).summary_day is None

    await world.chat.say("/summary on")  # Sunday unless another day is named
    assert (await world.person()).summary_day == 6
    await world.chat.say("/summary Wednesday")
    assert (await world.person()).summary_day == 2
    await world.chat.say("/summary")
    assert "Weekly summary: Wednesdays, with your reminder at 07:30." in world.chat.text
    await world.chat.say("/export")
    assert json.loads(world.chat.text)["person"]["summary_day"] == "Wed"
    await world.chat.say("/summary off")
    assert "Weekly summary off" in world.chat.text
    assert (await world.person()).summary_day is None

    await world.days(TUE_0730, MON_0730)
    assert world.summaries() == [] and len(world.reminders_sent()) == 7
    assert {row[0] for row in await world.kinds()} == {"reminder"}


async def test_without_checkins_the_summary_is_text_only(world: World) -> None:
    await world.chat.say("/summary on sunday")
    await world.days(TUE_0730, SUN_0730)
    [summary] = world.summaries()
    [reply] = summary.replies
    assert reply.image is None and reply.private
    assert "This week: 0 sessions" in reply.text
    assert "Next week: one short session is a great start." in reply.text
    assert "Your chart appears here once you log a check-in." in reply.text


async def test_checked_in_early_on_sunday_still_gets_the_summary(world: World) -> None:
    await world.chat.say("/summary on sun")
    await world.days(TUE_0730, SUN_0730 - DAY)
    await world.train(SUN_0730 - timedelta(hours=1))  # 06:30 in Berlin, before the reminder
    result = await world.tick(SUN_0730)
    assert (result.skipped, result.sent) == (1, 1)  # no reminder: the summary only
    [summary] = world.summaries()
    assert summary.replies[0].text.startswith("This week: 1 session in the last 7 days")
    assert summary.replies[-1].image is not None


async def test_paused_or_no_reminder_that_day_means_no_summary(world: World) -> None:
    await world.chat.say("/summary on sun")
    world.clock.now = SUN_0730 - DAY
    await world.chat.say("/pause 2")
    await world.days(TUE_0730, SUN_0730)
    assert world.summaries() == []

    await world.chat.say("/resume")
    await world.chat.say("/remind 07:30 mon,wed,fri")
    await world.chat.say("/summary on sun")
    assert "not set for Sundays" in world.chat.text
    await world.days(MON_0730, MON_0730 + 6 * DAY)
    assert world.summaries() == []
    await world.chat.say("/remind off")
    await world.chat.say("/summary")
    assert "which is off" in world.chat.text


async def test_a_safety_hold_means_no_summary(world: World) -> None:
    await world.chat.say("/summary on sun")
    async with world.coach.sessions() as session, session.begin():
        await session.execute(update(Person).values(safety_hold="clinician"))
    await world.days(TUE_0730, SUN_0730)
    assert world.sender.sent == []
    assert "weekly" not in {row[0] for row in await world.kinds()}


async def test_turned_off_or_paused_after_the_claim_means_no_summary(world: World) -> None:
    await world.chat.say("/summary on sun")
    await world.days(TUE_0730, SUN_0730 - DAY)
    # Claimed (reminder and summary marker queued), then turned off before it is sent.
    world.clock.now = SUN_0730
    assert (await world.reminders.claim(SUN_0730)).enqueued == 2
    await world.chat.say("/summary off")
    delivered = await world.reminders.deliver(SUN_0730 + timedelta(seconds=5))
    assert (delivered.sent, delivered.skipped) == (1, 1) and world.summaries() == []
    # The next Sunday: claimed, then paused before it is sent.
    await world.chat.say("/summary on sun")
    await world.days(MON_0730, MON_0730 + 5 * DAY)
    world.clock.now = SUN_0730 + 7 * DAY
    assert (await world.reminders.claim(SUN_0730 + 7 * DAY)).enqueued == 2
    await world.chat.say("/pause 3")
    await world.reminders.deliver(SUN_0730 + 7 * DAY + timedelta(seconds=5))
    assert world.summaries() == []
    weeklies = [row for row in await world.kinds() if row[0] == "weekly"]
    assert weeklies == [
        ("weekly", "dropped", date(2027, 1, 10)),
        ("weekly", "dropped", date(2027, 1, 17)),
    ]


async def test_the_console_prints_the_picture_path(
    coach: Coach, clock: FakeClock, tmp_path: Path
) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/summary on sun")
    await chat.say("/checkin 2 yes 6")
    out = io.StringIO()
    console = ConsoleChat(coach, "u1", out=out)
    reminders = scheduler(
        coach.sessions,
        {Platform.CONSOLE: ConsoleSender(console)},
        clock=clock,
        charts_dir=tmp_path,
        only_refs={Platform.CONSOLE: frozenset({"u1"})},
    )
    at = TUE_0730
    while at <= SUN_0730:
        clock.now = at
        await reminders.tick(at)
        at += DAY
    printed = out.getvalue()
    assert "== Your week ==" in printed and "Next week:" in printed
    assert f"(picture saved to {tmp_path / 'weekly-1.png'})" in printed


# The aim sentence ---------------------------------------------------------------------------------

SUNDAY = date(2027, 1, 10)


def _person(**values: object) -> Person:
    person = Person(phase_index=0, lighter_dose=False, phase_started_on=None)
    person.phase_start_comfort = None
    for name, value in values.items():
        setattr(person, name, value)
    return person


def _calm(days: int, pain: int = 2, comfort: int | None = 6) -> list[Session]:
    return [
        Session(SUNDAY - timedelta(days=n), pain, Neutral.YES, comfort)
        for n in range(days - 1, -1, -1)
    ]


def _aim(person: Person, sessions: list[Session], *, week: int = 3, total: int = 3) -> str:
    program = library().default_program()
    return weekly.aim(
        person,
        program,
        SUNDAY,
        week_sessions=week,
        any_sessions=total > 0,
        total=total,
        first_day=sessions[0].day if sessions else None,
        tail=sessions[-3:],
    )


def test_aim_for_each_state() -> None:
    # One session so far: 5 more are needed, and 10 days in the phase are not reached next week.
    assert _aim(_person(), _calm(1), week=1, total=1) == (
        "Next week: 5 sessions with a neutral back, pain at 3/10 or less, "
        "to get closer to Phase 2 (Standing work)."
    )
    calm = _calm(3)
    assert _aim(_person(), calm) == (
        "Next week: 3 sessions with a neutral back, pain at 3/10 or less, "
        "to move up to Phase 2 (Standing work)."
    )
    long_ago = [Session(SUNDAY - timedelta(days=9), 2, Neutral.YES, 6), *calm[1:]]
    assert _aim(_person(), long_ago, total=5) == (
        "Next week: 1 session with a neutral back, pain at 3/10 or less, "
        "to move up to Phase 2 (Standing work)."
    )
    rough = [*calm[:2], Session(SUNDAY, 3, Neutral.MOSTLY, 6)]
    assert _aim(_person(), [long_ago[0], *rough[1:]], total=6).startswith(
        "Next week: 3 sessions with a neutral back"
    )
    assert _aim(_person(phase_start_comfort=8), _calm(3, comfort=5), total=6) == (
        "Next week: 3 sessions with a neutral back, pain at 3/10 or less, and deadlift comfort "
        "back near 8/10, to move up to Phase 2 (Standing work)."
    )
    assert _aim(_person(lighter_dose=True), calm) == (
        "Next week: keep the lighter dose until a session with pain at 3/10 or less."
    )
    assert _aim(_person(phase_index=1, phase_started_on=SUNDAY - timedelta(days=2)), calm) == (
        "Next week: settle into Phase 2 (Standing work), at least 3 sessions."
    )
    assert _aim(_person(phase_index=2), calm).startswith("Next week: keep it up as maintenance")
    assert _aim(_person(), calm, week=0) == "Next week: one short session is a great restart."
    assert _aim(_person(), [], week=0, total=0) == (
        "Next week: one short session is a great start."
    )


def test_read_day() -> None:
    assert [weekly.read_day(word) for word in ("mon", "Tues", "WED", "thurs", "fri")] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert weekly.read_day("saturday") == 5 and weekly.read_day("Sun.") == 6
    for bad in ("funday", "s", "tu", "sundays", ""):
        with pytest.raises(ValueError):
            weekly.read_day(bad)
