"""Team channels: claiming the daily team posts and weekly digests that are due, and the reads a
digest needs.

Claiming follows the reminders' pattern (see `storage.outbox`): PostgreSQL selects the due teams
``FOR UPDATE SKIP LOCKED``, so replicas never take the same team; SQLite reads them, ends the read
transaction, then moves each on with a conditional ``UPDATE … WHERE next_post_utc IS <value read>``
and only the process whose UPDATE matched writes the outbox rows. Either way the outbox key
(channel, kind, local date) keeps a second claim of the same day a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CheckIn, Identity, Person, Team, TeamMember
from storage.outbox import Audience, is_postgres

DUE_COLUMNS = (
    Team.id,
    Team.platform,
    Team.group_ref,
    Team.channel_ref,
    Team.post_time,
    Team.timezone,
    Team.next_post_utc,
    Team.next_digest_utc,
)


async def select_due(
    session: AsyncSession, now: datetime, audience: Audience, limit: int
) -> Sequence[Any]:
    """Enabled teams this process can post for whose daily post or weekly digest is due. On
    PostgreSQL the rows stay locked (SKIP LOCKED) until the caller's transaction ends."""
    statement = (
        select(*DUE_COLUMNS)
        .where(
            Team.enabled == true(),
            or_(Team.next_post_utc <= now, Team.next_digest_utc <= now),
            audience.reaches(Team.platform, Team.channel_ref),
        )
        .order_by(Team.id)
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=Team)
    return (await session.execute(statement)).all()


async def advance(
    session: AsyncSession,
    team_id: int,
    *,
    old_post: datetime | None,
    old_digest: datetime | None,
    next_post: datetime | None,
    next_digest: datetime | None,
) -> bool:
    """Move a team's post and digest times on, only if they are still the values read (and the
    team is still on). True when this process won the claim."""
    statement = (
        update(Team)
        .where(
            Team.id == team_id,
            Team.enabled == true(),
            Team.next_post_utc.is_not_distinct_from(old_post),
            Team.next_digest_utc.is_not_distinct_from(old_digest),
        )
        .values(next_post_utc=next_post, next_digest_utc=next_digest)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class MemberWeek:
    """What a digest may use about one member: never a score or a health answer."""

    person_id: int
    name: str  # their display name on the team's platform ("" if none)
    share_name: bool
    joined_on: datetime
    created_at: datetime
    timezone: str | None
    remind_days: int
    resting: bool  # paused or on hold: not expected to train (the reason is never shown)
    trained_days: frozenset[date]


async def member_weeks(
    session: AsyncSession, team_id: int, platform: str, since: date, until: date, now: datetime
) -> list[MemberWeek]:
    """Each member of a team with the local dates (from `since` to `until`, inclusive) on which
    they completed a check-in. Reads only dates and flags, no answers."""
    members = (
        await session.execute(
            select(
                TeamMember.person_id,
                TeamMember.share_name,
                TeamMember.joined_at,
                Person.created_at,
                Person.timezone,
                Person.remind_days,
                Person.paused_until,
                Person.safety_hold,
            )
            .join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.team_id == team_id)
            .order_by(TeamMember.joined_at, TeamMember.person_id)
        )
    ).all()
    if not members:
        return []
    ids = [row.person_id for row in members]
    names: dict[int, str] = {}
    for person_id, name in (
        await session.execute(
            select(Identity.person_id, Identity.display_name)
            .where(Identity.person_id.in_(ids), Identity.platform == platform)
            .order_by(Identity.last_seen, Identity.id)
        )
    ).all():
        names[person_id] = name  # the one seen last wins
    days: dict[int, set[date]] = {}
    for person_id, local_date in (
        await session.execute(
            select(CheckIn.person_id, CheckIn.local_date).where(
                CheckIn.person_id.in_(ids),
                CheckIn.completed_at.is_not(None),
                and_(CheckIn.local_date >= since, CheckIn.local_date <= until),
            )
        )
    ).all():
        days.setdefault(person_id, set()).add(local_date)
    return [
        MemberWeek(
            person_id=row.person_id,
            name=names.get(row.person_id, ""),
            share_name=bool(row.share_name),
            joined_on=row.joined_at,
            created_at=row.created_at,
            timezone=row.timezone,
            remind_days=row.remind_days,
            resting=bool(row.safety_hold)
            or (row.paused_until is not None and row.paused_until > now),
            trained_days=frozenset(days.get(row.person_id, ())),
        )
        for row in members
    ]


async def team(session: AsyncSession, platform: str, group_ref: str) -> Team | None:
    statement = select(Team).where(Team.platform == platform, Team.group_ref == group_ref)
    return (await session.scalars(statement)).first()


async def membership(session: AsyncSession, team_id: int, person_id: int) -> TeamMember | None:
    return await session.get(TeamMember, (team_id, person_id))


async def memberships(session: AsyncSession, person_id: int) -> Sequence[tuple[TeamMember, Team]]:
    statement = (
        select(TeamMember, Team)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.person_id == person_id)
        .order_by(Team.id)
    )
    return [(member, found) for member, found in (await session.execute(statement)).all()]


async def member_count(session: AsyncSession, team_id: int) -> int:
    statement = select(func.count()).where(TeamMember.team_id == team_id)
    return int(await session.scalar(statement) or 0)
