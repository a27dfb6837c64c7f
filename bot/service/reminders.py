"""A person's daily reminder settings: time, zone, weekdays, and the next instant it fires."""

from __future__ import annotations

from datetime import time

from bot.core.schedule import next_fire_utc
from bot.service.turn import Turn

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVERY_DAY = 0b1111111


def weekdays(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask >> day & 1)


def read_days(text: str) -> int:
    """ "daily", "weekdays", "weekends" or "mon,wed,fri" as a bit mask (bit 0 = Monday)."""
    value = text.strip().lower()
    named = {
        "daily": EVERY_DAY,
        "everyday": EVERY_DAY,
        "weekdays": 0b0011111,
        "weekends": 0b1100000,
    }
    if value in named:
        return named[value]
    mask = 0
    for part in value.replace(" ", ",").split(","):
        if not part:
            continue
        key = part[:3].capitalize()
        if key not in DAY_NAMES:
            raise ValueError(f"'{part[:12]}' is not a day. Use e.g. mon,wed,fri or weekdays.")
        mask |= 1 << DAY_NAMES.index(key)
    if not mask:
        raise ValueError("Name at least one day, e.g. mon,wed,fri.")
    return mask


def set_time(turn: Turn, at: time, days: int | None = None) -> None:
    person = turn.person
    person.remind_time = at.strftime("%H:%M")
    person.remind_enabled = True
    if days is not None:
        person.remind_days = days
    reschedule(turn)


def turn_off(turn: Turn) -> None:
    turn.person.remind_enabled = False
    turn.person.next_fire_utc = None


def reschedule(turn: Turn) -> None:
    person = turn.person
    if not person.remind_enabled or not person.remind_time:
        person.next_fire_utc = None
        return
    hour, minute = (int(part) for part in person.remind_time.split(":"))
    person.next_fire_utc = next_fire_utc(
        local_time=time(hour, minute),
        zone=person.timezone or "UTC",
        after_utc=turn.now,
        weekdays=weekdays(person.remind_days),
    )


def describe(turn: Turn) -> str:
    person = turn.person
    if not person.remind_enabled or not person.remind_time:
        return "Daily reminders are off (turn them on with /remind 07:30)."
    days = (
        "every day"
        if person.remind_days == EVERY_DAY
        else ", ".join(name for i, name in enumerate(DAY_NAMES) if person.remind_days >> i & 1)
    )
    return f"I'll remind you at {person.remind_time} ({person.timezone or 'UTC'}), {days}."
