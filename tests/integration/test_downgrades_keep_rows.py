"""Every downgrade keeps the rows of the tables it does not remove: a column dropped from
`people` or `checkins` must not take the person's check-ins and decisions with it (on SQLite a
batch copy of the table would: dropping the old copy deletes what cascades from it)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import db

NOW = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
KEPT = ("people", "identities", "checkins", "decisions")
# From the newest revision down to the first one; each step is one downgrade.
STEPS = ("0010", "0009", "0008", "0007", "0006", "0005", "0004", "0003", "0002", "0001")


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")))


async def test_each_downgrade_keeps_people_checkins_and_decisions(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (id, created_at, onboarded, program_id, phase_index, "
                    "lighter_dose, remind_days, remind_enabled) VALUES "
                    "(1, :now, true, 'p', 0, false, 127, false)"
                ),
                {"now": NOW},
            )
            await connection.execute(
                text(
                    "INSERT INTO identities (id, person_id, platform, user_ref, display_name, "
                    "last_seen, unreachable) VALUES (1, 1, 'console', 'u1', 'Ann', :now, false)"
                ),
                {"now": NOW},
            )
            await connection.execute(
                text(
                    "INSERT INTO checkins (id, person_id, started_at, completed_at, local_date, "
                    "phase_index, paused) VALUES (1, 1, :now, :now, :day, 0, false)"
                ),
                {"now": NOW, "day": date(2027, 1, 10)},
            )
            await connection.execute(
                text(
                    "INSERT INTO decisions (person_id, checkin_id, at, decision, reason, "
                    "phase_from, phase_to) VALUES (1, 1, :now, 'hold', 'r', 0, 0)"
                ),
                {"now": NOW},
            )
        for revision in STEPS:

            def down(connection: Connection, revision: str = revision) -> None:
                config = db.alembic_config()
                config.attributes["connection"] = connection
                command.downgrade(config, revision)

            async with engine.begin() as connection:
                await connection.run_sync(down)
            counts = {table: await _count(engine, table) for table in KEPT}
            assert counts == dict.fromkeys(KEPT, 1), (revision, counts)
    finally:
        await engine.dispose()
