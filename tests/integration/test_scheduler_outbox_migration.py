"""Migration 0002 (reminder columns, outbox) on both databases: up, down, up again, and the
migrated schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage import db
from storage.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_0002_up_down_up_and_matches_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (id, created_at, onboarded, program_id, phase_index, "
                    "lighter_dose, remind_days, remind_enabled, next_fire_utc) VALUES "
                    "(1, :now, true, 'p', 0, false, 127, true, :now)"
                ),
                {"now": datetime(2027, 1, 4, tzinfo=UTC)},
            )
        await db.upgrade(engine, "0002")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            kind = await connection.scalar(text("SELECT next_fire_kind FROM people"))
        assert "outbox" in tables and kind == "reminder"

        def down(connection: Connection) -> None:
            config = db.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("people")}
            )
        assert "outbox" not in tables and "snoozed_until" not in columns
        await db.upgrade(engine)  # head, whatever later revisions add
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
