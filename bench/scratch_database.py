"""A database of its own for one bench run: a fresh PostgreSQL database on the local server,
dropped afterwards (COACH_TEST_POSTGRES_DSN overrides the admin DSN, as in the tests)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

POSTGRES_ADMIN = os.environ.get(
    "COACH_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The SQLAlchemy URL of a new, empty database; dropped (connections and all) on exit."""
    name = f"coach_bench_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()
