"""Synchronous SQLAlchemy work run in one greenlet instead of one per call.

Each `await` on an `AsyncSession` or `AsyncConnection` method starts a new greenlet, and a new
greenlet costs a memory map and unmap of its own Python data stack (two system calls, about
10 µs in all on the 2-core machine). A message made six or seven such calls; a flush and the
statement after it, and the end of a unit of work (last writes, commit, close), now take one
each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


async def rows(
    session: AsyncSession,
    statement: Executable,
    values: Mapping[str, Any],
    *,
    flush_first: bool = False,
) -> Sequence[Row[Any]]:
    """Every row of a Core statement run on the session's connection, in its transaction
    (after flushing the session's unwritten changes if `flush_first`)."""
    return await session.run_sync(_rows, statement, values, flush_first)


async def run(
    session: AsyncSession,
    statement: Executable,
    values: Mapping[str, Any],
    *,
    flush_first: bool = False,
) -> None:
    """A Core statement that returns no rows, as `rows` runs one."""
    await session.run_sync(_run, statement, values, flush_first)


def _rows(
    session: Session, statement: Executable, values: Mapping[str, Any], flush_first: bool
) -> Sequence[Row[Any]]:
    if flush_first:
        session.flush()
    return session.connection().execute(statement, values).all()


def _run(
    session: Session, statement: Executable, values: Mapping[str, Any], flush_first: bool
) -> None:
    if flush_first:
        session.flush()
    session.connection().execute(statement, values)
