"""`CheckIns.phase_facts`, the progression read of every check-in and morning answer, for a
person with 30, 300 and 1,000 check-ins in their current phase, on SQLite and PostgreSQL.

Before: the statement as it was up to migration 0009 (its rows joined on `local_date >=
recent_since OR id IN (tail)`), kept below, on the database at 0009; then the same statement
once 0010's index is there; after: the statement of `storage.repositories.checkins` at head.
Each call reads into an empty session (as a message's unit of work does); every answer is
checked against the current one. The database also holds 200 other people of 300 check-ins.

    .venv/bin/python bench/bench_facts.py [--calls 500] [--no-postgres] [--plans] [--sqlite-analyze]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_database import postgres_database  # noqa: E402
from sqlalchemy import (  # noqa: E402
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession  # noqa: E402

from bot.storage_port import PhaseFacts, SessionCopy  # noqa: E402
from storage import db, outbox  # noqa: E402
from storage.models import CheckIn, OutboxMessage, Person, SelfTestResult  # noqa: E402
from storage.repositories.checkins import SqlCheckIns  # noqa: E402

SIZES = (30, 300, 1000)
OTHERS, OTHER_ROWS = 200, 300
TODAY = date(2029, 6, 1)
PHASE = 3
LAST = 3  # the program's gates.window
RECENT_DAYS = 14  # max(WATCH_DAYS, leg_review_days)


SESSION_COLUMNS = tuple(getattr(CheckIn, f.name) for f in fields(SessionCopy))


def before_counted(
    person_id: BindParameter[int],
    phase_index: BindParameter[int],
    since: BindParameter[date] | None,
) -> list[ColumnElement[bool]]:
    """`_counted_in_phase` as it was before."""
    where = [
        CheckIn.person_id == person_id,
        CheckIn.completed_at.is_not(None),
        CheckIn.phase_index == phase_index,
        CheckIn.paused.is_(False),
    ]
    if since is not None:
        where.append(CheckIn.local_date >= since)
    return where


@cache
def before_statement(*, since_known: bool) -> Select[Any]:
    """`_phase_facts` as it was before migration 0010 (main at 89ae012)."""
    person_id = bindparam("person_id", type_=Integer)
    since = bindparam("since", type_=Date) if since_known else None
    where = before_counted(person_id, bindparam("phase_index", type_=Integer), since)
    counted = select(CheckIn.id).where(*where)
    test_id = bindparam("test_id", type_=String)
    tests = [SelfTestResult.person_id == person_id, SelfTestResult.test_id == test_id]
    tail = (
        select(CheckIn.id)
        .where(*where)
        .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
        .limit(bindparam("last", type_=Integer))
    )
    one = select(literal(1).label("one")).subquery()
    return (
        select(
            *SESSION_COLUMNS,
            counted.with_only_columns(func.count(CheckIn.id)).scalar_subquery(),
            counted.with_only_columns(func.min(CheckIn.local_date)).scalar_subquery(),
            exists().where(*tests, SelfTestResult.passed.is_(True)),
            select(func.max(SelfTestResult.at)).where(*tests).scalar_subquery(),
            exists().where(
                OutboxMessage.person_id == person_id,
                OutboxMessage.state.in_(outbox.UNFINISHED),
                OutboxMessage.to_channel.is_(False),
            ),
        )
        .select_from(one)
        .outerjoin(
            CheckIn,
            and_(
                CheckIn.person_id == person_id,
                CheckIn.completed_at.is_not(None),
                or_(
                    CheckIn.local_date >= bindparam("recent_since", type_=Date),
                    CheckIn.id.in_(tail),
                ),
            ),
        )
        .order_by(CheckIn.completed_at, CheckIn.id)
    )


async def before_facts(
    session: AsyncSession,
    person_id: int,
    phase_index: int,
    since: date | None,
    last: int,
    *,
    recent_since: date,
    test_id: str | None,
) -> PhaseFacts:
    """`SqlCheckIns.phase_facts` as it was before (the same Python around the statement)."""
    statement = before_statement(since_known=since is not None)
    values = {
        "person_id": person_id,
        "phase_index": phase_index,
        "since": since,
        "last": last,
        "recent_since": recent_since,
        "test_id": test_id or "",
    }
    await session.flush()
    connection = await session.connection()
    rows = (await connection.execute(statement, values)).all()
    width = len(SESSION_COLUMNS)
    found = [SessionCopy(*row[:width]) for row in rows if row[0] is not None]
    total, first_day, passed, last_at, queued = rows[0][width:]
    in_phase = [
        c
        for c in found
        if c.phase_index == phase_index
        and not c.paused
        and (since is None or c.local_date >= since)
    ]
    return PhaseFacts(
        total=int(total),
        first_day=first_day,
        tail=in_phase[-last:] if last > 0 else [],
        recent=[c for c in found if c.local_date >= recent_since],
        test_passed=test_id is not None and bool(passed),
        test_last_at=last_at if test_id is not None else None,
        queued=bool(queued),
    )


def history(person_id: int, in_phase: int, first_id: int) -> list[dict[str, Any]]:
    """Daily check-ins at 18:30 in New York up to TODAY: 20 of earlier phases, then `in_phase`
    of the current one, one in ten logged while paused (not counted), then today's open one."""
    rows: list[dict[str, Any]] = []
    days = 20 + in_phase + in_phase // 9
    for n in range(days):
        day = TODAY - timedelta(days=days - n)
        done = datetime(day.year, day.month, day.day, 22, 30, tzinfo=UTC)  # 18:30 EDT
        rows.append(
            {
                "id": first_id + len(rows),
                "person_id": person_id,
                "started_at": done - timedelta(minutes=12),
                "completed_at": done,
                "local_date": day,
                "phase_index": min(n // 7, PHASE - 1) if n < 20 else PHASE,
                "paused": n >= 20 and n % 10 == 5,
                "pain_during": n % 4,
            }
        )
    opened = datetime(TODAY.year, TODAY.month, TODAY.day, 22, tzinfo=UTC)
    rows.append(
        {
            "id": first_id + len(rows),
            "person_id": person_id,
            "started_at": opened,
            "completed_at": None,
            "local_date": TODAY,
            "phase_index": PHASE,
            "paused": False,
            "pain_during": None,
        }
    )
    return rows


async def fill(engine: AsyncEngine) -> dict[int, tuple[int, date]]:
    """The people and their check-ins; returns each measured size's person and phase start."""
    people: list[dict[str, Any]] = []
    checkins: list[dict[str, Any]] = []
    measured: dict[int, tuple[int, date]] = {}
    sizes = [(size, True) for size in SIZES] + [(OTHER_ROWS, False)] * OTHERS
    for person_id, (size, is_measured) in enumerate(sizes, start=1):
        people.append(
            {
                "id": person_id,
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
                "onboarded": True,
                "program_id": "hamstrings-lower-back",
                "phase_index": PHASE,
                "timezone": "America/New_York",
            }
        )
        rows = history(person_id, size, len(checkins) + 1)
        checkins.extend(rows)
        if is_measured:
            start = min(r["local_date"] for r in rows if r["phase_index"] == PHASE)
            measured[size] = (person_id, start)
    async with engine.begin() as connection:
        await connection.execute(insert(Person), people)
        for n in range(0, len(checkins), 5000):
            await connection.execute(insert(CheckIn), checkins[n : n + 5000])
    return measured


async def analyze(engine: AsyncEngine, sqlite_stats: bool) -> None:
    """PostgreSQL's statistics, as autovacuum keeps them; SQLite's only if asked: the coach
    never runs ANALYZE there, so its planner works without."""
    if engine.dialect.name == "sqlite":
        if sqlite_stats:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
    else:  # VACUUM runs outside a transaction; it also sets the visibility map
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE checkins"))


Read = Callable[[AsyncSession, int, date], Awaitable[PhaseFacts]]


async def read_before(session: AsyncSession, person_id: int, since: date) -> PhaseFacts:
    recent = TODAY - timedelta(days=RECENT_DAYS)
    return await before_facts(
        session, person_id, PHASE, since, LAST, recent_since=recent, test_id="stand"
    )


async def read_after(session: AsyncSession, person_id: int, since: date) -> PhaseFacts:
    recent = TODAY - timedelta(days=RECENT_DAYS)
    return await SqlCheckIns(session).phase_facts(
        person_id, PHASE, since, LAST, recent_since=recent, test_id="stand"
    )


def same(facts: PhaseFacts) -> tuple[Any, ...]:
    return (
        facts.total,
        facts.first_day,
        [c.id for c in facts.tail],
        [c.id for c in facts.recent],
        facts.test_passed,
        facts.test_last_at,
        facts.queued,
    )


@dataclass
class Variant:
    label: str
    engine: AsyncEngine
    read: Read
    session_took: list[float] = field(default_factory=list)
    statement_took: list[float] = field(default_factory=list)


def summary(took: list[float]) -> tuple[float, float]:
    ordered = sorted(took)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def sent_by(engine: AsyncEngine, read: Read, person_id: int, since: date) -> tuple[str, Any]:
    """The SQL and the parameters that one read sends to the database."""
    sent: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        async with AsyncSession(engine) as session:
            await read(session, person_id, since)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
    [found] = sent
    return found


async def measure(variants: list[Variant], person_id: int, since: date, calls: int) -> None:
    """`calls` rounds, each calling every variant once in turn (so a busy moment of the
    machine falls on all of them): phase_facts into an emptied session, then its statement
    alone (sent by the driver, every row fetched). Every answer must be the same."""
    async with AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(AsyncSession(v.engine)) for v in variants]
        connections = [await stack.enter_async_context(v.engine.connect()) for v in variants]
        sent = [await sent_by(v.engine, v.read, person_id, since) for v in variants]
        answers = [
            same(await v.read(s, person_id, since)) for v, s in zip(variants, sessions, strict=True)
        ]
        assert all(answer == answers[0] for answer in answers), answers
        for _ in range(calls):
            for variant, session, connection, (sql, parameters) in zip(
                variants, sessions, connections, sent, strict=True
            ):
                session.expunge_all()
                started = time.perf_counter()
                await variant.read(session, person_id, since)
                variant.session_took.append(time.perf_counter() - started)
                started = time.perf_counter()
                (await connection.exec_driver_sql(sql, parameters)).all()
                variant.statement_took.append(time.perf_counter() - started)


