"""`/link` codes and wrong tries, on one session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage import link_tries
from storage.models import LinkCode, Person


class SqlLinks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_code(self, code: LinkCode) -> None:
        await self.session.execute(
            delete(LinkCode).where(LinkCode.person_id == code.person_id, LinkCode.used_at.is_(None))
        )
        self.session.add(code)

    async def owner(self, code: str, now: datetime) -> int | None:
        return await self.session.scalar(select(LinkCode.person_id).where(*_live(code, now)))

    async def claim(self, code: str, person_id: int, now: datetime) -> Person | None:
        # One statement: of two accounts sending the code at the same moment, the second one's
        # UPDATE waits for the first to commit and then matches no row.
        statement = (
            update(LinkCode)
            .where(*_live(code, now), LinkCode.person_id != person_id)
            .values(used_at=now)
            .returning(LinkCode.person_id)
            .execution_options(synchronize_session=False)
        )
        keeper_id = await self.session.scalar(statement)
        return await self.session.get(Person, keeper_id) if keeper_id is not None else None

    async def wrong_tries_reopen(
        self, since: datetime, limit: int, identity_id: int | None = None
    ) -> datetime | None:
        return await link_tries.reopens_from(self.session, since, limit, identity_id)

    async def record_wrong_try(
        self, identity_id: int, now: datetime, forget_before: datetime
    ) -> None:
        await link_tries.record(self.session, identity_id, now, forget_before)


def _live(code: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
