"""The tick's people step: claim the people whose reminder is due, decide what each reminder
becomes (`bot.scheduler.decide`), and in the claiming transaction move their reminders on,
write the outbox rows and record the morning questions asked. Nothing is sent here.

The claim itself is `storage.claims`: PostgreSQL locks the due rows (FOR UPDATE SKIP LOCKED)
for the transaction; SQLite reads them, then claims them with a conditional UPDATE on the times
it read, and row by row when another process won some of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import flows
from bot.core.content import Library
from bot.core.messages import Reply
from bot.core.outcome_content import Lesson
from bot.core.outcomes import Window
from bot.core.reminder_plan import Kind
from bot.core.texts import score_buttons
from bot.scheduler.decide import DONE, LATE, SEND, Claim, decide, settle, to_send
from bot.scheduler.result import TickResult
from bot.service import morning_question, outcomes, reminder_message, weekly
from storage import claims, outbox
from storage import outcomes as outcome_rows


@dataclass(frozen=True)
class PeopleClaims:
    sessions: async_sessionmaker[AsyncSession]
    library: Library
    audience: outbox.Audience
    grace: timedelta
    batch: int

    async def run(self, now: datetime, result: TickResult, stopping: Callable[[], bool]) -> None:
        """Claim → decide → enqueue, in batches, until nothing is due."""
        while not stopping():
            async with self.sessions() as session:
                if outbox.is_postgres(session):
                    seen = await self._locked(session, now, result)
                else:
                    seen = await self._conditional(session, now, result)
            if seen < self.batch:
                break

    async def _locked(self, session: AsyncSession, now: datetime, result: TickResult) -> int:
        async with session.begin():
            rows = await claims.select_due(session, now, self.audience, self.batch)
            if not rows:
                return 0
            found = await self._decide(session, rows, now)
            await claims.advance(session, [claim.change for claim in found])
            await self._enqueue(session, found, now, result)
        return len(rows)

    async def _conditional(self, session: AsyncSession, now: datetime, result: TickResult) -> int:
        rows = await claims.select_due(session, now, self.audience, self.batch)
        if not rows:
            await session.rollback()
            return 0
        found = await self._decide(session, rows, now)
        await session.commit()  # the reads end here: the write transaction starts with UPDATE
        if await claims.advance_if_unchanged(session, [claim.change for claim in found]):
            await self._enqueue(session, found, now, result)
            await session.commit()
            return len(rows)
        # Another process claimed some of them meanwhile: find out which, row by row.
        await session.rollback()
        mine = [claim for claim in found if await claims.advance_one(session, claim.change)]
        result.lost += len(found) - len(mine)
        await self._enqueue(session, mine, now, result)
        await session.commit()
        return len(rows)

    async def _decide(
        self, session: AsyncSession, rows: Sequence[Any], now: datetime
    ) -> list[Claim]:
        found = decide(rows, now, self.grace)
        sending = to_send(found)
        if sending:
            since = min(claim.fire.local_date for claim in found) - timedelta(days=2)
            settle(found, await claims.recent_checkins(session, sending, since))
        return found

    async def _enqueue(
        self, session: AsyncSession, found: Sequence[Claim], now: datetime, result: TickResult
    ) -> None:
        rows: list[dict[str, Any]] = []
        asked: dict[int, dict[str, Any]] = {}
        extras = await self._outcome_extras(session, found)
        lessons: list[tuple[int, str, date, datetime]] = []
        for claim in found:
            result.claimed += 1
            if claim.outcome == LATE:
                result.dropped += 1
                if claim.target is not None:  # kept as a record that it was not sent
                    rows.append(_reminder_row(claim, now, [], state=outbox.DROPPED))
            elif claim.outcome != SEND or claim.target is None:
                result.skipped += 1
                if claim.outcome == DONE:  # checked in early: the week's summary still comes
                    _add_weekly(rows, claim, now, result)
            else:
                morning = None
                if claim.morning is not None:
                    morning = _morning_reply(claim, claim.morning)
                    asked[claim.row.id] = morning_pending(claim.morning)
                payload = reminder_message.reminder_payload(
                    self.library,
                    person_id=claim.row.id,
                    program_id=claim.row.program_id,
                    phase_index=claim.row.phase_index,
                    lighter=claim.row.lighter_dose,
                    kind=claim.fire.kind,
                    morning=morning,
                    day=claim.fire.local_date,
                )
                lesson, window = extras.get(claim.row.id, (None, None))
                if lesson is not None or window is not None:
                    payload = outcomes.add_to_reminder(payload, claim.row.id, lesson, window)
                if lesson is not None:
                    lessons.append((claim.row.id, lesson.id, claim.fire.local_date, now))
                rows.append(_reminder_row(claim, now, [payload]))
                result.enqueued += 1
                _add_weekly(rows, claim, now, result)
        await outbox.enqueue(session, rows)
        await claims.record_questions(session, asked)
        await outcome_rows.lessons_sent(session, lessons)

    async def _outcome_extras(
        self, session: AsyncSession, found: Sequence[Claim]
    ) -> dict[int, tuple[Lesson | None, Window | None]]:
        """The week's lesson and the open reassessment of each daily reminder being sent (the
        evening nudge carries neither)."""
        sending = [
            claim
            for claim in found
            if claim.outcome == SEND and claim.target is not None
            and claim.fire.kind is not Kind.EVENING
        ]  # fmt: skip
        if not sending:
            return {}
        known = await outcome_rows.for_reminders(session, [claim.row.id for claim in sending])
        extras = {}
        for claim in sending:
            row = claim.row
            started = row.created_at.astimezone(ZoneInfo(row.timezone or "UTC")).date()
            state = known[row.id]
            extras[row.id] = outcomes.reminder_extras(
                self.library,
                started,
                claim.fire.local_date,
                state.answered_weeks,
                state.lessons_seen,
            )
        return extras


def _morning_reply(claim: Claim, checkin_id: int) -> Reply:
    """The next morning's pain question, in words for the local hour the reminder fires at."""
    hour = claim.fire.at.astimezone(ZoneInfo(claim.row.timezone or "UTC")).hour
    return Reply(
        morning_question.question_text(hour),
        private=True,
        buttons=score_buttons(flows.MORNING, "pain", checkin_id),
    )


