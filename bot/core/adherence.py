"""Adherence as a tolerant rolling figure: planned days done, not a streak."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.reminder_plan import weekdays_of


def adherence(
    done_days: set[date], today: date, start: date, days_mask: int, window: int = 14
) -> tuple[int, int]:
    """Sessions done on planned days over the last `window` days (14; the weekly summary uses
    7): tolerant of one missed day, unlike a streak. Planned days are the reminder weekdays
    since the person started."""
    planned = 0
    done = 0
    wanted = weekdays_of(days_mask)
    for offset in range(window):
        day = today - timedelta(days=offset)
        if day < start:
            break
        if day.weekday() in wanted:
            planned += 1
            done += day in done_days
    return done, planned
