"""Reminders end to end through the real coach and scheduler on a real database: the reminder
and its buttons, snooze, skip, pause, safety hold, weekdays, already checked in, the morning
question, the evening nudge, and lateness beyond the grace period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.core.actions import Action
from bot.core.messages import Platform
from bot.ports import Delivery
from bot.scheduler import ReminderScheduler, TickResult
from bot.service.coach import Coach
from storage import outbox
from storage.models import OutboxMessage, Person
from tests.chat import Chat, FakeClock
from tests.integration.scheduler_support import RecordingSender, scheduler

# Onboarding happens on Monday 2027-01-04 at 09:00 in Berlin: the first reminder is Tuesday's.
TUE_0730 = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 Berlin (CET, UTC+1)
DAY = timedelta(days=1)


@dataclass
class World:
    coach: Coach
    clock: FakeClock
    sender: RecordingSender
    reminders: ReminderScheduler
    chat: Chat

    async def tick(self, at: datetime) -> TickResult:
        self.clock.now = at
        return await self.reminders.tick(at)

    async def person(self) -> Person:
        async with self.coach.sessions() as session:
            found = (await session.scalars(select(Person))).first()
            assert found is not None
            return found

    async def rows(self) -> list[OutboxMessage]:
        async with self.coach.sessions() as session:
            return list((await session.scalars(select(OutboxMessage))).all())

    def button(self, step: str, value: str, person_id: int) -> str:
        return Action("rm", step, value, person_id).encode()


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    clock = FakeClock()
    coach = await build_coach(
        Settings(database_url=database_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    sender = RecordingSender(Platform.CONSOLE, clock=clock)
    chat = Chat(coach)
    await chat.onboard()  # Berlin, 07:30
    yield World(coach, clock, sender, scheduler(coach.sessions, {Platform.CONSOLE: sender}), chat)
    await coach.close()


async def test_reminder_at_local_time_once_with_its_buttons(world: World) -> None:
    assert not await world.tick(TUE_0730 - timedelta(seconds=10))
    result = await world.tick(TUE_0730 + timedelta(seconds=20))
    assert (result.claimed, result.enqueued, result.sent) == (1, 1, 1)
    [sent] = world.sender.sent
    assert sent.ref == "u1" and sent.at == TUE_0730 + timedelta(seconds=20)
    reply = sent.replies[0]
    assert reply.private and "Floor work" in reply.text  # the phase headline
    assert [b.label for b in reply.all_buttons()] == ["Start", "Later", "Skip today"]
    # Later ticks that day send nothing more.
    assert not (await world.tick(TUE_0730 + timedelta(hours=3))).sent
    # Start opens today's routine, whose "Done" button leads into the check-in.
    await world.chat.press_payload(reply.all_buttons()[0].action)
    assert "Phase 1 of 3" in world.chat.text
    await world.chat.press("Done - check in")
    assert "DURING the routine" in world.chat.text
    [row] = await world.rows()
    assert (row.state, row.kind, row.target) == ("sent", "reminder", f"person:{row.person_id}")


async def test_later_snoozes_an_hour_and_the_next_day_is_normal(world: World) -> None:
    await world.tick(TUE_0730)
    later = world.sender.sent[0].replies[0].all_buttons()[1]
    world.clock.now = TUE_0730 + timedelta(minutes=2)
    await world.chat.press_payload(later.action)
    assert "again at 08:32" in world.chat.text and world.chat.last[0].edit
    assert not (await world.tick(TUE_0730 + timedelta(minutes=61))).sent
    result = await world.tick(TUE_0730 + timedelta(minutes=62))
    assert result.sent == 1 and "again" in world.sender.sent[-1].text
    await world.tick(TUE_0730 + DAY)
    assert len(world.sender.sent) == 3 and "Time for today's routine" in world.sender.sent[-1].text


async def test_snooze_command_before_the_reminder_replaces_it(world: World) -> None:
    world.clock.now = TUE_0730 - timedelta(minutes=30)
    await world.chat.say("/snooze 45m")
    assert "again at 07:45" in world.chat.text
    await world.chat.say("/snooze banana")
    assert "Snooze for how long" in world.chat.text
    await world.chat.say("/snooze 20h")
    assert "5 minutes to 12 hours" in world.chat.text
    assert not (await world.tick(TUE_0730)).sent  # the daily one is replaced
    assert (await world.tick(TUE_0730 + timedelta(minutes=15))).sent == 1
    assert not (await world.tick(TUE_0730 + timedelta(hours=12))).sent
    kinds = sorted(row.kind for row in await world.rows())
    assert kinds == ["snooze-0745"]


async def test_skip_today_silences_the_day_only(world: World) -> None:
    person = await world.person()
    world.clock.now = TUE_0730 - timedelta(hours=1)
    await world.chat.say("/remind evening 19:00")
    await world.chat.press_payload(world.button("skip", "today", person.id))
    assert "no more reminders today" in world.chat.text
    assert "Next one: Wed 07:30" in world.chat.text
    for hour in range(0, 20):
        await world.tick(TUE_0730 + timedelta(hours=hour))
    assert world.sender.sent == []
    await world.tick(TUE_0730 + DAY)
    assert len(world.sender.sent) == 1


async def test_pause_holds_reminders_and_they_come_back_by_themselves(world: World) -> None:
    world.clock.now = TUE_0730 - timedelta(hours=2)
    await world.chat.say("/pause 2")  # until Thursday 05:30 UTC
    for day in range(2):
        result = await world.tick(TUE_0730 + day * DAY)
        assert result.claimed == 1 and result.skipped == 1 and not result.sent
    await world.tick(TUE_0730 + 2 * DAY)
    assert len(world.sender.sent) == 1  # Thursday
    await world.chat.say("/snooze")  # after today's reminder: fine
    assert "again" in world.chat.text


async def test_safety_hold_stops_reminders_until_cleared(world: World) -> None:
    person = await world.person()
    async with world.coach.sessions() as session, session.begin():
        await session.execute(
            update(Person).where(Person.id == person.id).values(safety_hold="emergency")
        )
    assert (await world.tick(TUE_0730)).skipped == 1
    world.clock.now = TUE_0730 + timedelta(hours=1)
    await world.chat.press_payload(world.button("later", "1h", person.id))
    assert "paused" in world.chat.text
    await world.chat.press_payload(Action("clr", "ok", "yes", person.id).encode())
    assert "glad you've been checked" in world.chat.text
    await world.tick(TUE_0730 + DAY)
    assert len(world.sender.sent) == 1


async def test_only_the_chosen_weekdays(world: World) -> None:
    world.clock.now = TUE_0730 - timedelta(hours=2)
    await world.chat.say("/remind 07:30 mon,wed,fri")
    for day in range(14):
        await world.tick(TUE_0730 + day * DAY + timedelta(seconds=5))
    days = [s.at.astimezone(UTC).strftime("%a") for s in world.sender.sent if s.at]
    assert days == ["Wed", "Fri", "Mon", "Wed", "Fri", "Mon"]


async def test_no_reminder_once_checked_in_and_next_morning_asks_first(world: World) -> None:
    world.clock.now = TUE_0730 - timedelta(hours=1)
    await world.chat.say("/checkin 2 yes 6")
    assert "Logged" in world.chat.text
    result = await world.tick(TUE_0730)
    assert (result.claimed, result.skipped, result.sent) == (1, 1, 0)
    await world.tick(TUE_0730 + DAY)
    [sent] = world.sender.sent
    reply = sent.replies[0]
    assert reply.text.startswith("Good morning!") and "Time for today's routine" in reply.text
    labels = [b.label for b in reply.all_buttons()]
    assert labels[:11] == [str(n) for n in range(11)] and labels[-3:] == [
        "Start",
        "Later",
        "Skip today",
    ]
    await world.chat.say("2")  # the open question is the morning one
    assert "2/10 noted" in world.chat.text


async def test_evening_nudge_once_and_only_when_not_done(world: World) -> None:
    world.clock.now = TUE_0730 - timedelta(hours=1)
    await world.chat.say("/remind evening on")
    assert "19:00" in world.chat.text
    # Tuesday: not done, so morning reminder and one evening nudge (18:00 UTC = 19:00 Berlin).
    for minutes in range(0, 15 * 60, 30):
        await world.tick(TUE_0730 + timedelta(minutes=minutes))
    texts = [s.text for s in world.sender.sent]
    assert len(texts) == 2 and texts[1].startswith("Still time for today's routine?")
    assert [b.label for b in world.sender.sent[1].replies[0].all_buttons()] == [
        "Start",
        "Skip today",
    ]
    # Wednesday: checked in after the morning reminder, so no evening nudge.
    await world.tick(TUE_0730 + DAY)
    world.clock.now = TUE_0730 + DAY + timedelta(hours=2)
    await world.chat.say("2")  # answers the morning question asked with the reminder
    await world.chat.say("/checkin 2 yes 6")
    await world.tick(TUE_0730 + DAY + timedelta(hours=11, minutes=30))
    assert len(world.sender.sent) == 3
    await world.chat.say("/remind evening off")
    assert "No evening nudges" in world.chat.text


async def test_a_reminder_later_than_the_grace_period_is_dropped(world: World) -> None:
    result = await world.tick(TUE_0730 + timedelta(hours=2, minutes=1))  # process was down
    assert (result.claimed, result.dropped, result.sent) == (1, 1, 0)
    [row] = await world.rows()
    assert (row.state, row.last_error) == ("dropped", "late")
    await world.tick(TUE_0730 + DAY)
    assert len(world.sender.sent) == 1


async def test_retries_that_outlast_the_grace_period_are_dropped(world: World) -> None:
    world.sender.script = lambda ref, n: Delivery.RETRY
    await world.tick(TUE_0730)
    for minutes in (1, 2, 4, 8, 16, 32, 64, 128):
        await world.tick(TUE_0730 + timedelta(minutes=minutes))
    [row] = await world.rows()
    assert row.state in {"dropped", "failed"} and world.sender.sent == []
    assert row.last_error in {"late", "retries used up"}


async def test_buttons_of_someone_else_are_refused(world: World) -> None:
    person = await world.person()
    other = Chat(world.coach, user="u2")
    await other.say("/start")
    await other.press_payload(world.button("later", "1h", person.id))
    assert "someone else's" in other.text


async def test_outbox_counts(world: World) -> None:
    await world.tick(TUE_0730)
    async with world.coach.sessions() as session:
        counts = await outbox.counts(session)
    assert counts == {
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "dropped": 0,
        "unreachable": 0,
    }


async def test_skip_on_an_old_reminder_changes_nothing(world: World) -> None:
    """The reminder's "Skip today" names its own day: pressed a day later it is refused."""
    person = await world.person()
    await world.tick(TUE_0730)
    [sent] = world.sender.sent
    skip = next(
        button
        for reply in sent.replies
        for button in reply.all_buttons()
        if button.label == "Skip today"
    )
    world.clock.now = TUE_0730 + DAY - timedelta(hours=1)  # Wednesday morning
    replies = await world.chat.press_payload(skip.action)
    assert replies[0].alert and "earlier day" in replies[0].text
    assert (await world.person()).skip_date is None
    assert person.skip_date is None
    await world.tick(TUE_0730 + DAY)
    assert len(world.sender.sent) == 2  # Wednesday's reminder still comes
