"""The SQLAlchemy side of `bot.storage_port`: a unit of work is one session in one transaction,
with a repository per kind of row on it."""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.storage_port import (
    CheckIns,
    Links,
    Outbox,
    Outcomes,
    People,
    StoreConnectionLost,
    Teams,
)
from storage import carried
from storage.repositories.checkins import SqlCheckIns
from storage.repositories.links import SqlLinks
from storage.repositories.outbox import SqlOutbox
from storage.repositories.outcomes import SqlOutcomes
from storage.repositories.people import SqlPeople
from storage.repositories.teams import SqlTeams


class SqlUnitOfWork:
    people: People
    checkins: CheckIns
    teams: Teams
    links: Links
    outbox: Outbox
    outcomes: Outcomes

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._committing = False

    @classmethod
    def on(cls, session: AsyncSession) -> SqlUnitOfWork:
        """The repositories on a session whose transaction the caller runs."""
        unit = cls(async_sessionmaker())
        unit._bind(session)
        return unit

    def _bind(self, session: AsyncSession) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self.people = SqlPeople(session)
        self.checkins = SqlCheckIns(session)
        self.teams = SqlTeams(session)
        self.links = SqlLinks(session)
        self.outbox = SqlOutbox(session)
        self.outcomes = SqlOutcomes(session)

    async def flush(self) -> None:
        await self.session.flush()

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._sessions()
        session.sync_session.begin()  # no I/O: the connection is taken by the first statement
        self._bind(session)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        session = self.session
        if error is None:
            try:
                # Last writes, commit and close in one greenlet (`storage.in_one_greenlet`).
                await session.run_sync(self._finish)
            except BaseException as failed:
                await _closed(session)  # rolls back what is left
                if self._committing or not _connection_lost(failed):
                    raise
                # The last writes failed with the connection, before the commit: nothing was
                # committed, and the pool has already replaced the connection.
                raise StoreConnectionLost from failed
            if not self._postgres:
                # SQLite runs on the loop's thread, so a unit of work may never wait: it gives
                # the loop a turn, or a run of them (a reminder fan-out, a busy chat) would hold
                # it throughout.
                await asyncio.sleep(0)
            return
        await _closed(session)  # rolls back
        if _connection_lost(error):
            # Raised inside the block, so before the commit: the transaction died with the
            # connection and the pool has already replaced it.
            raise StoreConnectionLost from error

    def _finish(self, session: Session) -> None:
        self._write_last(session)
        self._committing = True
        session.commit()
        session.close()

    def _write_last(self, session: Session) -> None:
        """PostgreSQL: what the message leaves unwritten, in one statement of its own
        (`storage.carried`) rather than the ORM's flush; anything it cannot carry is flushed
        by the commit as usual."""
        if self._postgres:
            carrying = carried.unwritten(self.session, None, reading=False)
            if carrying is not None and carrying.shape.writes:
                session.connection().execute(carried.last_writes(carrying.shape), carrying.values)
                carrying.written(self.session)


def _connection_lost(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def _closed(session: AsyncSession) -> None:
    """Close the session (a rollback if its transaction is still open), even if the message's
    task is cancelled meanwhile, as `AsyncSession`'s own context manager does."""
    await asyncio.shield(asyncio.ensure_future(session.close()))


class SqlStorage:
    """Implements `bot.storage_port.Storage` on a session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        self.engine: AsyncEngine | None = bind if isinstance(bind, AsyncEngine) else None
        # SQLite has no row locks and takes one writer at a time anyway.
        self.one_at_a_time = self.engine is not None and self.engine.dialect.name == "sqlite"

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
