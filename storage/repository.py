"""Queries the coach needs, on one session. A `Repository` lives for one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage import link_tries
from storage.models import (
    OUTCOME_TABLES,
    CheckIn,
    DecisionRecord,
    Identity,
    LinkCode,
    OutboxMessage,
    Pause,
    Person,
    SelfTestResult,
    TeamMember,
)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def identity(
        self, platform: str, user_ref: str, *, lock: bool = False
    ) -> Identity | None:
        """The chat identity with its person; on PostgreSQL `lock` holds both rows until commit,
        so two messages of one person (a double press, two linked chats) are handled one at a
        time, whichever replica gets them. (SQLite has no row locks: see `Coach.handle`.)"""
        statement = (
            select(Identity)
            .where(Identity.platform == platform, Identity.user_ref == user_ref)
            .options(joinedload(Identity.person, innerjoin=True))
        )
        if lock and self.session.get_bind().dialect.name != "sqlite":
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).first()

    async def add_person(
        self, platform: str, user_ref: str, display_name: str, now: datetime
    ) -> Identity:
        person = Person(created_at=now)
        identity = Identity(
            person=person,
            platform=platform,
            user_ref=user_ref,
            display_name=display_name[:128],
            last_seen=now,
        )
        self.session.add_all([person, identity])
        await self.session.flush()
        return identity

    async def identities(self, person_id: int) -> Sequence[Identity]:
        statement = select(Identity).where(Identity.person_id == person_id).order_by(Identity.id)
        return (await self.session.scalars(statement)).all()

    async def checkin(self, checkin_id: int) -> CheckIn | None:
        return await self.session.get(CheckIn, checkin_id)

    def add(self, row: CheckIn | DecisionRecord | Pause | SelfTestResult) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    async def completed_checkins(
        self, person_id: int, *, since: date | None = None, phase_index: int | None = None
    ) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(
            CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None)
        )
        if since is not None:
            statement = statement.where(CheckIn.local_date >= since)
        if phase_index is not None:
            statement = statement.where(CheckIn.phase_index == phase_index)
        statement = statement.order_by(CheckIn.completed_at, CheckIn.id)
        return (await self.session.scalars(statement)).all()

    async def phase_summary(
        self, person_id: int, phase_index: int, since: date | None, last: int
    ) -> tuple[int, date | None, Sequence[CheckIn]]:
        """Completed check-ins of a phase: how many, the first day, and the `last` few."""
        where = [
            CheckIn.person_id == person_id,
            CheckIn.completed_at.is_not(None),
            CheckIn.phase_index == phase_index,
            CheckIn.paused.is_(False),  # logged while paused: kept, never counted
        ]
        if since is not None:
            where.append(CheckIn.local_date >= since)
        row = (
            await self.session.execute(
                select(func.count(CheckIn.id), func.min(CheckIn.local_date)).where(*where)
            )
        ).one()
        tail = (
            await self.session.scalars(
                select(CheckIn)
                .where(*where)
                .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
                .limit(last)
            )
        ).all()
        return int(row[0]), row[1], list(reversed(tail))

    async def last_completed_checkin(self, person_id: int) -> CheckIn | None:
        statement = (
            select(CheckIn)
            .where(CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None))
            .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def recent_checkins(self, person_id: int, since: date) -> Sequence[CheckIn]:
        """Completed check-ins from `since` on, paused ones included (for the health signals
        that do not wait for a pause to end: creeping morning pain, leg symptoms)."""
        return await self.completed_checkins(person_id, since=since)

    async def same_day_without_morning(self, person_id: int, day: date) -> Sequence[CheckIn]:
        """Completed check-ins of one day whose next morning is not known: one morning answer
        settles (or not) every session of the day before."""
        statement = select(CheckIn).where(
            CheckIn.person_id == person_id,
            CheckIn.completed_at.is_not(None),
            CheckIn.local_date == day,
            CheckIn.morning_pain.is_(None),
        )
        return (await self.session.scalars(statement)).all()

    async def self_tests(
        self, person_id: int, test_id: str | None = None
    ) -> Sequence[SelfTestResult]:
        statement = select(SelfTestResult).where(SelfTestResult.person_id == person_id)
        if test_id is not None:
            statement = statement.where(SelfTestResult.test_id == test_id)
        statement = statement.order_by(SelfTestResult.at, SelfTestResult.id)
        return (await self.session.scalars(statement)).all()

    async def pauses(self, person_id: int) -> Sequence[Pause]:
        statement = select(Pause).where(Pause.person_id == person_id).order_by(Pause.started_at)
        return (await self.session.scalars(statement)).all()

    async def open_pause(self, person_id: int, now: datetime) -> Pause | None:
        """The pause or hold going on at `now` (its end not reached, or not set)."""
        statement = (
            select(Pause)
            .where(
                Pause.person_id == person_id,
                or_(Pause.ended_at.is_(None), Pause.ended_at > now),
            )
            .order_by(Pause.started_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def decisions(self, person_id: int) -> Sequence[DecisionRecord]:
        statement = (
            select(DecisionRecord)
            .where(DecisionRecord.person_id == person_id)
            .order_by(DecisionRecord.at, DecisionRecord.id)
        )
        return (await self.session.scalars(statement)).all()

    async def all_checkins(self, person_id: int) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(CheckIn.person_id == person_id).order_by(CheckIn.id)
        return (await self.session.scalars(statement)).all()

    async def delete_person(self, person_id: int) -> None:
        # Child rows go by ON DELETE CASCADE; delete them explicitly too, so a backend or
        # connection without foreign-key enforcement cannot leave health data behind.
        await link_tries.forget_person(self.session, person_id)
        for table in (
            *OUTCOME_TABLES,
            TeamMember,
            LinkCode,
            OutboxMessage,
            DecisionRecord,
            SelfTestResult,
            Pause,
            CheckIn,
            Identity,
        ):
            await self.session.execute(delete(table).where(table.person_id == person_id))
        await self.session.execute(delete(Person).where(Person.id == person_id))
        self.session.expunge_all()  # the loaded rows are gone: nothing left to flush
