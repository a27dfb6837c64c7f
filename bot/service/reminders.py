"""A person's reminders: daily time, zone, weekdays, snooze, skip, the optional evening nudge,
and the next instant one fires.

The maths is in `bot.core.reminder_plan` (pure); here it is applied to a person in a turn. What a
reminder says is rendered for the scheduler in `bot.service.reminder_message`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Protocol

from bot.core.messages import Reply
from bot.core.numbers import ascii_digits, whole_number
from bot.core.reminder_plan import ReminderState, hhmm, plan_next, weekdays_of
from bot.core.schedule import fire_instant, local_day, parse_hhmm
from bot.core.timezones import UnknownZone, parse_zone
from bot.service import reminder_message, safety
from bot.service.reminder_message import LATER, SKIP
from bot.service.turn import Turn

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVERY_DAY = 0b1111111

DEFAULT_SNOOZE = timedelta(hours=1)
MIN_SNOOZE = timedelta(minutes=5)
MAX_SNOOZE = timedelta(hours=12)
DEFAULT_EVENING = time(19, 0)

_DURATION = re.compile(
    r"^(?:(?P<h>\d{1,2})\s*h(?:ours?|rs?)?)?\s*(?:(?P<m>\d{1,3})\s*m(?:in(?:utes?|s)?)?)?$",
    re.ASCII,
)


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


def days_problem(words: list[str]) -> str | None:
    """Why the days in `/remind 07:30 [zone] DAYS` were not understood, when the words after the
    time are no zone and their last one was meant as days ("funday", "mon,wen", or a known zone
    followed by a bad day list); None when they read as a mistyped zone."""
    *zone, last = words
    meant = "," in last or last.lower().endswith(("day", "days", "end", "ends"))
    if zone and not meant:
        try:
            parse_zone(" ".join(zone))
            meant = True
        except UnknownZone:
            meant = False
    if not meant:
        return None
    try:
        read_days(last)
    except ValueError as error:
        return f"{error} Example: /remind 07:30 Europe/Berlin mon,wed,fri"
    return None  # pragma: no cover - the coach asks only after read_days refused `last`


class ReminderFields(Protocol):
    """A person's reminder settings: a `Person`, or a row of the scheduler's due query."""

    @property
    def timezone(self) -> str | None: ...
    @property
    def remind_enabled(self) -> bool: ...
    @property
    def remind_time(self) -> str | None: ...
    @property
    def remind_days(self) -> int: ...
    @property
    def evening_time(self) -> str | None: ...
    @property
    def snoozed_until(self) -> datetime | None: ...
    @property
    def reminded_on(self) -> date | None: ...
    @property
    def skip_date(self) -> date | None: ...


def person_state(person: ReminderFields, *, with_skip: bool = True) -> ReminderState:
    return ReminderState(
        zone=person.timezone or "UTC",
        remind_time=hhmm(person.remind_time) if person.remind_enabled else None,
        weekdays=weekdays_of(person.remind_days),
        evening_time=hhmm(person.evening_time),
        snoozed_until=person.snoozed_until,
        reminded_on=person.reminded_on,
        skip_date=person.skip_date if with_skip else None,
    )


# Settings ------------------------------------------------------------------------------------


def set_time(turn: Turn, at: time, days: int | None = None) -> None:
    person = turn.person
    person.remind_time = at.strftime("%H:%M")
    person.remind_enabled = True
    if days is not None:
        person.remind_days = days
    reschedule(turn)


def turn_off(turn: Turn) -> None:
    person = turn.person
    person.remind_enabled = False
    person.snoozed_until = None
    person.next_fire_utc = None
    person.next_fire_kind = None


def reschedule(turn: Turn) -> None:
    """Store the next instant one of the person's reminders fires (after any settings change)."""
    person = turn.person
    fire = plan_next(person_state(person), turn.now)
    person.next_fire_utc = fire.at if fire else None
    person.next_fire_kind = fire.kind.value if fire else None


def describe(turn: Turn) -> str:
    person = turn.person
    if not person.remind_enabled or not person.remind_time:
        return "Daily reminders are off (turn them on with /remind 07:30)."
    days = (
        "every day"
        if person.remind_days == EVERY_DAY
        else ", ".join(name for i, name in enumerate(DAY_NAMES) if person.remind_days >> i & 1)
    )
    text = f"I'll remind you at {person.remind_time} ({person.timezone or 'UTC'}), {days}."
    if person.evening_time:
        text += (
            f" If you haven't checked in by {person.evening_time}, one evening nudge "
            "(/remind evening off to stop it)."
        )
    if person.snoozed_until is not None and person.snoozed_until > turn.now:
        text += f" Snoozed until {person.snoozed_until.astimezone(turn.zone):%H:%M}."
    return text


