"""Adherence as a tolerant rolling figure: planned days done, not a streak."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import date, timedelta

from bot.core.reminder_plan import weekdays_of


def adherence(
    done_days: set[date],
    today: date,
    start: date,
    days_mask: int,
    window: int = 14,
    paused: Set[date] = frozenset(),
) -> tuple[int, int]:
    """Sessions done on planned days over the last `window` days (14; the weekly summary uses
    7): tolerant of one missed day, unlike a streak. Planned days are the reminder weekdays
    since the person started, except days paused or on hold."""
    planned = 0
    done = 0
    wanted = weekdays_of(days_mask)
    for offset in range(window):
        day = today - timedelta(days=offset)
        if day < start:
            break
        if day.weekday() in wanted and day not in paused:
            planned += 1
            done += day in done_days
    return done, planned


def paused_days(spans: Iterable[tuple[date, date | None]], first: date, last: date) -> set[date]:
    """The days from `first` to `last` covered by pauses, each span from its first day up to,
    not including, the day it ended (None: still going)."""
    days: set[date] = set()
    for begin, end in spans:
        day = max(begin, first)
        stop = last if end is None else min(last, end - timedelta(days=1))
        while day <= stop:
            days.add(day)
            day += timedelta(days=1)
    return days
