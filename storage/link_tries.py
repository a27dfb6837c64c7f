"""Wrong `/link` codes: the counts the rate limit reads (`bot.service.link_guard`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity, LinkTry


async def reopens_from(
    session: AsyncSession, since: datetime, limit: int, identity_id: int | None = None
) -> datetime | None:
    """None while fewer than `limit` wrong codes were sent after `since` (by one account, or by
    everyone); otherwise the time of the try whose ageing out brings the count under `limit`."""
    where = [LinkTry.at > since]
    if identity_id is not None:
        where.append(LinkTry.identity_id == identity_id)
    count = int(await session.scalar(select(func.count()).where(*where)) or 0)
    if count < limit:
        return None
    statement = select(LinkTry.at).where(*where).order_by(LinkTry.at).offset(count - limit)
    return await session.scalar(statement.limit(1))


async def record(
    session: AsyncSession, identity_id: int, now: datetime, forget_before: datetime
) -> None:
    """One more wrong code; tries older than `forget_before` count for nothing and go."""
    await session.execute(delete(LinkTry).where(LinkTry.at < forget_before))
    session.add(LinkTry(identity_id=identity_id, at=now))


async def forget_person(session: AsyncSession, person_id: int) -> None:
    """/delete: the person's tries keep counting for everyone, no longer tied to an account."""
    accounts = select(Identity.id).where(Identity.person_id == person_id)
    await session.execute(
        update(LinkTry)
        .where(LinkTry.identity_id.in_(accounts))
        .values(identity_id=None)
        .execution_options(synchronize_session=False)
    )