def set_evening(turn: Turn, words: list[str]) -> str:
    """`/remind evening on|off|HH:MM`: at most one evening nudge a day, only when not done."""
    person = turn.person
    choice = " ".join(words).strip().lower()
    if choice in {"off", "no", "stop"}:
        person.evening_time = None
        reschedule(turn)
        return "No evening nudges. " + describe(turn)
    if choice in {"", "on", "yes"}:
        at = DEFAULT_EVENING
    else:
        try:
            at = parse_hhmm(choice)
        except ValueError as error:
            return f"{error}. Example: /remind evening 19:30, or /remind evening off"
    person.evening_time = at.strftime("%H:%M")
    if not person.remind_enabled or not person.remind_time:
        reschedule(turn)
        return (
            f"Evening nudge set for {person.evening_time}; it comes with your daily reminder, "
            "which is off: /remind 07:30 turns it on."
        )
    reschedule(turn)
    return describe(turn)


# Snooze and skip -----------------------------------------------------------------------------


def read_duration(text: str) -> timedelta:
    """ "1h", "30m", "90", "1h30m", "2 hours", "" (the default hour)."""
    if not text.strip():
        return DEFAULT_SNOOZE
    out_of_range = ValueError("Snooze for 5 minutes to 12 hours, e.g. /snooze 30m or /snooze 1h")
    value = ascii_digits(text.strip().lower()) or ""
    if value.isascii() and value.isdigit():
        minutes = whole_number(value, max_digits=4)
        if minutes is None:  # a very long number: far more than 12 hours
            raise out_of_range
        delta = timedelta(minutes=minutes)
    else:
        match = _DURATION.match(value)
        if match is None or not (match["h"] or match["m"]):
            raise ValueError("Snooze for how long? e.g. /snooze 30m or /snooze 1h")
        delta = timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
    if not MIN_SNOOZE <= delta <= MAX_SNOOZE:
        raise out_of_range
    return delta


async def _done_today(turn: Turn) -> bool:
    rows = await turn.uow.checkins.completed(turn.person.id, since=turn.today)
    return any(row.local_date == turn.today for row in rows)


async def _not_now(turn: Turn) -> str | None:
    person = turn.person
    if not person.remind_enabled or not person.remind_time:
        return "Your reminders are off. /remind 07:30 turns them on."
    if person.safety_hold or safety.is_paused(turn):
        return "Your reminders are paused, so there is nothing to snooze."
    if await _done_today(turn):
        return "You've already checked in today, so no more reminders today. Nice work."
    return None


async def snooze(turn: Turn, delta: timedelta = DEFAULT_SNOOZE) -> str:
    """Push today's reminder back: it comes at now + delta (instead of the daily one when that
    has not gone out yet)."""
    problem = await _not_now(turn)
    if problem is not None:
        return problem
    person = turn.person
    until = turn.now + delta
    state = person_state(person)
    today = turn.today
    if (
        state.remind_time is not None
        and (person.reminded_on is None or person.reminded_on < today)
        and today.weekday() in state.weekdays
        and fire_instant(today, state.remind_time, state.zone) > turn.now
    ):
        person.reminded_on = today  # the snooze stands in for today's reminder
    if person.skip_date is not None and person.skip_date == local_day(until, state.zone):
        person.skip_date = None  # "Later" after "Skip today": they changed their mind
    person.snoozed_until = until
    reschedule(turn)
    return f"OK, I'll remind you again at {until.astimezone(turn.zone):%H:%M}."


async def snooze_command(turn: Turn, args: str) -> list[Reply]:
    """`/snooze [1h|30m]`."""
    try:
        delta = read_duration(args)
    except ValueError as error:
        return [turn.private(str(error))]
    return [turn.private(await snooze(turn, delta))]


def skip_today(turn: Turn) -> str:
    person = turn.person
    today = turn.today
    person.skip_date = today
    zone = person.timezone or "UTC"
    if person.snoozed_until is not None and local_day(person.snoozed_until, zone) <= today:
        person.snoozed_until = None
    reschedule(turn)
    if person.next_fire_utc is None:
        return "OK, no more reminders today."
    when = person.next_fire_utc.astimezone(turn.zone)
    return f"OK, no more reminders today. Next one: {when:%a %H:%M}."


async def pressed(turn: Turn, step: str, value: str) -> list[Reply]:
    """The "Later" and "Skip today" buttons of a reminder ("Start" opens the routine in Coach)."""
    if step == LATER:
        try:
            delta = read_duration(value)
        except ValueError:  # the coach only sends readable ones: a client made this up
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        return [turn.private(await snooze(turn, delta), edit=True)]
    if step == SKIP:
        if value != reminder_message.skip_value(turn.today) and value != "today":
            return [
                Reply(
                    "That reminder was for an earlier day, so nothing changed.",
                    alert=True,
                    private=True,
                )
            ]
        return [turn.private(skip_today(turn), edit=True)]
    return [Reply("That button isn't valid any more.", alert=True, private=True)]
