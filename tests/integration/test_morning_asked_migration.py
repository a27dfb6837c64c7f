"""Migration 0008 on both databases: the day the morning question was last asked moves from the
check-ins to the person's row and back, and the migrated schema matches the models."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage import db
from tests.integration.test_scheduler_outbox_migration import _diff

NOW = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
ASKED = date(2027, 1, 10)


async def test_0008_moves_the_day_asked_to_the_person_and_back(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine, "0007")
        async with engine.begin() as connection:
            for person in (1, 2):
                await connection.execute(
                    text(
                        "INSERT INTO people (id, created_at, onboarded, program_id, phase_index, "
                        "lighter_dose, remind_days, remind_enabled) VALUES "
                        "(:id, :now, true, 'p', 0, false, 127, false)"
                    ),
                    {"id": person, "now": NOW},
                )
            # (id, person, day, asked): person 1 was asked about their last session (id 2).
            for row_id, person, day, asked in (
                (1, 1, date(2027, 1, 8), date(2027, 1, 9)),
                (2, 1, date(2027, 1, 9), ASKED),
                (3, 2, date(2027, 1, 9), None),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO checkins (id, person_id, started_at, completed_at, "
                        "local_date, phase_index, paused, morning_asked_on) VALUES "
                        "(:id, :person, :at, :at, :day, 0, false, :asked)"
                    ),
                    {"id": row_id, "person": person, "at": NOW, "day": day, "asked": asked},
                )
            await connection.execute(
                text(
                    "INSERT INTO decisions (person_id, checkin_id, at, decision, reason, "
                    "phase_from, phase_to) VALUES (1, 2, :now, 'hold', 'r', 0, 0)"
                ),
                {"now": NOW},
            )
        await db.upgrade(engine, "0008")
        async with engine.connect() as connection:
            people = (
                await connection.execute(
                    text("SELECT id, morning_asked_on FROM people ORDER BY id")
                )
            ).all()
        assert [(row[0], _day(row[1])) for row in people] == [(1, ASKED), (2, None)]
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM decisions")) == 1

        def down(connection: Connection) -> None:
            config = db.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            checkins = (
                await connection.execute(
                    text("SELECT id, morning_asked_on FROM checkins ORDER BY id")
                )
            ).all()
        # Back on each person's last completed check-in.
        assert [(row[0], _day(row[1])) for row in checkins] == [(1, None), (2, ASKED), (3, None)]
        async with engine.connect() as connection:
            # No table was copied and dropped: the rows hanging off it are all still there.
            assert await connection.scalar(text("SELECT count(*) FROM decisions")) == 1
        await db.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


def _day(value: object) -> date | None:
    """SQLite hands a raw DATE column back as text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
