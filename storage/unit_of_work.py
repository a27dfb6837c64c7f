"""The SQLAlchemy side of `bot.storage_port`: a unit of work is one session in one transaction,
with a repository per kind of row on it."""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
        self._stack = AsyncExitStack()

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
        session = await self._stack.enter_async_context(self._sessions())
        await self._stack.enter_async_context(session.begin())  # commits on a clean exit
        self._bind(session)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        failed: BaseException | None = None
        if error is None:
            try:
                await self._write_last()
            except BaseException as raised:  # rolled back below, as if raised inside the block
                failed = raised
                kind, error, trace = type(raised), raised, raised.__traceback__
        await self._stack.__aexit__(kind, error, trace)
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            # Raised inside the block, so before the commit: the transaction died with the
            # connection and the pool has already replaced it.
            raise StoreConnectionLost from error
        if failed is not None:
            raise failed  # the last writes failed: rolled back by the stack, which raised nothing

    async def _write_last(self) -> None:
        """PostgreSQL: what the message leaves unwritten, in one statement of its own
        (`storage.carried`) rather than the ORM's flush; anything it cannot carry is flushed
        by the commit as usual."""
        if self._postgres:
            carrying = carried.unwritten(self.session, None, reading=False)
            if carrying is not None and carrying.shape.writes:
                connection = await self.session.connection()
                await connection.execute(carried.last_writes(carrying.shape), carrying.values)
                carrying.written(self.session)


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
