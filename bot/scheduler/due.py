"""`coach reminders due`: who a tick at an instant would remind, and why or why not. Reads
only; prints no names and no health data (a safety hold shows as "paused")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform
from bot.core.reminder_plan import Fire, ReminderState, after_firing, explain, plan_next
from bot.scheduler.decide import DONE, NOBODY, PAUSED, SEND, SKIPPED
from bot.service import reminders
from storage import claims, outbox
from storage.models import Person


@dataclass(frozen=True, slots=True)
class Preview:
    person_id: int
    zone: str
    local: datetime
    kind: str
    decision: str
    reason: str


async def preview(
    sessions: async_sessionmaker[AsyncSession], at: datetime, window: timedelta
) -> list[Preview]:
    """Who would be reminded by a tick at `at` (what fell due in the `window` before it), and
    why or why not."""
    found: list[Preview] = []
    async with sessions() as session:
        rows = (
            await session.execute(
                select(*claims.DUE_COLUMNS)
                .where(Person.remind_enabled.is_(True))
                .order_by(Person.id)
            )
        ).all()
        due: list[tuple[Any, ReminderState, Fire]] = []
        for row in rows:
            state = reminders.person_state(row)
            fire = plan_next(state, at - window)
            while fire is not None and fire.at <= at - window:
                # A snooze due before the window has fired by then (ticks ran all along).
                state = after_firing(state, fire)
                fire = plan_next(state, fire.at)
            if fire is not None and fire.at <= at:
                due.append((row, state, fire))
        ids = [row.id for row, _, _ in due]
        everyone = outbox.Audience(tuple(platform.value for platform in Platform))
        targets = await claims.reachable_identities(session, ids, everyone)
        done: dict[int, set[date]] = {}
        if due:
            since = min(fire.local_date for _, _, fire in due) - timedelta(days=1)
            done = await claims.checkin_dates(session, ids, since)
    for row, state, fire in due:
        paused = row.paused_until is not None and row.paused_until > at
        if row.safety_hold or paused:
            decision = PAUSED
        elif row.skip_date == fire.local_date:
            decision = SKIPPED
        elif fire.local_date in done.get(row.id, set()):
            decision = DONE
        elif row.id not in targets:
            decision = NOBODY
        else:
            decision = SEND
        found.append(
            Preview(
                person_id=row.id,
                zone=state.zone,
                local=fire.at.astimezone(ZoneInfo(state.zone)),
                kind=fire.kind.value,
                decision=decision,
                reason=explain(fire, state),
            )
        )
    return found
