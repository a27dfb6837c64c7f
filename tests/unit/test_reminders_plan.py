"""The reminder plan (pure): which reminder fires next, across DST, snooze, skip and evening."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.reminder_plan import (
    Fire,
    Kind,
    ReminderState,
    after_firing,
    explain,
    fires_between,
    plan_next,
    weekdays_of,
)
from bot.core.schedule import fire_instant, local_day
from bot.service.reminders import read_duration


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def berlin(at: str = "07:30", **extra: object) -> ReminderState:
    hour, minute = map(int, at.split(":"))
    return ReminderState(zone="Europe/Berlin", remind_time=time(hour, minute), **extra)  # type: ignore[arg-type]


def test_daily_then_next_day() -> None:
    fire = plan_next(berlin(), utc(2027, 1, 4, 8))
    assert fire == Fire(utc(2027, 1, 5, 6, 30), Kind.REMINDER, date(2027, 1, 5))


def test_off_means_nothing_not_even_a_snooze() -> None:
    state = ReminderState(zone="UTC", remind_time=None, snoozed_until=utc(2027, 1, 1))
    assert plan_next(state, utc(2027, 1, 1)) is None


@pytest.mark.parametrize(
    ("zone", "at", "day", "expected", "note"),
    [
        # Spring forward: the wall time does not exist, it fires when the clocks jump.
        ("Europe/Berlin", "02:30", date(2027, 3, 28), utc(2027, 3, 28, 1, 0), "forward"),
        ("America/New_York", "02:30", date(2027, 3, 14), utc(2027, 3, 14, 7, 0), "forward"),
        ("Australia/Lord_Howe", "02:15", date(2027, 10, 3), utc(2027, 10, 2, 15, 30), "forward"),
        ("Pacific/Chatham", "02:50", date(2027, 9, 26), utc(2027, 9, 25, 14, 0), "forward"),
        # Fall back: the wall time happens twice, the first one counts.
        ("Europe/Berlin", "02:30", date(2027, 10, 31), utc(2027, 10, 31, 0, 30), "twice"),
        ("America/New_York", "01:30", date(2027, 11, 7), utc(2027, 11, 7, 5, 30), "twice"),
        ("Australia/Lord_Howe", "01:45", date(2027, 4, 4), utc(2027, 4, 3, 14, 45), "twice"),
        ("Pacific/Chatham", "03:00", date(2027, 4, 4), utc(2027, 4, 3, 13, 15), "twice"),
        ("Asia/Kolkata", "06:45", date(2027, 3, 28), utc(2027, 3, 28, 1, 15), ""),
    ],
)
def test_dst_days_fire_once_at_the_right_instant(
    zone: str, at: str, day: date, expected: datetime, note: str
) -> None:
    hour, minute = map(int, at.split(":"))
    state = ReminderState(zone=zone, remind_time=time(hour, minute))
    start = fire_instant(day - timedelta(days=1), time(12), zone)
    fires = fires_between(state, start, start + timedelta(days=2))
    on_day = [fire for fire in fires if fire.local_date == day]
    assert [fire.at for fire in on_day] == [expected]
    assert local_day(expected, zone) == day
    reason = explain(on_day[0], state)
    assert ("clocks go forward" in reason) == (note == "forward")
    assert ("happens twice" in reason) == (note == "twice")


def test_weekdays_and_empty_mask() -> None:
    state = berlin(weekdays=weekdays_of(0b0010101))  # Mon, Wed, Fri
    fires = fires_between(state, utc(2027, 1, 4), utc(2027, 1, 18))
    assert [f.local_date.strftime("%a") for f in fires] == ["Mon", "Wed", "Fri"] * 2
    assert weekdays_of(0) == frozenset(range(7))


def test_snooze_comes_first_and_is_cleared_once_fired() -> None:
    state = berlin(snoozed_until=utc(2027, 1, 4, 9), reminded_on=date(2027, 1, 4))
    fire = plan_next(state, utc(2027, 1, 4, 8))
    assert fire is not None and (fire.kind, fire.at) == (Kind.SNOOZE, utc(2027, 1, 4, 9))
    state = after_firing(state, fire)
    assert state.snoozed_until is None
    assert plan_next(state, fire.at) == Fire(
        utc(2027, 1, 5, 6, 30), Kind.REMINDER, date(2027, 1, 5)
    )


def test_a_snooze_already_due_still_fires() -> None:
    state = berlin(snoozed_until=utc(2027, 1, 4, 9))
    fire = plan_next(state, utc(2027, 1, 4, 10))
    assert fire is not None and fire.kind is Kind.SNOOZE


def test_reminded_today_means_a_later_time_today_waits_for_tomorrow() -> None:
    state = berlin("09:00", reminded_on=date(2027, 1, 4))
    fire = plan_next(state, utc(2027, 1, 4, 7))  # 08:00 in Berlin, 09:00 still ahead
    assert fire is not None and fire.local_date == date(2027, 1, 5)


def test_skip_date_silences_daily_and_evening() -> None:
    state = berlin(evening_time=time(19), skip_date=date(2027, 1, 4))
    fires = fires_between(state, utc(2027, 1, 4), utc(2027, 1, 5, 23))
    assert [(f.kind, f.local_date.day) for f in fires] == [(Kind.REMINDER, 5), (Kind.EVENING, 5)]


def test_evening_nudge_at_most_once_a_day_across_dst() -> None:
    state = berlin(evening_time=time(19))
    fires = fires_between(state, utc(2027, 3, 20), utc(2027, 4, 5))
    evenings = [f.local_date for f in fires if f.kind is Kind.EVENING]
    assert len(evenings) == len(set(evenings)) == 16


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("", 60), ("1h", 60), ("30m", 30), ("90", 90), ("1h30m", 90), ("2 hours", 120)],
)
def test_snooze_durations(text: str, minutes: int) -> None:
    assert read_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["banana", "0m", "2m", "13h", "h", "-1h"])
def test_snooze_durations_refused(text: str) -> None:
    with pytest.raises(ValueError):
        read_duration(text)


YEAR_TABLE = [
    ("Europe/Berlin", "02:30"),
    ("America/New_York", "02:30"),
    ("America/New_York", "01:30"),
    ("Australia/Lord_Howe", "02:15"),
    ("Australia/Lord_Howe", "01:45"),
    ("Asia/Kolkata", "06:45"),
    ("Pacific/Chatham", "02:50"),
    ("Pacific/Chatham", "03:00"),
]


@pytest.mark.parametrize(("zone", "at"), YEAR_TABLE)
def test_every_local_day_of_2027_exactly_once(zone: str, at: str) -> None:
    hour, minute = map(int, at.split(":"))
    state = ReminderState(zone=zone, remind_time=time(hour, minute))
    fires = fires_between(state, utc(2026, 12, 31, 12), utc(2028, 1, 1, 12))
    days = [fire.local_date for fire in fires if fire.local_date.year == 2027]
    assert days == [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    for fire in fires:
        assert fire.at == fire_instant(fire.local_date, time(hour, minute), zone)
