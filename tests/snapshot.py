"""Every row of every table, to show that a refused input changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.service.coach import Coach
from storage.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(coach: Coach) -> Snapshot:
    tables: Snapshot = {}
    async with coach.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def changed(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """The tables whose rows differ, with the rows on each side (empty when nothing changed)."""
    return {
        name: {"before": before[name], "after": after.get(name)}
        for name in before
        if before[name] != after.get(name)
    }
