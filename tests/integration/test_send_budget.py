"""The shared send budget's table and statement (`storage.send_budget`): slots taken by two
engines at once never overlap, an idle budget starts at `now`, a slot far ahead is pulled back,
and the scheduler picks the shared pacer on PostgreSQL only. Times are passed in: no waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import inspect, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform
from bot.pacing import DISCORD, TELEGRAM, TELEGRAM_PAID, Pacer, SharedPacer
from storage import db, send_budget
from storage.models import SendBudget
from tests.integration.scheduler_support import RecordingSender, library, settings
from tests.integration.test_scheduler_outbox_migration import _diff

GAP = 0.05
NOW = 1_800_000_000.0  # seconds since the epoch


@pytest.fixture
async def two_engines(postgres_url: str) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    engines = [db.create_engine(postgres_url), db.create_engine(postgres_url)]
    await db.upgrade(engines[0])
    try:
        yield [db.sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_two_engines_reserving_at_once_get_disjoint_slots(
    two_engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    books = [send_budget.SharedBudget(sessions) for sessions in two_engines]
    firsts = await asyncio.gather(
        *(books[n % 2].reserve("telegram", 3, GAP, NOW) for n in range(40))
    )
    starts = sorted(round((first - NOW) / GAP, 3) for first in firsts)  # float seconds
    assert starts == [3.0 * n for n in range(40)]  # back to back, none shared
    # Another platform has its own row.
    assert await books[0].reserve("discord", 1, GAP, NOW) == NOW


@pytest.mark.postgres
async def test_an_idle_budget_starts_now_and_a_runaway_one_is_pulled_back(
    two_engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    book = send_budget.SharedBudget(two_engines[0])
    assert await book.reserve("telegram", 2, GAP, NOW) == NOW
    assert await book.reserve("telegram", 1, GAP, NOW) == pytest.approx(NOW + 2 * GAP)
    later = NOW + 60.0  # the budget sat unused: no catching up on slots long past
    assert await book.reserve("telegram", 1, GAP, later) == later
    async with two_engines[1]() as session, session.begin():
        await session.execute(update(SendBudget).values(next_slot=NOW + 7200.0))
    first = await book.reserve("telegram", 1, GAP, later)  # a clock an hour ahead wrote that
    assert first == later + send_budget.HORIZON


async def test_the_scheduler_shares_the_budget_on_postgres_only(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        sessions = db.sessionmaker(engine)
        telegram, discord = RecordingSender(Platform.TELEGRAM), RecordingSender(Platform.DISCORD)
        telegram.paid_broadcast = True  # type: ignore[attr-defined]
        from bot.scheduler import ReminderScheduler

        reminders = ReminderScheduler(
            sessions,
            library(),
            {Platform.TELEGRAM: telegram, Platform.DISCORD: discord},
            settings(),
        )
        pacers = reminders.courier.pacers
        on_postgres = database_url.startswith("postgresql")
        kind = SharedPacer if on_postgres else Pacer
        assert all(type(pacer) is kind for pacer in pacers.values())
        assert (send_budget.shared_budget(sessions) is not None) is on_postgres
        assert pacers[Platform.TELEGRAM].limits is TELEGRAM_PAID  # the sender pays for it
        assert pacers[Platform.DISCORD].limits is DISCORD
        telegram.paid_broadcast = False  # type: ignore[attr-defined]
        again = ReminderScheduler(sessions, library(), {Platform.TELEGRAM: telegram}, settings())
        assert again.courier.pacers[Platform.TELEGRAM].limits is TELEGRAM
    finally:
        await engine.dispose()


async def test_migration_0009_up_down_up_matches_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)

    def down(connection: object) -> None:
        from alembic import command

        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")

    try:
        await db.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert "send_budget" not in tables
        await db.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