async def plans(old: AsyncEngine, new: AsyncEngine, person_id: int, since: date) -> None:
    """The database's plan of the statement before (at 0009) and after, for the 1,000-row
    person: the SQL and the parameters sent by a real call, sent again behind EXPLAIN."""
    sqlite = new.dialect.name == "sqlite"
    for name, engine, read in (("before, 0009", old, read_before), ("after", new, read_after)):
        statement, parameters = await sent_by(engine, read, person_id, since)
        explain = (
            "EXPLAIN QUERY PLAN "
            if sqlite
            else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS) "
        )
        async with engine.connect() as connection:
            explained = (await connection.exec_driver_sql(explain + statement, parameters)).all()
        lines = (
            [f"{'  ' * (row[1] > 0)}{row[3]}" for row in explained]
            if sqlite
            else [row[0] for row in explained]
        )
        print(f"--- {engine.dialect.name} plan, {name}, {person_id=}:")
        for line in lines:
            print("   ", line)


def show(title: str, rows: dict[str, list[tuple[float, float]]]) -> None:
    print(title)
    print(f"{'':32}" + "".join(f"{f'{size} in phase':>22}" for size in SIZES))
    for label, cells in rows.items():
        print(f"{label:32}" + "".join(f"{f'{a * 1e3:.3f} / {b * 1e3:.3f}':>22}" for a, b in cells))


