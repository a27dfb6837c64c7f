"""The PostgreSQL pool serves waiting checkouts first come, first served (`storage.fifo_pool`),
on real connections: a returned connection goes to the longest waiter, not to whoever asks
next; a waiter that gave up (timed out, cancelled) loses nothing for the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import db
from storage.fifo_pool import FifoQueuePool


@pytest.fixture
async def one_connection(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds one connection (the coach's pool, made small)."""
    engine = create_async_engine(
        postgres_url, poolclass=FifoQueuePool, pool_size=1, max_overflow=0, pool_timeout=5
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def waiting(engine: AsyncEngine, count: int) -> None:
    """Until `count` checkouts wait for a connection."""
    pool = engine.sync_engine.pool
    for _ in range(500):
        if len(pool._pool._waiters) >= count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} checkouts never waited")


async def checkout(engine: AsyncEngine, name: str, served: list[str]) -> None:
    async with engine.connect() as connection:
        served.append(name)
        await connection.exec_driver_sql("SELECT 1")


def test_the_coach_engine_uses_the_fifo_pool(postgres_url: str) -> None:
    engine = db.create_engine(postgres_url)
    assert isinstance(engine.sync_engine.pool, FifoQueuePool)
    assert engine.sync_engine.pool.size() == db.POOL_SIZE


async def test_a_returned_connection_goes_to_the_waiter_not_to_who_asks_next(
    one_connection: AsyncEngine,
) -> None:
    """The task that returns the connection asks again at once (the next message of a busy
    loop): SQLAlchemy's own queue gave it the connection back, ahead of the one waiting."""
    served: list[str] = []
    first = await one_connection.connect()
    waiter = asyncio.create_task(checkout(one_connection, "waiter", served))
    await waiting(one_connection, 1)
    await first.close()
    await checkout(one_connection, "asked next", served)
    await asyncio.wait_for(waiter, 5)
    assert served == ["waiter", "asked next"]


async def test_waiters_are_served_in_the_order_they_came(one_connection: AsyncEngine) -> None:
    served: list[str] = []
    first = await one_connection.connect()
    waiters = []
    for name in ("a", "b", "c"):
        waiters.append(asyncio.create_task(checkout(one_connection, name, served)))
        await waiting(one_connection, len(waiters))
    await first.close()
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert served == ["a", "b", "c"]


async def test_a_waiter_cancelled_after_the_handover_passes_the_connection_on(
    one_connection: AsyncEngine,
) -> None:
    """Cancelled (a message's task stopped at shutdown, say) just after a connection was handed
    to it, before it ran: the connection goes to the next in line, not lost to the pool."""
    served: list[str] = []
    first = await one_connection.connect()
    cancelled = asyncio.create_task(checkout(one_connection, "cancelled", served))
    await waiting(one_connection, 1)
    second = asyncio.create_task(checkout(one_connection, "second", served))
    await waiting(one_connection, 2)
    await first.close()  # handed to "cancelled", which has not run since
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(second, 5)
    assert served == ["second"]
    await asyncio.wait_for(checkout(one_connection, "after", served), 5)  # back in the pool
    assert one_connection.sync_engine.pool.checkedout() == 0


async def test_a_waiter_that_timed_out_is_skipped(postgres_url: str) -> None:
    engine = create_async_engine(
        postgres_url, poolclass=FifoQueuePool, pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    try:
        served: list[str] = []
        first = await engine.connect()
        with pytest.raises(PoolTimeout):
            await checkout(engine, "gave up", served)
        late = asyncio.create_task(checkout(engine, "late", served))
        await waiting(engine, 1)
        await first.close()
        await asyncio.wait_for(late, 5)
        await asyncio.wait_for(checkout(engine, "idle", served), 5)
        assert served == ["late", "idle"]
    finally:
        await engine.dispose()
