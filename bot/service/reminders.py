"""A person's reminders: daily time, zone, weekdays, snooze, skip, the optional evening nudge,
the next instant one fires, and what a reminder says.

The maths is in `bot.core.reminder_plan` (pure); here it is applied to a person in a turn, and
the reminder message is rendered for the scheduler (`bot.scheduler`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol

from bot.core import flows
from bot.core.actions import Action
from bot.core.content import Library
from bot.core.messages import Button, Reply
from bot.core.numbers import ascii_digits, whole_number
from bot.core.reminder_plan import Kind, ReminderState, hhmm, plan_next, weekdays_of
from bot.core.schedule import fire_instant, local_day, parse_hhmm
from bot.core.texts import phase_headline
from bot.core.timezones import UnknownZone, parse_zone
from bot.service import safety
from bot.service.turn import Turn

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVERY_DAY = 0b1111111

FLOW = flows.REMINDER  # Action(FLOW, step, value, person id)
START, LATER, SKIP = "start", "later", "skip"
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
        if value != skip_value(turn.today) and value != "today":
            return [
                Reply(
                    "That reminder was for an earlier day, so nothing changed.",
                    alert=True,
                    private=True,
                )
            ]
        return [turn.private(skip_today(turn), edit=True)]
    return [Reply("That button isn't valid any more.", alert=True, private=True)]


# What a reminder says ------------------------------------------------------------------------


_BUTTONS = (("Start", START, "1"), ("Later", LATER, "1h"), ("Skip today", SKIP, "today"))


def skip_value(day: date | None) -> str:
    return f"d{day:%Y%m%d}" if day is not None else "today"


@lru_cache(maxsize=64)
def _templates(kind: Kind, day: date | None = None) -> tuple[tuple[str, str], ...]:
    # (label, payload without the person id): Action.encode checks the shape once per kind, and
    # a fan-out only appends each person's id (digits keep it a valid payload, far under 64 B).
    chosen = [b for b in _BUTTONS if not (kind is Kind.EVENING and b[1] == LATER)]
    return tuple(
        (label, Action(FLOW, step, skip_value(day) if step == SKIP else value, 0).encode()[:-1])
        for label, step, value in chosen
    )


def reminder_buttons(person_id: int, kind: Kind, day: date | None = None) -> tuple[Button, ...]:
    """Start / Later / Skip today (the evening nudge has no Later). "Skip today" names the
    local day it was sent for, so pressing it on an old reminder cannot silence a later day."""
    ref = str(int(person_id))
    return tuple(Button(label, prefix + ref) for label, prefix in _templates(kind, day))


_TEXTS: dict[tuple[int, str, int, bool, Kind], tuple[Library, str]] = {}


def reminder_text(
    library: Library, program_id: str, phase_index: int, lighter: bool, kind: Kind
) -> str:
    key = (id(library), program_id, phase_index, lighter, kind)
    cached = _TEXTS.get(key)
    if cached is not None and cached[0] is library:
        return cached[1]
    text = _reminder_text(library, program_id, phase_index, lighter, kind)
    if len(_TEXTS) > 1024:
        _TEXTS.clear()
    _TEXTS[key] = (library, text)
    return text


def _reminder_text(
    library: Library, program_id: str, phase_index: int, lighter: bool, kind: Kind
) -> str:
    phase = library.program_of(program_id).phase_at(phase_index)
    headline = phase_headline(library, phase, lighter)  # the minutes of today's dose
    dose = " Lighter dose today." if lighter else ""
    if kind is Kind.EVENING:
        return f"Still time for today's routine? {headline}.{dose}"
    if kind is Kind.SNOOZE:
        return f"Here's your reminder again. Today: {headline}.{dose}"
    return f"Time for today's routine: {headline}.{dose}"


def reminder_reply(
    library: Library,
    *,
    person_id: int,
    program_id: str,
    phase_index: int,
    lighter: bool,
    kind: Kind,
    morning: Reply | None = None,
    day: date | None = None,
) -> Reply:
    """The reminder message; with `morning` (the next-morning pain question from
    `morning_question.ask_morning`) that question comes first, in the same message."""
    text = reminder_text(library, program_id, phase_index, lighter, kind)
    row = reminder_buttons(person_id, kind, day)
    if morning is None:
        return Reply(text, buttons=(row,), private=True, title="Reminder")
    return Reply(
        f"{morning.text}\n\n{text}",
        buttons=(*morning.buttons, row),
        private=True,
        title="Reminder",
    )


def reminder_payload(
    library: Library,
    *,
    person_id: int,
    program_id: str,
    phase_index: int,
    lighter: bool,
    kind: Kind,
    morning: Reply | None = None,
    day: date | None = None,
) -> dict[str, Any]:
    """`reply_to_json(reminder_reply(...))`, without building the Reply on the common path
    (a fan-out renders many thousands of these)."""
    if morning is not None:
        return reply_to_json(
            reminder_reply(
                library,
                person_id=person_id,
                program_id=program_id,
                phase_index=phase_index,
                lighter=lighter,
                kind=kind,
                morning=morning,
                day=day,
            )
        )
    ref = str(int(person_id))
    return {
        "text": reminder_text(library, program_id, phase_index, lighter, kind),
        "private": True,
        "buttons": [[[label, prefix + ref] for label, prefix in _templates(kind, day)]],
        "title": "Reminder",
    }


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"text": reply.text, "private": reply.private}
    if reply.buttons:
        data["buttons"] = [[[b.label, b.action] for b in row] for row in reply.buttons]
    if reply.title:
        data["title"] = reply.title
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    buttons = tuple(
        tuple(Button(str(label), str(action)) for label, action in row)
        for row in data.get("buttons", ())
    )
    return Reply(
        str(data["text"]),
        buttons=buttons,
        private=bool(data.get("private", False)),
        title=data.get("title"),
    )