async def run(urls: tuple[str, str], calls: int, show_plans: bool, sqlite_stats: bool) -> None:
    """The same people on two databases: one at 0009, one at head."""
    old, new = db.create_engine(urls[0]), db.create_engine(urls[1])
    try:
        for engine, revision in ((old, "0009"), (new, "0009")):
            await db.upgrade(engine, revision)
            measured = await fill(engine)
        await db.upgrade(new)
        for engine in (old, new):
            await analyze(engine, sqlite_stats)
        rows: tuple[dict[str, list[Any]], dict[str, list[Any]]] = ({}, {})
        for person_id, since in measured.values():
            variants = [
                Variant("before (0009, old statement)", old, read_before),
                Variant("old statement + 0010 index", new, read_before),
                Variant("after (0010, new statement)", new, read_after),
            ]
            await measure(variants, person_id, since, calls)
            for v in variants:
                rows[0].setdefault(v.label, []).append(summary(v.session_took))
                rows[1].setdefault(v.label, []).append(summary(v.statement_took))
        name = new.dialect.name
        show(f"=== {name}: phase_facts into a session, {calls} calls (ms, p50 / p99)", rows[0])
        show(f"=== {name}: its statement alone, {calls} calls (ms, p50 / p99)", rows[1])
        if show_plans:
            await plans(old, new, *measured[SIZES[-1]])
    finally:
        await old.dispose()
        await new.dispose()


async def main(calls: int, postgres: bool, show_plans: bool, sqlite_stats: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        urls = tuple(f"sqlite+aiosqlite:///{Path(folder) / name}" for name in ("a.db", "b.db"))
        await run((urls[0], urls[1]), calls, show_plans, sqlite_stats)
    if postgres:
        async with postgres_database() as first, postgres_database() as second:
            await run((first, second), calls, show_plans, sqlite_stats)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--plans", action="store_true", help="print both statements' plans")
    parser.add_argument("--sqlite-analyze", action="store_true", help="ANALYZE on SQLite too")
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.calls, not arguments.no_postgres, arguments.plans, arguments.sqlite_analyze)
    )
