"""How a unit of work ends (`SqlUnitOfWork.__aexit__`: last writes, commit and close in one
greenlet), on both databases: a clean exit stores everything, a failure or a cancellation
stores nothing, and every way out gives the connection back to the pool."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.storage_port import StoreConnectionLost
from storage.unit_of_work import SqlStorage
from tests.conftest import POSTGRES_ADMIN
from tests.integration.test_arrival_and_facts import statements
from tests.integration.test_carried_writes import (
    NOW,
    check_in_step,
    checked_out,
    someone,
    stored,
)


async def test_a_clean_exit_commits_and_gives_the_connection_back(storage: SqlStorage) -> None:
    ref, person_id, _ = await someone(storage)
    async with storage() as uow:
        arrival = await uow.people.arrive("console", ref, NOW)
        assert arrival is not None
        arrival.identity.person.pending = {"flow": "checkin", "step": "comfort"}
    assert checked_out(storage) == 0
    person, *_ = await stored(storage, person_id)
    assert {"flow": "checkin", "step": "comfort"} in person


async def test_an_error_in_the_block_stores_nothing(storage: SqlStorage) -> None:
    """The message fails inside the block after a flush wrote something: the error comes out,
    the transaction is rolled back and the connection is back in the pool. (Last writes that
    fail: `test_carried_writes`.)"""
    ref, person_id, _ = await someone(storage)
    before = await stored(storage, person_id)
    with pytest.raises(LookupError):
        async with storage() as uow:
            arrival = await uow.people.arrive("console", ref, NOW)
            assert arrival is not None
            arrival.identity.person.pending = None
            await uow.flush()  # written, then rolled back
            raise LookupError("the message failed")
    assert checked_out(storage) == 0
    assert await stored(storage, person_id) == before


async def test_a_message_cancelled_while_its_last_writes_wait_stores_nothing(
    postgres_storage: SqlStorage, postgres_url: str
) -> None:
    """PostgreSQL: the message's last writes wait for its open check-in's row, which another
    transaction holds, and the message's task is cancelled meanwhile. Its transaction is
    rolled back, its connection goes back to the pool, and nothing of it is stored."""
    storage = postgres_storage
    ref, person_id, open_id = await someone(storage)
    before = await stored(storage, person_id)
    holder = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        held = holder.transaction()
        await held.start()
        await holder.execute("SELECT 1 FROM checkins WHERE id = $1 FOR UPDATE", open_id)

        async def message() -> None:
            async with storage() as uow:
                await check_in_step(uow, ref, open_id, None)

        task = asyncio.create_task(message())
        waiting = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        for _ in range(100):
            if await holder.fetchval(waiting):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the last writes never waited for the row")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert checked_out(storage) == 0
        await held.rollback()
    finally:
        await holder.close()
    assert await stored(storage, person_id) == before


async def test_a_connection_lost_before_the_commit_is_store_connection_lost(
    postgres_storage: SqlStorage,
) -> None:
    """PostgreSQL: the server ends the message's connection after the arrival; the last writes
    fail with it, before any commit, so the coach may handle the message again: the unit of
    work says `StoreConnectionLost`, and the pool holds no dead connection out."""
    storage = postgres_storage
    ref, person_id, _ = await someone(storage)
    before = await stored(storage, person_id)
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        with pytest.raises(StoreConnectionLost):
            async with storage() as uow:
                arrival = await uow.people.arrive("console", ref, NOW)
                assert arrival is not None
                connection = await uow.session.connection()
                raw = await connection.get_raw_connection()
                pid = raw.driver_connection.get_server_pid()  # type: ignore[union-attr]
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                arrival.identity.person.pending = None
    finally:
        await admin.close()
    assert checked_out(storage) == 0
    assert await stored(storage, person_id) == before


async def test_a_check_in_the_arrival_loaded_is_got_without_a_statement(
    storage: SqlStorage,
) -> None:
    """The check-ins the arrival loads (the last session, the one a question names) are got
    again by id without reading anything; a check-in not loaded yet is read."""
    ref, person_id, _ = await someone(storage)
    async with storage() as uow:
        arrival = await uow.people.arrive("console", ref, NOW)
        assert arrival is not None and arrival.last_session is not None
        with statements(storage) as issued:
            again = await uow.checkins.get(arrival.last_session.id)
        assert again is arrival.last_session
        assert issued == []
        older = await uow.checkins.completed(person_id)
        uow.session.expunge(older[0])
        with statements(storage) as issued:
            read = await uow.checkins.get(older[0].id)
        assert read is not None and read is not older[0] and read.id == older[0].id
        assert len(issued) == 1


async def test_units_of_work_in_a_row_let_other_tasks_run(storage: SqlStorage) -> None:
    """SQLite runs on the loop's thread, so a unit of work may never wait for anything: it
    still gives the loop a turn, so that a run of them (a reminder fan-out) holds no other
    task back. (PostgreSQL waits for the server anyway.)"""
    ref, _, _ = await someone(storage)
    happened: list[str] = []

    async def other_task() -> None:
        happened.append("other task")

    other = asyncio.create_task(other_task())
    for number in range(3):
        async with storage() as uow:
            assert await uow.people.arrive("console", ref, NOW) is not None
        happened.append(f"unit of work {number}")
    await other
    assert happened[0] == "other task", happened
