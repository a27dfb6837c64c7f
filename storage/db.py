"""Engine, sessions and schema upgrades for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.util import await_only

from storage.compiled_cache import CompiledCache
from storage.fifo_pool import FifoQueuePool
from storage.sqlite_inline import creator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL connections one process keeps open at most (messages beyond wait their turn).
POOL_SIZE = 20


def create_engine(url: str) -> AsyncEngine:
    """`hide_parameters`: a database error's text must not carry the statement's parameters
    (chat ids, message text, health answers), wherever it is logged or shown."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # No thread hop per statement: see storage.sqlite_inline.
        engine = create_async_engine(
            url,
            hide_parameters=True,
            async_creator=creator(parsed),
            execution_options={"compiled_cache": CompiledCache()},
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # LIFO: the connection returned last goes out next, so after a burst opened several, a
    # quiet period keeps reusing one that has just rested (no ping, see `_ping`) while the
    # others rest; first-in-first-out would hand out the longest-rested each time and ping it.
    # No overflow: the pool closed an overflow connection whenever it came back to a full
    # queue of idle ones (at every lull under load) and opened a new one at the next message,
    # which prepares every statement and reads `coach_arrival`'s types again.
    # First come, first served among messages waiting for a connection: see storage.fifo_pool.
    engine = create_async_engine(
        url,
        poolclass=FifoQueuePool,
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_use_lifo=True,
        hide_parameters=True,
        # Compiled statements found by the identity of their cache key: see storage.compiled_cache.
        execution_options={"compiled_cache": CompiledCache()},
    )
    event.listen(engine.sync_engine, "checkout", _ping)
    event.listen(engine.sync_engine, "checkin", _returned)
    return engine


PING_AFTER_IDLE = 1.0  # seconds a pooled PostgreSQL connection rests before it is pinged


def _ping(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A PostgreSQL restart leaves dead connections in the pool: a connection the server closed
    is replaced, and one that rested a while is tested with one round trip (`pool_pre_ping`
    costs three: SQLAlchemy's asyncpg ping wraps a prepared `;` in BEGIN and ROLLBACK). Under
    load connections rest for milliseconds and go out unpinged: one round trip fewer per
    transaction. A connection that dies in that short rest fails its first statement; the pool
    then replaces every older connection, and the unit of work raises `StoreConnectionLost` so
    the coach runs the message again (nothing was committed)."""
    connection = record.driver_connection
    if _seen_closed(connection):
        raise exc.InvalidatePoolError("pooled connection is closed")
    rested = time.monotonic() - record.info.get("returned_at", 0.0)
    if rested < PING_AFTER_IDLE:
        return
    try:
        await_only(connection.execute("SELECT 1"))
    except Exception as error:  # whatever a dead connection raises, a new one is the cure
        raise exc.InvalidatePoolError("pooled connection is gone") from error


def _seen_closed(connection: Any) -> bool:
    return bool(connection.is_closed())


def _returned(_dbapi_connection: Any, record: Any) -> None:
    record.info["returned_at"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE needs it
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    # No busy timeout here: storage.sqlite_inline waits for a lock without blocking the loop.
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (the coach does this at start)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
