"""Reminder settings, snooze and skip, on fakes of the storage port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.messages import Reply
from bot.core.reminder_plan import Kind
from bot.service import reminder_message
from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import Tables


def a_reminder(person_id: int, clock: FakeClock) -> Reply:
    day = clock.now.date()  # 09:00 in Berlin: the same local day
    return Reply(
        "Time for today's routine",
        buttons=(reminder_message.reminder_buttons(person_id, Kind.REMINDER, day),),
    )


async def test_remind_sets_time_days_and_the_next_fire(chat: Chat, tables: Tables) -> None:
    await chat.onboard()  # Monday 09:00 in Berlin
    await chat.say("/remind 18:00 weekdays")
    person = tables.people[0]
    assert (person.remind_time, person.remind_days, person.remind_enabled) == (
        "18:00",
        0b0011111,
        True,
    )
    assert person.next_fire_utc == datetime(2027, 1, 4, 17, 0, tzinfo=UTC)  # today 18:00 CET


async def test_remind_off_and_a_bad_time(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    person = tables.people[0]
    await chat.say("/remind 25:00")
    assert "Example: /remind 07:30" in chat.text and person.remind_time == "07:30"
    await chat.say("/remind off")
    assert not person.remind_enabled and person.next_fire_utc is None


async def test_snooze_pushes_the_reminder_back(
    chat: Chat, tables: Tables, clock: FakeClock
) -> None:
    await chat.onboard()
    await chat.say("/snooze 45m")
    assert "again at 09:45" in chat.text
    person = tables.people[0]
    assert person.snoozed_until == clock.now + timedelta(minutes=45)
    assert person.next_fire_utc == person.snoozed_until
    await chat.say("/snooze banana")
    assert "Snooze for how long" in chat.text
    assert person.snoozed_until == clock.now + timedelta(minutes=45)


async def test_skip_today_from_the_reminders_button(
    chat: Chat, tables: Tables, clock: FakeClock
) -> None:
    await chat.onboard()
    person = tables.people[0]
    chat.last = [a_reminder(person.id, clock)]
    await chat.press("Skip today")
    assert "no more reminders today" in chat.text
    assert person.skip_date == clock.now.date()


async def test_a_reminders_start_opens_the_routine(
    chat: Chat, tables: Tables, clock: FakeClock
) -> None:
    await chat.onboard()
    chat.last = [a_reminder(tables.people[0].id, clock)]
    await chat.press("Start")
    assert "Phase 1 of 3" in chat.text


async def test_someone_elses_reminder_button_changes_nothing(
    chat: Chat, tables: Tables, clock: FakeClock
) -> None:
    await chat.onboard()
    other = Chat(chat.coach, user="u2")
    await other.onboard()
    chat.last = [a_reminder(tables.people[1].id, clock)]
    await chat.press("Later")
    assert "someone else's" in chat.text
    assert all(p.snoozed_until is None for p in tables.people)
