"""A person's check-ins, decisions, pauses and entry self-tests, on one session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CheckIn, DecisionRecord, Pause, SelfTestResult


class SqlCheckIns:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, checkin_id: int) -> CheckIn | None:
        return await self.session.get(CheckIn, checkin_id)

    def add(self, checkin: CheckIn) -> None:
        self.session.add(checkin)

    async def completed(
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

    async def last_completed(self, person_id: int) -> CheckIn | None:
        statement = (
            select(CheckIn)
            .where(CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None))
            .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def same_day_without_morning(self, person_id: int, day: date) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(
            CheckIn.person_id == person_id,
            CheckIn.completed_at.is_not(None),
            CheckIn.local_date == day,
            CheckIn.morning_pain.is_(None),
        )
        return (await self.session.scalars(statement)).all()

    async def every(self, person_id: int) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(CheckIn.person_id == person_id).order_by(CheckIn.id)
        return (await self.session.scalars(statement)).all()

    def add_decision(self, decision: DecisionRecord) -> None:
        self.session.add(decision)

    async def decisions(self, person_id: int) -> Sequence[DecisionRecord]:
        statement = (
            select(DecisionRecord)
            .where(DecisionRecord.person_id == person_id)
            .order_by(DecisionRecord.at, DecisionRecord.id)
        )
        return (await self.session.scalars(statement)).all()

    def add_self_test(self, result: SelfTestResult) -> None:
        self.session.add(result)

    async def self_tests(
        self, person_id: int, test_id: str | None = None
    ) -> Sequence[SelfTestResult]:
        statement = select(SelfTestResult).where(SelfTestResult.person_id == person_id)
        if test_id is not None:
            statement = statement.where(SelfTestResult.test_id == test_id)
        statement = statement.order_by(SelfTestResult.at, SelfTestResult.id)
        return (await self.session.scalars(statement)).all()

    def add_pause(self, pause: Pause) -> None:
        self.session.add(pause)

    async def pauses(self, person_id: int) -> Sequence[Pause]:
        statement = select(Pause).where(Pause.person_id == person_id).order_by(Pause.started_at)
        return (await self.session.scalars(statement)).all()

    async def open_pause(self, person_id: int, now: datetime) -> Pause | None:
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
