"""The weekly summary (opt-in, `/summary on [day]`): the 8-week chart, this week's sessions and
adherence, and one sentence of what to aim for next week.

It rides on the daily reminder: when the scheduler claims one of the person's reminders (the
daily one, a snooze standing in for it, or the evening nudge) on a local date whose weekday is
their `summary_day`, it also writes one outbox row of kind "weekly" in the same transaction. The
outbox key (person, "weekly", local date) makes that exactly once per week, whichever fire of
the day wrote it first and however many processes claim. No reminder that day (the weekday is
not one of their reminder days, or reminders are off), "Skip today", a pause or a safety hold:
no summary that week. Checked in before the reminder: the summary still comes.

The claim only stores a small marker (`payload`); the chart is drawn when the row is sent
(`weekly_replies`, in a worker thread), so a fan-out to many people stays cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_CHARTS
from bot.core.adherence import adherence
from bot.core.content import Library, Program
from bot.core.messages import Reply
from bot.core.progression import Session, calm_run
from bot.core.reminder_plan import weekdays_of
from bot.service import decision, safety
from bot.service.turn import Turn
from bot.storage_port import Storage
from storage.models import CheckIn, Person

DEFAULT_DAY = 6  # Sunday
WEEK_DAYS = 7
CHART_DAYS = 56
DAY_WORDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PLURAL_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
USAGE = "/summary on [day] (e.g. /summary on sun), or /summary off"
TITLE = "Your week"

_MARK = "weekly"  # the outbox payload is a marker: the summary is rendered when it is sent


# The outbox marker --------------------------------------------------------------------------------


def payload(person_id: int) -> list[dict[str, Any]]:
    """What the claim stores for a summary: who it is for, nothing rendered yet."""
    return [{"render": _MARK, "person": int(person_id)}]


def marked_person(items: Sequence[dict[str, Any]]) -> int | None:
    """The person of a summary marker, or None when the payload is an ordinary message."""
    if len(items) == 1 and items[0].get("render") == _MARK:
        person = items[0].get("person")
        return person if isinstance(person, int) else None
    return None


def due(summary_day: int | None, local_date: date) -> bool:
    """Does a reminder on `local_date` carry the summary?"""
    return summary_day is not None and local_date.weekday() == summary_day


def default_charts_dir() -> Path:
    """The folder the coach draws /progress charts into unless told otherwise (settings)."""
    return DEFAULT_CHARTS


# /summary -----------------------------------------------------------------------------------------


def read_day(text: str) -> int:
    """ "sun", "Sunday", "tues", "thurs"... as 0 (Monday) to 6 (Sunday)."""
    word = text.strip().lower().rstrip(".")
    if len(word) >= 3:
        for index, name in enumerate(DAY_WORDS):
            if name.startswith(word):
                return index
    raise ValueError(
        f"'{text.strip()[:12]}' is not a day. Use mon, tue, wed, thu, fri, sat or sun "
        "(or the full name), e.g. /summary on sun."
    )


async def command(turn: Turn, args: str) -> list[Reply]:
    """`/summary` shows the setting, `/summary on [day]` (Sunday by default), `/summary off`."""
    words = args.split()
    person = turn.person
    if not words:
        return [turn.private(describe(turn) + f"\nChange it with {USAGE}.")]
    choice, rest = words[0].lower(), words[1:]
    if choice == "off":
        if rest:
            return [turn.private(f"Just /summary off, please. Or {USAGE}.")]
        person.summary_day = None
        return [turn.private("Weekly summary off. /summary on turns it back on.")]
    if choice != "on":  # "/summary sun" means "/summary on sun"
        try:
            read_day(choice)
        except ValueError:
            return [turn.private(f"I didn't catch that. Use {USAGE}.")]
        rest = words
    if len(rest) > 1:
        return [turn.private(f"One day only, please: {USAGE}.")]
    try:
        day = read_day(rest[0]) if rest else DEFAULT_DAY
    except ValueError as error:
        return [turn.private(str(error))]
    person.summary_day = day
    return [
        turn.private(
            f"Weekly summary on: {PLURAL_DAYS[day]}, with your daily reminder (your 8-week chart "
            "and one thing to aim for next week). /summary off stops it." + _caveat(person, day)
        )
    ]


def describe(turn: Turn) -> str:
    person = turn.person
    day = person.summary_day
    if day is None or not 0 <= day < len(PLURAL_DAYS):
        return (
            "The weekly summary is off. Turned on, it comes with your daily reminder on the day "
            "you choose (Sunday unless you name another): your 8-week chart and one thing to aim "
            "for next week."
        )
    at = f" at {person.remind_time}" if person.remind_enabled and person.remind_time else ""
    return f"Weekly summary: {PLURAL_DAYS[day]}, with your reminder{at}." + _caveat(person, day)


def _caveat(person: Person, day: int) -> str:
    """Why a chosen day would bring nothing: the summary rides on that day's reminder."""
    if not person.remind_enabled or not person.remind_time:
        return (
            " It comes with your daily reminder, which is off, so nothing will arrive until "
            "you turn it on, e.g. /remind 07:30."
        )
    if day not in weekdays_of(person.remind_days):
        return (
            f" It comes with your daily reminder, which is not set for {PLURAL_DAYS[day]}: pick "
            f"one of your reminder days, or add it, e.g. /remind {person.remind_time} daily."
        )
    return ""


# What the summary says ----------------------------------------------------------------------------


