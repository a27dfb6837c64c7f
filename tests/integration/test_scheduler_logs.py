"""A tick that fails on the real database logs the failure, but no statement parameters: no
chat id and no reminder text reach a log line (the database rejects the outbox rows here)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform
from bot.logs import configure_logging
from storage import db
from tests.integration.scheduler_support import (
    PersonSpec,
    RecordingSender,
    add_people,
    scheduler,
)

CHAT = "5550001234987"  # a chat id no log line may show
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 in Berlin

REFUSE = {
    "postgresql": (
        "ALTER TABLE outbox ADD CONSTRAINT refuse_all CHECK (length(ref) > 100)",
        "ALTER TABLE outbox DROP CONSTRAINT refuse_all",
    ),
    "sqlite": (
        "CREATE TRIGGER refuse_all BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'no'); END",
        "DROP TRIGGER refuse_all",
    ),
}


@pytest.fixture
def logged(restore_logging: None) -> io.StringIO:
    """What `coach run` writes at DEBUG (libraries held at their quieter levels)."""
    out = io.StringIO()
    configure_logging("DEBUG", json_format=False, stream=out)
    return out


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    yield db.sessionmaker(engine)
    await engine.dispose()


async def test_a_failed_tick_logs_no_parameters(
    sessions: async_sessionmaker[AsyncSession], logged: io.StringIO
) -> None:
    await add_people(sessions, [PersonSpec(user_ref=CHAT)], PLANNED)
    async with sessions() as session, session.begin():
        dialect = session.get_bind().dialect.name
        await session.execute(text(REFUSE[dialect][0]))
    sender = RecordingSender(Platform.TELEGRAM)
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender}, clock=lambda: DUE)

    await reminders._job()  # the tick as APScheduler runs it: the failure is logged
    assert not sender.sent
    # Once the database takes the rows, this is the reminder that was refused.
    async with sessions() as session, session.begin():
        await session.execute(text(REFUSE[dialect][1]))
    await reminders._job()
    [reminder] = sender.sent
    assert reminder.ref == CHAT
    lines = [line for line in reminder.text.splitlines() if len(line.strip()) > 12]
    assert lines
    written = logged.getvalue()
    for line in lines:
        assert line not in written
    assert CHAT not in written
    assert "[parameters" not in written and "parameters hidden" not in written
    assert "[SQL:" not in written  # only the type and the frames, not the error's message
    assert "reminders: tick failed: IntegrityError" in written  # but the failure is there
