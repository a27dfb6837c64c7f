"""SQLite on the event loop's own thread: the aiosqlite connection interface, run inline.

aiosqlite runs every call (execute, fetch, commit) in a worker thread and wakes the event loop
for its answer: two thread hand-offs per call, 60-700 µs each depending on the machine, against
a few µs for the query itself. A chat message is 10-40 such calls. SQLite work is short and
local, so this connection runs the same calls directly in the event loop thread and hands
SQLAlchemy its answers at once: a whole unit of work costs no thread hop at all.

Waiting is the one thing that must not block the loop. The connection is opened with no busy
timeout; when another connection holds the write lock (another process, or another unit of work
of this process that is awaiting something mid-transaction), the statement is retried after
`asyncio.sleep`, with growing pauses, until the busy timeout the URL asks for (SQLite's default
5 s) has passed. Everything else in the process runs on meanwhile, including the transaction
that holds the lock. A stale read snapshot (SQLITE_BUSY_SNAPSHOT) fails at once, as it does
with aiosqlite: waiting cannot cure it.

SQLAlchemy's own aiosqlite dialect drives this connection (`create_async_engine(...,
async_creator=...)`), so the URL, the SQL and the error types stay those of
`sqlite+aiosqlite`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

T = TypeVar("T")

SQLITE_BUSY = 5  # another connection holds the lock: waiting helps
SQLITE_BUSY_RECOVERY = 261  # another connection is recovering the WAL: waiting helps
_WAIT_CODES = frozenset({SQLITE_BUSY, SQLITE_BUSY_RECOVERY})
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05


def connect_args(url: URL) -> tuple[list[Any], dict[str, Any]]:
    """What the aiosqlite dialect would pass to `sqlite3.connect` for this URL."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(url)
    return list(args), dict(kwargs)


def creator(url: URL) -> Callable[[], Awaitable[InlineConnection]]:
    """The `async_creator` for `create_async_engine`."""
    args, kwargs = connect_args(url)
    patience = float(kwargs.pop("timeout", 5.0))

    async def connect() -> InlineConnection:
        # check_same_thread off: the pool may close a connection from a garbage-collection
        # pass on another thread; every use is still one at a time (SQLAlchemy's mutex).
        connection = sqlite3.connect(
            args[0],
            timeout=0.0,
            check_same_thread=False,
            detect_types=int(kwargs.get("detect_types", 0)),
            cached_statements=int(kwargs.get("cached_statements", 128)),
            uri=bool(kwargs.get("uri", False)),
        )
        return InlineConnection(connection, patience)

    return connect


async def _patiently(call: Callable[[], T], patience: float) -> T:
    """`call()`, retried after a pause while SQLite says another connection holds the lock."""
    try:
        return call()  # the common case: no lock held elsewhere, no await at all
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) not in _WAIT_CODES:
            raise
    deadline = time.monotonic() + patience
    pause = _FIRST_PAUSE
    while True:
        await asyncio.sleep(pause)
        try:
            return call()
        except sqlite3.OperationalError as error:
            code = getattr(error, "sqlite_errorcode", None)
            if code not in _WAIT_CODES or time.monotonic() >= deadline:
                raise
        pause = min(pause * 2, _LONGEST_PAUSE)


class InlineCursor:
    """aiosqlite's Cursor interface over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor, patience: float) -> None:
        self._cursor = cursor
        self._patience = patience

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = self._cursor
        if parameters is None:
            await _patiently(lambda: cursor.execute(sql), self._patience)
        else:
            await _patiently(lambda: cursor.execute(sql, parameters), self._patience)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        batch = list(rows)  # a retry needs the rows again
        await _patiently(lambda: self._cursor.executemany(sql, batch), self._patience)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's isolation-level setter
    feeds directly: run the function now and settle its future."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the waiting caller, as aiosqlite does
            future.set_exception(error)


class InlineConnection:
    """aiosqlite's Connection interface over a sqlite3 connection, run in the calling thread."""

    def __init__(self, connection: sqlite3.Connection, patience: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed
        self._patience = patience
        self._tx = _RunNow(connection)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor(), self._patience)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await _patiently(self._conn.commit, self._patience)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """aiosqlite's forced close (used by SQLAlchemy's terminate)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level
