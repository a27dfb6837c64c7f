"""A PostgreSQL connection pool that serves waiting messages in the order they asked.

SQLAlchemy's asyncio pool queue lets a checkout take an idle connection at once even while
others wait, and a returned connection only wakes the first waiter: whoever asks before that
waiter runs (often the task that just returned it) takes the connection, and the waiter goes
back to the end of the line. Under load (more messages in flight than connections) a few
messages wait many turns: at 50 people on 20 connections, p99 was 5-7x p50, and each futile
wake-up cost a task and a timer (asyncpg's pool has the same trait: MagicStack/asyncpg#1247).
Here a returned connection goes straight to the longest waiter, and a checkout queues behind
anyone already waiting."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_only
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

_Item = TypeVar("_Item")


class FifoQueue(AsyncAdaptedQueue[_Item]):
    """The pool's idle connections (LIFO among themselves, as configured), handed to waiting
    checkouts first come, first served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[_Item]] = deque()

    def put_nowait(self, item: _Item) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that timed out or was cancelled is skipped
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: _Item, block: bool = True, timeout: float | None = None) -> None:
        if self._waiters:
            self.put_nowait(item)
        else:
            super().put(item, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> _Item:
        if not self._waiters:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        elif not block:
            raise Empty()  # someone waits: no connection idles for this one
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Item] = loop.create_future()
        self._waiters.append(waiter)
        # The pool's timeout fails the wait itself (asyncio.wait_for would swallow a
        # cancellation that came after the handover).
        timer = loop.call_later(timeout, _expire, waiter) if timeout is not None else None
        try:
            return await_only(waiter)
        except BaseException:
            # Cancelled after a connection was handed over: it goes to the next in line.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.put_nowait(waiter.result())
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())


class FifoQueuePool(AsyncAdaptedQueuePool):
    """`AsyncAdaptedQueuePool` on a `FifoQueue`."""

    _queue_class = FifoQueue[ConnectionPoolEntry]
