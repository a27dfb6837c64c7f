"""Which of a person's reminders fires next, and when. Pure: settings and state in, a `Fire` out.

A person has up to three kinds of pushed reminder:

- the daily reminder at their local time on their weekdays (`bot.core.schedule` does the
  DST-correct maths: one per local day, a time in the spring-forward gap fires when the clocks
  jump, a time that occurs twice fires at its first occurrence);
- a snoozed reminder ("Later", /snooze 30m), at an instant;
- the optional evening nudge at a second local time.

Only the earliest pending one is stored (`Person.next_fire_utc` plus `next_fire_kind`), so the
scheduler needs one indexed column to find everyone who is due. `reminded_on` is the local date
whose daily reminder has gone out (or was replaced by a snooze): a time changed later that day
does not bring a second one. `skip_date` ("Skip today") silences that local date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core.schedule import ALL_DAYS, local_day, next_fire_utc

__all__ = [
    "Fire",
    "Kind",
    "ReminderState",
    "after_firing",
    "explain",
    "fires_between",
    "hhmm",
    "plan_next",
    "weekdays_of",
]

# A person may move their reminder within the day; the loop below skips at most a few dates.
_MAX_SKIPS = 8


class Kind(StrEnum):
    REMINDER = "reminder"
    SNOOZE = "snooze"
    EVENING = "evening"


@dataclass(frozen=True, slots=True)
class ReminderState:
    zone: str
    remind_time: time | None  # None: reminders are off (then nothing fires, not even a snooze)
    weekdays: frozenset[int] = ALL_DAYS
    evening_time: time | None = None
    snoozed_until: datetime | None = None
    reminded_on: date | None = None
    skip_date: date | None = None


@dataclass(frozen=True, slots=True)
class Fire:
    at: datetime  # aware UTC
    kind: Kind
    local_date: date  # the person's local date it belongs to


@lru_cache(maxsize=128)
def weekdays_of(mask: int) -> frozenset[int]:
    """Bit 0 = Monday ... bit 6 = Sunday; an empty mask means every day."""
    days = frozenset(day for day in range(7) if mask >> day & 1)
    return days or ALL_DAYS


@lru_cache(maxsize=65536)
def hhmm(text: str | None) -> time | None:
    if not text:
        return None
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


@lru_cache(maxsize=65536)
def _next(local_time: time, zone: str, after: datetime, weekdays: frozenset[int]) -> datetime:
    # Thousands of people share a zone and a time: a fan-out computes each instant once.
    return next_fire_utc(local_time=local_time, zone=zone, after_utc=after, weekdays=weekdays)


def _slot(
    local_time: time,
    state: ReminderState,
    after: datetime,
    blocked: set[date | None],
) -> datetime:
    at = _next(local_time, state.zone, after, state.weekdays)
    for _ in range(_MAX_SKIPS):
        if local_day(at, state.zone) not in blocked:
            return at
        at = _next(local_time, state.zone, at, state.weekdays)
    return at  # pragma: no cover - needs more blocked dates than there are


@lru_cache(maxsize=65536)
def plan_next(state: ReminderState, after: datetime) -> Fire | None:
    """The next fire strictly after `after`; a pending snooze counts even when already due."""
    if state.remind_time is None:
        return None
    after = after.astimezone(UTC)
    candidates: list[tuple[datetime, int, Kind]] = []
    if state.snoozed_until is not None:
        candidates.append((state.snoozed_until.astimezone(UTC), 0, Kind.SNOOZE))
    reminded = state.reminded_on
    blocked_days = {state.skip_date}
    if reminded is not None:
        # Every date up to the one already reminded: `after` never goes far back, so a few do.
        blocked_days |= {reminded - timedelta(days=n) for n in range(3)}
    daily = _slot(state.remind_time, state, after, blocked_days)
    candidates.append((daily, 1, Kind.REMINDER))
    if state.evening_time is not None:
        evening = _slot(state.evening_time, state, after, {state.skip_date})
        candidates.append((evening, 2, Kind.EVENING))
    at, _, kind = min(candidates)
    return Fire(at, kind, local_day(at, state.zone))


@lru_cache(maxsize=65536)
def after_firing(state: ReminderState, fire: Fire) -> ReminderState:
    """The state once `fire` has been claimed (sent, skipped or dropped)."""
    if fire.kind is Kind.SNOOZE:
        return replace(state, snoozed_until=None)
    if fire.kind is Kind.REMINDER:
        reminded = state.reminded_on
        if reminded is None or fire.local_date > reminded:
            return replace(state, reminded_on=fire.local_date)
    return state


def explain(fire: Fire, state: ReminderState) -> str:
    """Why it fires then, in words (for `coach reminders due`): no names, no health data."""
    zone = ZoneInfo(state.zone)
    local = fire.at.astimezone(zone)
    if fire.kind is Kind.SNOOZE:
        return f"snoozed reminder, due {local:%H:%M} local"
    wanted = state.remind_time if fire.kind is Kind.REMINDER else state.evening_time
    label = "daily reminder" if fire.kind is Kind.REMINDER else "evening nudge"
    if wanted is None:  # pragma: no cover - a fire of that kind needs its time
        return label
    reason = f"{label} at {wanted:%H:%M}"
    if (local.hour, local.minute) != (wanted.hour, wanted.minute):
        return (
            f"{reason}; {wanted:%H:%M} does not exist on {fire.local_date} in {state.zone} "
            f"(clocks go forward), so it fires when they jump, at {local:%H:%M}"
        )
    wall = datetime.combine(fire.local_date, wanted)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if second != fire.at and second.astimezone(zone).replace(tzinfo=None) == wall:
        return f"{reason}; {wanted:%H:%M} happens twice that day (clocks go back): the first counts"
    return reason


def fires_between(state: ReminderState, start: datetime, end: datetime) -> list[Fire]:
    """Every fire in (start, end], for previews and tests (state advanced after each)."""
    fires: list[Fire] = []
    after = start
    while True:
        fire = plan_next(state, after)
        if fire is None or fire.at > end:
            return fires
        fires.append(fire)
        state = after_firing(state, fire)
        after = fire.at
