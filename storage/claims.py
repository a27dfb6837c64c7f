"""Claiming the people whose reminder is due (the scheduler's tick, any number of processes).

- PostgreSQL: ``SELECT … FOR UPDATE OF people SKIP LOCKED`` in batches. The rows stay locked
  until the transaction that advances `next_fire_utc` and writes their outbox rows commits, so
  replicas never take the same person; a replica skips the rows another one holds.
- SQLite (one writer at a time): read the due rows, then in a write transaction
  ``UPDATE people … WHERE id = ? AND next_fire_utc = ?`` with the value read. Only the process
  whose UPDATE matched wins; the others see fewer rows changed and retry row by row.

Either way the outbox row for a reminder (`storage.outbox`) carries the unique key (target,
kind, local date) and is inserted with ON CONFLICT DO NOTHING in the same transaction, so the
same reminder cannot be queued twice even if two claims overlapped. Team channels are claimed
in `storage.teams`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    false,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import CheckIn, Identity, Person
from storage.outbox import Audience, is_postgres, people

DUE_COLUMNS = (
    Person.id,
    Person.next_fire_utc,
    Person.next_fire_kind,
    Person.timezone,
    Person.remind_time,
    Person.remind_days,
    Person.remind_enabled,
    Person.evening_time,
    Person.snoozed_until,
    Person.reminded_on,
    Person.skip_date,
    Person.paused_until,
    Person.safety_hold,
    Person.program_id,
    Person.phase_index,
    Person.lighter_dose,
    Person.pending,
    Person.summary_day,
    Person.created_at,  # the reassessment weeks count from it
)


def _target(audience: Audience) -> Any:
    """The chat to remind a person in: "<platform>:<user_ref>" of the reachable identity this
    process serves that they used last (NULL when there is none)."""
    chosen = aliased(Identity)
    return (
        select(chosen.platform + ":" + chosen.user_ref)
        .where(
            chosen.person_id == Person.id,
            chosen.unreachable == false(),
            audience.reaches(chosen.platform, chosen.user_ref),
        )
        .order_by(chosen.last_seen.desc(), chosen.id.desc())
        .limit(1)
        .correlate(Person)
        .scalar_subquery()
    )


def _reachable_at_all() -> Any:
    anyone = aliased(Identity)
    return (
        select(anyone.id)
        .where(anyone.person_id == Person.id, anyone.unreachable == false())
        .limit(1)
        .correlate(Person)
        .scalar_subquery()
    )


async def select_due(
    session: AsyncSession, now: datetime, audience: Audience, limit: int
) -> Sequence[Row[Any]]:
    """Up to `limit` people whose next reminder is due, in `next_fire_utc` order, each with the
    `target` chat to remind them in. Only people this process can reach are taken, and people
    nobody can reach (their claim just moves the reminder on, so they do not pile up at the
    head of the index). On PostgreSQL the rows are locked (FOR UPDATE SKIP LOCKED) until the
    caller's transaction ends.

    Both conditions are correlated LIMIT 1 sub-selects on identities(person_id), so the
    database walks the next_fire_utc index and probes each due person once, whatever the size
    of the table: no hash of every identity, no sort of every due row."""
    target = _target(audience)
    statement = (
        select(*DUE_COLUMNS, target.label("target"))
        .where(
            Person.next_fire_utc <= now,
            or_(target.is_not(None), _reachable_at_all().is_(None)),
        )
        .order_by(Person.next_fire_utc)
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=Person)
    return (await session.execute(statement)).all()


async def reachable_identities(
    session: AsyncSession, person_ids: Sequence[int], audience: Audience
) -> dict[int, tuple[str, str]]:
    """person id -> (platform, user_ref) of the chat to remind them in: the reachable one this
    process serves that they used last."""
    if not person_ids:
        return {}
    statement = (
        select(Identity.person_id, Identity.platform, Identity.user_ref)
        .where(
            Identity.person_id.in_(person_ids),
            Identity.unreachable == false(),
            audience.reaches(Identity.platform, Identity.user_ref),
        )
        .order_by(Identity.person_id, Identity.last_seen, Identity.id)
    )
    found: dict[int, tuple[str, str]] = {}
    for person_id, platform, user_ref in (await session.execute(statement)).all():
        found[person_id] = (platform, user_ref)  # the last one seen wins
    return found


async def checkin_dates(
    session: AsyncSession, person_ids: Sequence[int], since: date
) -> dict[int, set[date]]:
    """person id -> local dates since `since` with a completed check-in."""
    if not person_ids:
        return {}
    statement = select(CheckIn.person_id, CheckIn.local_date).where(
        CheckIn.person_id.in_(person_ids),
        CheckIn.completed_at.is_not(None),
        CheckIn.local_date >= since,
    )
    found: dict[int, set[date]] = {}
    for person_id, local_date in (await session.execute(statement)).all():
        found.setdefault(person_id, set()).add(local_date)
    return found


@dataclass(frozen=True, slots=True)
class RecentCheckins:
    """A person's completed check-ins since some date: the local dates they fall on, and the
    last one (by completion), as the morning question needs it."""

    dates: frozenset[date]
    last_id: int
    last_date: date
    morning_known: bool  # the last one's next-morning pain is answered
    counted: bool  # the last one has pain during and the neutral-back answer (a session)


async def recent_checkins(
    session: AsyncSession, person_ids: Sequence[int], since: date
) -> dict[int, RecentCheckins]:
    """person id -> their completed check-ins with a local date `since` or later (one query
    for a whole batch; people without any are left out)."""
    if not person_ids:
        return {}
    statement = (
        select(
            CheckIn.person_id,
            CheckIn.id,
            CheckIn.local_date,
            CheckIn.morning_pain,
            CheckIn.pain_during,
            CheckIn.neutral,
        )
        .where(
            CheckIn.person_id.in_(person_ids),
            CheckIn.completed_at.is_not(None),
            CheckIn.local_date >= since,
        )
        .order_by(CheckIn.completed_at, CheckIn.id)
    )
    dates: dict[int, set[date]] = {}
    last: dict[int, Any] = {}
    for row in (await session.execute(statement)).all():
        dates.setdefault(row.person_id, set()).add(row.local_date)
        last[row.person_id] = row  # in completion order: the last one wins
    return {
        person_id: RecentCheckins(
            dates=frozenset(dates[person_id]),
            last_id=row.id,
            last_date=row.local_date,
            morning_known=row.morning_pain is not None,
            counted=row.pain_during is not None and row.neutral is not None,
        )
        for person_id, row in last.items()
    }


_ASK = update(people).where(people.c.id == bindparam("b_id")).values(pending=bindparam("b_pending"))


async def record_questions(session: AsyncSession, asked: Mapping[int, dict[str, Any]]) -> None:
    """Record the question each person was just asked (person id -> their `pending`), so the
    next answer, typed or pressed, finds it. For people this transaction claimed."""
    if asked:
        await session.execute(
            _ASK,
            [{"b_id": person_id, "b_pending": pending} for person_id, pending in asked.items()],
        )


def _advance_statement(guarded: bool) -> Any:
    condition = people.c.id == bindparam("b_id")
    if guarded:
        condition = and_(condition, people.c.next_fire_utc == bindparam("b_old"))
    return (
        update(people)
        .where(condition)
        .values(
            next_fire_utc=bindparam("b_next"),
            next_fire_kind=bindparam("b_kind"),
            snoozed_until=bindparam("b_snoozed"),
            reminded_on=bindparam("b_reminded"),
        )
    )


_ADVANCE_ARRAYS = text(
    "UPDATE people SET next_fire_utc = v.next, next_fire_kind = v.kind, "
    "snoozed_until = v.snoozed, reminded_on = v.reminded "
    "FROM unnest(:ids, :nexts, :kinds, :snoozed, :reminded) "
    "AS v(id, next, kind, snoozed, reminded) "
    "WHERE people.id = v.id"
).bindparams(
    bindparam("ids", type_=ARRAY(Integer)),
    bindparam("nexts", type_=ARRAY(DateTime(timezone=True))),
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("snoozed", type_=ARRAY(DateTime(timezone=True))),
    bindparam("reminded", type_=ARRAY(Date)),
)


async def advance(session: AsyncSession, changes: Sequence[Mapping[str, Any]]) -> None:
    """Move rows this transaction holds locked (PostgreSQL) on, in one statement: keys b_id,
    b_next, b_kind, b_snoozed, b_reminded."""
    if not changes:
        return
    if not is_postgres(session):
        await session.execute(_advance_statement(guarded=False), list(changes))
        return
    await session.execute(
        _ADVANCE_ARRAYS,
        {
            "ids": [change["b_id"] for change in changes],
            "nexts": [change["b_next"] for change in changes],
            "kinds": [change["b_kind"] for change in changes],
            "snoozed": [change["b_snoozed"] for change in changes],
            "reminded": [change["b_reminded"] for change in changes],
        },
    )


async def advance_if_unchanged(session: AsyncSession, changes: Sequence[Mapping[str, Any]]) -> bool:
    """The conditional UPDATE (SQLite): each row only if its next_fire_utc is still `b_old`.
    True when every row matched; False means another process won some of them, and the caller
    must roll back and use `advance_one` to learn which."""
    if not changes:
        return True
    result = cast(
        CursorResult[Any], await session.execute(_advance_statement(guarded=True), list(changes))
    )
    return result.rowcount == len(changes)


async def advance_one(session: AsyncSession, change: Mapping[str, Any]) -> bool:
    """The conditional UPDATE for one row; True when this process won it."""
    result = cast(CursorResult[Any], await session.execute(_advance_statement(True), [change]))
    return result.rowcount == 1
