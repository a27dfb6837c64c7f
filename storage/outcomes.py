"""The outcome rows of a person: their activities (PSFS), the 4-weekly reassessments with each
activity's score, and the lessons they have seen; plus their /export form.

Functions on the caller's session, like `storage.link_tries`: the unit of work that owns the
session commits. A person's messages are handled one at a time (the identity row is locked on
PostgreSQL, `Coach.handle` serialises on SQLite), so "is this week answered yet?" read first is
enough; the unique key (person, week) still refuses a second reassessment of one window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage_port import NewActivity as NewActivity  # declared with the port
from storage.models import Activity, ActivityScore, LessonSeen, Reassessment

LABEL_LENGTH = 80  # the column's size; the core cleans activities to 40 characters by default


async def add_activities(
    session: AsyncSession, person_id: int, chosen: Sequence[NewActivity], now: datetime
) -> list[Activity]:
    """The chosen activities after any the person already has, in the order given."""
    last = await session.scalar(
        select(func.max(Activity.position)).where(Activity.person_id == person_id)
    )
    first = 0 if last is None else last + 1
    rows = [
        Activity(
            person_id=person_id,
            position=first + i,
            label=item.label[:LABEL_LENGTH],
            offer_id=item.offer_id,
            baseline_score=item.baseline_score,
            created_at=now,
        )
        for i, item in enumerate(chosen)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def activities(session: AsyncSession, person_id: int) -> Sequence[Activity]:
    statement = (
        select(Activity)
        .where(Activity.person_id == person_id)
        .order_by(Activity.position, Activity.id)
    )
    return (await session.scalars(statement)).all()


async def answered_weeks(session: AsyncSession, person_id: int) -> set[int]:
    """The reassessment windows already answered (for `bot.core.outcomes.reassessment_due`)."""
    statement = select(Reassessment.week).where(Reassessment.person_id == person_id)
    return set((await session.scalars(statement)).all())


async def add_reassessment(
    session: AsyncSession,
    person_id: int,
    *,
    week: int,
    local_date: date,
    now: datetime,
    usual_pain: int,
    global_rating: int,
    scores: Mapping[int, int],
    review_suggested: bool,
) -> Reassessment | None:
    """The reassessment of `week` with each activity's score (activity id -> 0-10); None, and
    nothing stored, when that week was already answered or a score names an activity that is
    not the person's."""
    if week in await answered_weeks(session, person_id):
        return None
    own = {row.id for row in await activities(session, person_id)}
    if not set(scores) <= own:
        return None
    row = Reassessment(
        person_id=person_id,
        week=week,
        local_date=local_date,
        at=now,
        usual_pain=usual_pain,
        global_rating=global_rating,
        review_suggested=review_suggested,
    )
    session.add(row)
    await session.flush()
    session.add_all(
        ActivityScore(
            person_id=person_id, reassessment_id=row.id, activity_id=activity_id, score=score
        )
        for activity_id, score in scores.items()
    )
    await session.flush()
    return row


async def reassessments(
    session: AsyncSession, person_id: int
) -> list[tuple[Reassessment, dict[int, int]]]:
    """Every reassessment in order, with its scores (activity id -> score)."""
    rows = (
        await session.scalars(
            select(Reassessment)
            .where(Reassessment.person_id == person_id)
            .order_by(Reassessment.week)
        )
    ).all()
    scores = (
        await session.scalars(select(ActivityScore).where(ActivityScore.person_id == person_id))
    ).all()
    by_row: dict[int, dict[int, int]] = {row.id: {} for row in rows}
    for score in scores:
        by_row.setdefault(score.reassessment_id, {})[score.activity_id] = score.score
    return [(row, by_row[row.id]) for row in rows]


async def mark_lesson_seen(
    session: AsyncSession, person_id: int, lesson_id: str, today: date, now: datetime
) -> bool:
    """Records a lesson as seen today; False (and the first date kept) when it was seen before."""
    if await session.get(LessonSeen, (person_id, lesson_id)) is not None:
        return False
    session.add(LessonSeen(person_id=person_id, lesson_id=lesson_id, seen_on=today, at=now))
    await session.flush()
    return True


async def lessons_seen(session: AsyncSession, person_id: int) -> dict[str, date]:
    """Lesson id -> the local date it was seen (for `bot.core.outcomes.lesson_due`)."""
    rows = (
        await session.scalars(select(LessonSeen).where(LessonSeen.person_id == person_id))
    ).all()
    return {row.lesson_id: row.seen_on for row in rows}


async def export(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """The outcome part of /export, JSON-ready."""
    acts = await activities(session, person_id)
    labels = {row.id: row.label for row in acts}
    seen = await lessons_seen(session, person_id)
    return {
        "activities": [
            {
                "activity": row.label,
                "offered": row.offer_id,
                "baseline": row.baseline_score,
                "chosen_at": row.created_at.isoformat(),
            }
            for row in acts
        ],
        "reassessments": [
            {
                "week": row.week,
                "date": row.local_date.isoformat(),
                "usual_pain": row.usual_pain,
                "global_rating": row.global_rating,
                "clinician_review_suggested": row.review_suggested,
                "activities": {labels[a]: score for a, score in scores.items() if a in labels},
            }
            for row, scores in await reassessments(session, person_id)
        ],
        "lessons_seen": [
            {"lesson": lesson_id, "date": day.isoformat()}
            for lesson_id, day in sorted(seen.items(), key=lambda item: (item[1], item[0]))
        ],
    }


# --- for the scheduler's tick: a whole batch of people at once ----------------------------------


@dataclass(frozen=True)
class ReminderOutcomes:
    """What a reminder needs to know to carry the reassessment and the week's lesson."""

    answered_weeks: frozenset[int]
    lessons_seen: Mapping[str, date]


async def for_reminders(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, ReminderOutcomes]:
    """person id -> their answered reassessment weeks and lessons seen (two queries a batch)."""
    weeks: dict[int, set[int]] = {person_id: set() for person_id in person_ids}
    seen: dict[int, dict[str, date]] = {person_id: {} for person_id in person_ids}
    if person_ids:
        answered = select(Reassessment.person_id, Reassessment.week).where(
            Reassessment.person_id.in_(person_ids)
        )
        for person_id, week in (await session.execute(answered)).all():
            weeks[person_id].add(week)
        lessons = select(LessonSeen.person_id, LessonSeen.lesson_id, LessonSeen.seen_on).where(
            LessonSeen.person_id.in_(person_ids)
        )
        for person_id, lesson_id, day in (await session.execute(lessons)).all():
            seen[person_id][lesson_id] = day
    return {pid: ReminderOutcomes(frozenset(weeks[pid]), seen[pid]) for pid in person_ids}


async def lessons_sent(
    session: AsyncSession, sent: Sequence[tuple[int, str, date, datetime]]
) -> None:
    """(person id, lesson id, local date, now) of lessons put in reminders: seen from then on (a
    lesson already seen, e.g. through /learn meanwhile, keeps its first date)."""
    if not sent:
        return
    rows = [
        {"person_id": p, "lesson_id": lesson, "seen_on": day, "at": at}
        for p, lesson, day, at in sent
    ]
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LessonSeen).on_conflict_do_nothing(index_elements=["person_id", "lesson_id"])
    await session.execute(statement, rows)
