"""The send budget replicas share on PostgreSQL (`bot.pacing.SharedPacer`).

One row per platform holds its next free slot (seconds since the epoch). A replica takes `count`
slots with one statement: the upsert moves the slot on from wherever it is (never from before
`now`) and returns where it ended, so two replicas never get the same slot; the row lock is held
only for that statement. A slot further ahead than `HORIZON` is pulled back: a replica whose
clock ran ahead must not hold the others back for long.

SQLite serves one process: the in-memory `bot.pacing.Pacer` is enough there (`shared_budget`
answers None).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import SendBudget

HORIZON = 30.0  # seconds: legitimately, a few in-flight batches at most


async def reserve(
    session: AsyncSession, platform: str, count: int, gap: float, now: float
) -> float:
    """Take `count` slots `gap` seconds apart; the time of the first."""
    span = count * gap
    start = func.greatest(func.least(SendBudget.next_slot, now + HORIZON), now)
    statement = (
        insert(SendBudget)
        .values(platform=platform, next_slot=now + span)
        .on_conflict_do_update(
            index_elements=[SendBudget.platform], set_={"next_slot": start + span}
        )
        .returning(SendBudget.next_slot)
    )
    end = float((await session.execute(statement)).scalar_one())
    return end - span


class SharedBudget:
    """`bot.pacing.SlotBook` on PostgreSQL: each reservation is its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def reserve(self, platform: str, count: int, gap: float, now: float) -> float:
        async with self.sessions() as session, session.begin():
            return await reserve(session, platform, count, gap, now)


def shared_budget(sessions: async_sessionmaker[AsyncSession]) -> SharedBudget | None:
    """The shared budget when the database is PostgreSQL (replicas), else None."""
    bind = sessions.kw.get("bind")
    dialect = getattr(bind, "dialect", None)
    return SharedBudget(sessions) if getattr(dialect, "name", "") == "postgresql" else None
