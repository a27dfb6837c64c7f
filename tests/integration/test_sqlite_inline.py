"""The SQLite connection that runs on the event loop's thread (storage.sqlite_inline): no
thread hop per statement, and a locked database is waited for without stopping the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc, text

from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from storage import db
from tests.chat import Chat, FakeClock


async def _table(engine: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE tally (id INTEGER PRIMARY KEY, n INTEGER)"))
        await connection.execute(text("INSERT INTO tally VALUES (1, 0)"))


async def test_a_whole_conversation_runs_its_sql_on_the_loop_thread(tmp_path: Path) -> None:
    """Every statement of onboarding and a check-in is traced on the thread that runs the event
    loop: not one went to a worker thread."""
    threads: set[int] = set()
    statements = 0

    def trace(_statement: str) -> None:
        nonlocal statements
        statements += 1
        threads.add(threading.get_ident())

    url = f"sqlite+aiosqlite:///{tmp_path / 'coach.sqlite3'}"
    coach = await build_coach(
        Settings(database_url=url, content_dir=SOURCE_CONTENT), clock=FakeClock()
    )
    engine = coach.storage.engine  # type: ignore[attr-defined]
    await engine.dispose()  # connections opened from now on get the trace

    @event.listens_for(engine.sync_engine, "connect")
    def traced(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection._conn.set_trace_callback(trace)

    try:
        chat = Chat(coach)
        await chat.onboard()
        await chat.say("/checkin 2 yes 7")
        assert "Logged" in chat.text
    finally:
        await coach.close()
    assert statements > 20
    assert threads == {threading.get_ident()}


async def test_a_write_waits_for_another_connection_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    """Another process holds the write lock; our write waits for it with the loop running
    (a ticker keeps ticking), then succeeds once the lock is released."""
    path = tmp_path / "locked.sqlite3"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await _table(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, as another process would hold it
    other.execute("UPDATE tally SET n = 100 WHERE id = 1")
    ticks = 0
    ran_on = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1
            if ticks == 20:
                ran_on.set()

    async def release_later() -> None:
        await ran_on.wait()  # the loop ran on while our write waited
        other.execute("COMMIT")

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE tally SET n = n + 1 WHERE id = 1"))

    ticking = asyncio.create_task(ticker())
    try:
        await asyncio.gather(write(), release_later())
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT n FROM tally"))).scalar() == 101
    finally:
        ticking.cancel()
        other.close()
        await engine.dispose()
    assert ticks >= 20


async def test_a_lock_held_past_the_busy_timeout_fails_clearly(tmp_path: Path) -> None:
    """The URL's `timeout` bounds the wait; then SQLAlchemy's OperationalError, as before."""
    path = tmp_path / "held.sqlite3"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}?timeout=0.05")
    await _table(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(exc.OperationalError, match="locked"):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE tally SET n = n + 1 WHERE id = 1"))
        other.execute("ROLLBACK")
        async with engine.begin() as connection:  # nothing was lost; the engine still works
            await connection.execute(text("UPDATE tally SET n = n + 1 WHERE id = 1"))
            assert (await connection.execute(text("SELECT n FROM tally"))).scalar() == 1
    finally:
        other.close()
        await engine.dispose()


async def test_two_units_of_work_in_one_process_interleave_safely(tmp_path: Path) -> None:
    """A transaction that awaits something while holding the write lock does not deadlock a
    second writer of the same process: the second waits on the loop, then both count."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'two.sqlite3'}")
    await _table(engine)
    holding = asyncio.Event()

    async def slow_writer() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE tally SET n = n + 1 WHERE id = 1"))
            holding.set()
            await asyncio.sleep(0.05)  # e.g. waiting on the network mid-transaction

    async def second_writer() -> None:
        await holding.wait()
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE tally SET n = n + 10 WHERE id = 1"))

    try:
        await asyncio.gather(slow_writer(), second_writer())
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT n FROM tally"))).scalar() == 11
    finally:
        await engine.dispose()


async def test_rows_types_and_rollback_behave_as_with_aiosqlite(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kinds.sqlite3'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
            await connection.execute(
                text("INSERT INTO note (body) VALUES (:body)"),
                [{"body": "first"}, {"body": "second"}, {"body": "third"}],
            )
        with pytest.raises(RuntimeError):
            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM note"))
                raise RuntimeError("changed my mind")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, body FROM note ORDER BY id"))).all()
            streamed = await connection.stream(text("SELECT body FROM note ORDER BY id"))
            bodies = [row.body async for row in streamed]
        assert [tuple(row) for row in rows] == [(1, "first"), (2, "second"), (3, "third")]
        assert bodies == ["first", "second", "third"]
        with pytest.raises(exc.IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO note (id, body) VALUES (1, 'again')"))
    finally:
        await engine.dispose()