def _sessions(rows: Sequence[CheckIn]) -> list[Session]:
    return [decision.session_of(c) for c in rows if c.pain_during is not None]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def aim(
    person: Person,
    program: Program,
    today: date,
    *,
    week_sessions: int,
    any_sessions: bool,
    total: int,
    first_day: date | None,
    tail: Sequence[Session],
) -> str:
    """One sentence of what to aim for next week, from the person's state and the phase's
    gates (the same gates the progression rule in `bot.core.progression` applies)."""
    phases = program.phases
    index = program.clamped(person.phase_index)
    phase = phases[index]
    gates = phase.gates
    calm = f"pain at {gates.max_pain_to_advance}/10 or less"
    if week_sessions == 0:
        word = "restart" if any_sessions else "start"
        return f"Next week: one short session is a great {word}."
    if person.lighter_dose:
        return f"Next week: keep the lighter dose until a session with {calm}."
    started = person.phase_started_on
    if index > 0 and started is not None and (today - started).days < WEEK_DAYS:
        return (
            f"Next week: settle into Phase {index + 1} ({phase.name}), at least "
            f"{_plural(gates.window, 'session')}."
        )
    if index + 1 >= len(phases):
        return (
            f"Next week: keep it up as maintenance, {_plural(gates.window, 'session')} with a "
            f"neutral back and {calm}."
        )
    needed = max(gates.min_sessions - total, gates.window - calm_run(tail, gates), 0)
    count = min(needed or gates.window, WEEK_DAYS)
    # Days in the phase by the end of next week, if they keep training.
    span = (today + timedelta(days=WEEK_DAYS) - (first_day or today)).days + 1
    reachable = needed <= WEEK_DAYS and span >= gates.min_days
    start_comfort = person.phase_start_comfort
    comfort = ""
    if start_comfort is not None and any(
        s.comfort is not None and start_comfort - s.comfort >= gates.comfort_drop_blocks
        for s in tail[-gates.window :]
    ):
        comfort = f", and deadlift comfort back near {start_comfort}/10"
    following = f"Phase {index + 2} ({phases[index + 1].name})"
    goal = f"to move up to {following}" if reachable else f"to get closer to {following}"
    return f"Next week: {_plural(count, 'session')} with a neutral back, {calm}{comfort}, {goal}."


async def weekly_replies(
    storage: Storage,
    library: Library,
    person_id: int,
    now: datetime,
    charts_dir: Path,
) -> list[Reply]:
    """The summary for `person_id` as of `now` (the instant it was due): the text, then the
    chart (text only when there is no check-in in 8 weeks to draw). Empty when it should not go
    out any more: the person is gone, paused, on a safety hold, or turned the summary off."""
    # Imported here: matplotlib stays out of a process until it draws its first summary.
    from bot.charts import (
        headline,
        marks_from_decisions,
        points_from_checkins,
        render_progress_async,
    )
    from bot.service import progress

    async with storage() as uow:
        checkins = uow.checkins
        person = await uow.people.get(person_id)
        if (
            person is None
            or not person.onboarded
            or person.summary_day is None
            or person.safety_hold
            or (person.paused_until is not None and person.paused_until > now)
        ):
            return []
        program = library.program_of(person.program_id)
        phase = program.phase_at(person.phase_index)
        zone = ZoneInfo(person.timezone or "UTC")
        today = now.astimezone(zone).date()
        recent = await checkins.completed(person_id, since=today - timedelta(days=CHART_DAYS - 1))
        week_start = today - timedelta(days=WEEK_DAYS - 1)
        week = [c for c in recent if week_start <= c.local_date <= today]
        start = person.created_at.astimezone(zone).date()
        paused = await safety.days_paused(checkins, person_id, zone, week_start, today)
        done, planned = adherence(
            {c.local_date for c in recent},
            today,
            start,
            person.remind_days,
            window=WEEK_DAYS,
            paused=paused,
        )
        any_sessions = bool(recent) or await checkins.last_completed(person_id) is not None
        total, first_day, tail = await checkins.phase_summary(
            person_id, person.phase_index, person.phase_started_on, phase.gates.window
        )
        decisions = await checkins.decisions(person_id)
        marks = marks_from_decisions(decisions, [p.name for p in program.phases], zone)
        sentence = aim(
            person,
            program,
            today,
            week_sessions=len(week),
            any_sessions=any_sessions,
            total=total,
            first_day=first_day,
            tail=_sessions(tail),
        )
    counted = f"This week: {_plural(len(week), 'session')} in the last 7 days"
    if planned:
        counted += f", {done} of {planned} planned days done ({round(100 * done / planned)}%)"
    text = f"{counted}.\nPhase {person.phase_index + 1} of {len(program.phases)}: {phase.name}."
    text += f"\n{sentence}"
    points = points_from_checkins([c for c in recent if c.pain_during is not None])
    # Charts show pain scores: a folder only this user can read (as the coach's own).
    await asyncio.to_thread(charts_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
    out = progress.chart_files(charts_dir, person_id)[1]
    picture = await render_progress_async(points, marks, today, out)
    if picture is None:
        return [
            Reply(
                text + "\nYour chart appears here once you log a check-in.",
                private=True,
                title=TITLE,
            )
        ]
    return [
        Reply(text, private=True, title=TITLE),
        Reply(headline(points), image=picture, private=True, title="Your last 8 weeks"),
    ]
