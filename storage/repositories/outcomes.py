"""A person's activities, reassessments and lessons seen, on one session (`storage.outcomes`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage_port import NewActivity
from storage import outcomes
from storage.models import Activity, Reassessment


class SqlOutcomes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_activities(
        self, person_id: int, chosen: Sequence[NewActivity], now: datetime
    ) -> Sequence[Activity]:
        return await outcomes.add_activities(self.session, person_id, chosen, now)

    async def activities(self, person_id: int) -> Sequence[Activity]:
        return await outcomes.activities(self.session, person_id)

    async def answered_weeks(self, person_id: int) -> set[int]:
        return await outcomes.answered_weeks(self.session, person_id)

    async def add_reassessment(
        self,
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
        return await outcomes.add_reassessment(
            self.session,
            person_id,
            week=week,
            local_date=local_date,
            now=now,
            usual_pain=usual_pain,
            global_rating=global_rating,
            scores=scores,
            review_suggested=review_suggested,
        )

    async def reassessments(self, person_id: int) -> list[tuple[Reassessment, dict[int, int]]]:
        return await outcomes.reassessments(self.session, person_id)

    async def mark_lesson_seen(
        self, person_id: int, lesson_id: str, today: date, now: datetime
    ) -> bool:
        return await outcomes.mark_lesson_seen(self.session, person_id, lesson_id, today, now)

    async def lessons_seen(self, person_id: int) -> dict[str, date]:
        return await outcomes.lessons_seen(self.session, person_id)

    async def export(self, person_id: int) -> dict[str, Any]:
        return await outcomes.export(self.session, person_id)
