"""A year of reminders through the scheduler, across both DST changes of 2027 in several zones:
exactly one reminder per local day, at the right instant. The tick is driven by a fake clock
that jumps to the next due reminder (plus a little lateness, as a real tick would have)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform
from bot.core.reminder_plan import weekdays_of
from bot.core.schedule import fire_instant, local_day
from storage import db
from storage.models import Person
from tests.integration.scheduler_support import PersonSpec, RecordingSender, add_people, scheduler

TICK = timedelta(seconds=30)

# (zone, local time, weekday mask); the comments name the 2027 day that makes each one hard.
TABLE = [
    ("Europe/Berlin", "07:30", 0b1111111),
    ("Europe/Berlin", "02:30", 0b1111111),  # 28 Mar: does not exist; 31 Oct: happens twice
    ("Europe/Berlin", "18:00", 0b0010101),  # Mon, Wed, Fri only
    ("America/New_York", "02:30", 0b1111111),  # 14 Mar: does not exist
    ("America/New_York", "01:30", 0b1111111),  # 7 Nov: happens twice
    ("Australia/Lord_Howe", "02:15", 0b1111111),  # 3 Oct: does not exist (30-minute shift)
    ("Australia/Lord_Howe", "01:45", 0b1111111),  # 4 Apr: happens twice
    ("Asia/Kolkata", "06:45", 0b1111111),  # no DST at all
    ("Pacific/Chatham", "02:50", 0b1111111),  # 26 Sep: does not exist (02:45 -> 03:45)
    ("Pacific/Chatham", "03:00", 0b1111111),  # 4 Apr: happens twice (03:45 -> 02:45)
]

KNOWN = {  # hand-checked instants on the hard days
    ("Europe/Berlin", "02:30", date(2027, 3, 28)): datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    ("Europe/Berlin", "02:30", date(2027, 10, 31)): datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
    ("America/New_York", "02:30", date(2027, 3, 14)): datetime(2027, 3, 14, 7, 0, tzinfo=UTC),
    ("America/New_York", "01:30", date(2027, 11, 7)): datetime(2027, 11, 7, 5, 30, tzinfo=UTC),
    ("Australia/Lord_Howe", "02:15", date(2027, 10, 3)): datetime(2027, 10, 2, 15, 30, tzinfo=UTC),
    ("Australia/Lord_Howe", "01:45", date(2027, 4, 4)): datetime(2027, 4, 3, 14, 45, tzinfo=UTC),
    ("Pacific/Chatham", "02:50", date(2027, 9, 26)): datetime(2027, 9, 25, 14, 0, tzinfo=UTC),
    ("Pacific/Chatham", "03:00", date(2027, 4, 4)): datetime(2027, 4, 3, 13, 15, tzinfo=UTC),
}

# The weeks around both changes of 2027 in every zone of the table (the plan itself is checked
# for every day of the year in tests/unit/test_reminders_plan.py, without a database).
WINDOWS = [
    (datetime(2027, 3, 7, 12, 0, tzinfo=UTC), datetime(2027, 4, 10, 12, 0, tzinfo=UTC)),
    (datetime(2027, 9, 22, 12, 0, tzinfo=UTC), datetime(2027, 11, 10, 12, 0, tzinfo=UTC)),
]


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(sqlite_url)
    await db.upgrade(engine)
    yield db.sessionmaker(engine)
    await engine.dispose()


async def test_one_reminder_per_local_day_across_both_dst_changes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    specs = [PersonSpec(zone=z, at=t, days=d) for z, t, d in TABLE]
    ids = await add_people(sessions, specs, WINDOWS[0][0])
    now = WINDOWS[0][0]
    sender = RecordingSender(Platform.TELEGRAM, clock=lambda: now)
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender})
    jitter = random.Random(2027)
    ticks = 0
    for begin, end in WINDOWS:
        now = begin
        missed = await reminders.tick(now)  # the months in between: dropped, not sent
        assert missed.sent == 0
        while True:
            async with sessions() as session:
                due = await session.scalar(select(func.min(Person.next_fire_utc)))
            assert due is not None
            if due > end:
                break
            now = due + timedelta(seconds=jitter.choice([0, 1, 7, 29]))
            result = await reminders.tick(now)
            assert result.sent >= 1 and result.dropped == 0
            ticks += 1

    by_person: dict[str, list[datetime]] = defaultdict(list)
    for sent in sender.sent:
        assert sent.at is not None
        by_person[sent.ref].append(sent.at)
    checked_known = 0
    for person_id, (zone, at, mask) in zip(ids, TABLE, strict=True):
        hour, minute = map(int, at.split(":"))
        wanted = weekdays_of(mask)
        times = by_person[str(person_id)]
        days = [local_day(t, zone) for t in times]
        assert len(days) == len(set(days)), f"{zone} {at}: two reminders on one local day"
        expected_days: list[date] = []
        for begin, end in WINDOWS:
            first = local_day(begin, zone) + timedelta(days=1)
            last = local_day(end, zone) - timedelta(days=1)
            expected_days += [
                first + timedelta(days=n)
                for n in range((last - first).days + 1)
                if (first + timedelta(days=n)).weekday() in wanted
            ]
        inside = [d for d in days if d in set(expected_days)]
        assert inside == expected_days, f"{zone} {at}: a local day missed or out of order"
        for sent_at, day in zip(times, days, strict=True):
            exact = fire_instant(day, time(hour, minute), zone)
            assert timedelta(0) <= sent_at - exact < TICK, (zone, at, day, sent_at, exact)
            known = KNOWN.get((zone, at, day))
            if known is not None:
                assert exact == known
                checked_known += 1
    assert checked_known == len(KNOWN)
    assert ticks < 900  # one tick per distinct instant, not one job per person