def morning_pending(checkin_id: int) -> dict[str, Any]:
    """The morning question as the person's open question, so a typed "3" answers it; nothing
    to carry on after the answer."""
    return {"flow": flows.MORNING, "step": "pain", "ref": checkin_id, "then": None}


def _add_weekly(
    rows: list[dict[str, Any]], claim: Claim, now: datetime, result: TickResult
) -> None:
    """The weekly summary on the person's summary weekday: a marker only, rendered at send
    time. Keyed (person, "weekly", local date), so whichever of the day's fires comes first
    writes it and the others (and any other process) change nothing."""
    if claim.target is None or not weekly.due(claim.row.summary_day, claim.fire.local_date):
        return
    platform, ref = claim.target
    rows.append(
        outbox.outbox_row(
            target=outbox.person_target(claim.row.id),
            kind=outbox.WEEKLY,
            local_date=claim.fire.local_date,
            platform=platform,
            ref=ref,
            fire_at=claim.fire.at,
            now=now,
            payload=weekly.payload(claim.row.id),
            person_id=claim.row.id,
        )
    )
    result.enqueued += 1


def _reminder_row(
    claim: Claim, now: datetime, payload: list[dict[str, Any]], state: str = outbox.PENDING
) -> dict[str, Any]:
    assert claim.target is not None
    platform, ref = claim.target
    kind = claim.fire.kind.value
    if claim.fire.kind is Kind.SNOOZE:  # one per snooze, each at its own local time
        zone = claim.row.timezone or "UTC"
        kind = f"snooze-{claim.fire.at.astimezone(ZoneInfo(zone)):%H%M}"
    return outbox.outbox_row(
        target=outbox.person_target(claim.row.id),
        kind=kind,
        local_date=claim.fire.local_date,
        platform=platform,
        ref=ref,
        fire_at=claim.fire.at,
        now=now,
        payload=payload,
        person_id=claim.row.id,
        state=state,
        last_error="late" if state == outbox.DROPPED else None,
    )
