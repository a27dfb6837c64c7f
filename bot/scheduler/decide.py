"""What each claimed reminder becomes, decided over the claimed rows and the people's recent
check-ins (plain values, no database): sent, or not and why; and whether it asks the next
morning's pain question first (`bot.core.morning`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import flows
from bot.core.morning import LastSession, morning_due
from bot.core.reminder_plan import Fire, Kind, ReminderState, after_firing, plan_next
from bot.core.schedule import local_day
from bot.service import reminders
from storage.claims import RecentCheckins

log = logging.getLogger(__name__)

# Why a due reminder is not sent (also the reasons `coach reminders due` prints).
SEND = "send"
LATE = "later than the grace period"
OFF = "reminders off"
PAUSED = "paused"  # also a safety hold: the reason is not shown, it is health data
SKIPPED = "skipped today"
DONE = "already checked in that day"
NOBODY = "no reachable chat"

# A reminder asks the morning question about a session of the last two days only (later, the
# person is asked when they come in: `morning_question.MORNING_WINDOW_DAYS`).
REMINDER_MORNING_DAYS = 2
# Open questions a reminder's morning question may take the place of: itself, and the marker
# left by a routine shown on an earlier day.
QUESTION_MAY_REPLACE = {flows.MORNING, flows.ROUTINE}

Plan = tuple[Fire, ReminderState, Fire | None]


@dataclass(slots=True)
class Claim:
    row: Any  # a row of `storage.claims.select_due`
    fire: Fire
    change: dict[str, Any]  # how the claim moves the person's reminder on (`storage.claims`)
    outcome: str
    target: tuple[str, str] | None  # (platform, user ref) to remind them in
    morning: int | None = None  # the check-in whose next morning the reminder asks about


def decide(rows: Sequence[Any], now: datetime, grace: timedelta) -> list[Claim]:
    """Plan each row's next fire and decide from the row alone (done today comes later, in
    `settle`, once the check-ins of those to send are read)."""
    claims: list[Claim] = []
    plans: dict[tuple[Any, ...], Plan] = {}  # people with the same settings plan alike
    floor = now - grace
    for row in rows:
        key = (
            row.timezone,
            row.remind_enabled,
            row.remind_time,
            row.remind_days,
            row.evening_time,
            row.snoozed_until,
            row.reminded_on,
            row.next_fire_utc,
            row.next_fire_kind,
        )
        plan = plans.get(key)
        if plan is None:
            try:
                plan = plans[key] = _plan(row, floor)
            except (ValueError, KeyError):  # e.g. a time zone this system does not know
                log.warning("reminders: person %s has unusable settings; off", row.id)
                plan = plans[key] = _broken(row)
        fire, later, upcoming = plan
        change = {
            "b_id": row.id,
            "b_old": fire.at,
            "b_next": upcoming.at if upcoming else None,
            "b_kind": upcoming.kind.value if upcoming else None,
            "b_snoozed": later.snoozed_until,
            "b_reminded": later.reminded_on,
        }
        target: tuple[str, str] | None = None
        if row.target:
            platform, _, ref = row.target.partition(":")
            target = (platform, ref)
        if later.remind_time is None:
            outcome = OFF
        elif fire.at < floor:
            outcome = LATE
        elif row.safety_hold or (row.paused_until is not None and row.paused_until > now):
            outcome = PAUSED
        elif row.skip_date is not None and row.skip_date == fire.local_date:
            outcome = SKIPPED
        elif target is None:
            outcome = NOBODY
        else:
            outcome = SEND
        claims.append(Claim(row, fire, change, outcome, target))
    return claims


def to_send(claims: Sequence[Claim]) -> list[int]:
    """The people whose reminder goes out so far: their check-ins decide the rest."""
    return [claim.row.id for claim in claims if claim.outcome == SEND]


def settle(claims: Sequence[Claim], recent: Mapping[int, RecentCheckins]) -> None:
    """Not sent on a day already checked in; otherwise the morning question rides along when it
    is due and may take the place of the open question."""
    for claim in claims:
        seen = recent.get(claim.row.id)
        if claim.outcome != SEND or seen is None:
            continue
        day = claim.fire.local_date
        if day in seen.dates:
            claim.outcome = DONE
            continue
        pending = claim.row.pending
        last = LastSession(seen.last_date, seen.morning_known, seen.counted)
        if (
            claim.fire.kind is not Kind.EVENING
            and (not pending or pending.get("flow") in QUESTION_MAY_REPLACE)
            and morning_due(last, day, REMINDER_MORNING_DAYS)
        ):
            claim.morning = seen.last_id


def _broken(row: Any) -> Plan:
    """Settings that cannot be planned: this fire is skipped and nothing more is planned
    (a new /remind plans again), rather than failing every tick for everyone."""
    fire = Fire(row.next_fire_utc, Kind.REMINDER, row.next_fire_utc.date())
    state = ReminderState(zone="UTC", remind_time=None, reminded_on=row.reminded_on)
    return fire, state, None


def _plan(row: Any, floor: datetime) -> Plan:
    """The fire being claimed, the state once it has fired, and the next fire."""
    # A skipped day is moved past like any other (see `decide`).
    state = reminders.person_state(row, with_skip=False)
    try:
        kind = Kind(row.next_fire_kind or Kind.REMINDER.value)
    except ValueError:
        kind = Kind.REMINDER
    due: datetime = row.next_fire_utc
    fire = Fire(due, kind, local_day(due, state.zone))
    later = after_firing(state, fire)
    # Reminders missed by more than the grace period (the process was down) are not
    # caught up one by one: planning restarts from the grace period's start.
    return fire, later, plan_next(later, max(due, floor))
