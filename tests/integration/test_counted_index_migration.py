"""Migration 0010 on both databases: the index on a phase's counted check-ins comes and goes,
every row stays, and the migrated schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage import db
from tests.integration.test_scheduler_outbox_migration import _diff

NOW = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
COLUMNS = ["person_id", "phase_index", "paused", "local_date", "completed_at"]


def _indexes(connection: Connection) -> dict[str, list[str | None]]:
    return {i["name"]: i["column_names"] for i in inspect(connection).get_indexes("checkins")}


async def _rows(engine: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id, person_id, phase_index, paused FROM checkins ORDER BY id")
        )
        return [tuple(row) for row in found]


async def test_0010_adds_and_drops_the_index_keeping_the_rows(database_url: str) -> None:
    engine = db.create_engine(database_url)

    def down(connection: Connection) -> None:
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")

    try:
        await db.upgrade(engine, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (id, created_at, onboarded, program_id, phase_index, "
                    "lighter_dose, remind_days, remind_enabled) VALUES "
                    "(1, :now, true, 'p', 1, false, 127, false)"
                ),
                {"now": NOW},
            )
            for n in range(6):
                at = NOW - timedelta(days=6 - n)
                await connection.execute(
                    text(
                        "INSERT INTO checkins (id, person_id, started_at, completed_at, "
                        "local_date, phase_index, paused) VALUES "
                        "(:id, 1, :at, :done, :day, :phase, :paused)"
                    ),
                    {
                        "id": n + 1,
                        "at": at,
                        "done": at if n < 5 else None,
                        "day": at.date(),
                        "phase": n // 3,
                        "paused": n == 4,
                    },
                )
        before = await _rows(engine)
        assert len(before) == 6
        async with engine.connect() as connection:
            assert "ix_checkins_counted" not in await connection.run_sync(_indexes)

        await db.upgrade(engine, "0010")
        async with engine.connect() as connection:
            assert (await connection.run_sync(_indexes))["ix_checkins_counted"] == COLUMNS
            assert await connection.run_sync(_diff) == []
        assert await _rows(engine) == before

        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            assert "ix_checkins_counted" not in await connection.run_sync(_indexes)
        assert await _rows(engine) == before

        await db.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
        assert await _rows(engine) == before
    finally:
        await engine.dispose()
