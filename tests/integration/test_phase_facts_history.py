"""`CheckIns.phase_facts` and `phase_summary` read the recent check-ins and the phase's tail as one
range of completion times, and the count and first day from an index (migration 0010): whatever
the history, they answer as a plain computation over every row of the person. Generated
histories on SQLite; a hand-made one on both databases; SQLite's plan reads no older row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert

from bot.storage_port import PhaseFacts
from storage import db
from storage.models import CheckIn, Person
from storage.unit_of_work import SqlStorage

BASE = date(2027, 3, 1)
PERSON, OTHER = 1, 2
# The far east (+14), the far west (-12, -11), and between; New York changes its clocks.
ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "Pacific/Pago_Pago", "Asia/Tokyo", "UTC"]
ZONES += ["America/New_York"]


@dataclass(frozen=True)
class Made:
    """A check-in as the coach writes one: its day is where it was started, and it is
    completed then or later (or not yet)."""

    person_id: int
    day: int  # days after BASE
    at: time  # local time started
    zone: str
    took: timedelta | None  # started to completed; None: still open
    phase_index: int
    paused: bool

    def row(self, row_id: int) -> dict[str, Any]:
        local = datetime.combine(BASE + timedelta(days=self.day), self.at, ZoneInfo(self.zone))
        started = local.astimezone(UTC)
        return {
            "id": row_id,
            "person_id": self.person_id,
            "started_at": started,
            "completed_at": None if self.took is None else started + self.took,
            "local_date": local.date(),
            "phase_index": self.phase_index,
            "paused": self.paused,
        }


@dataclass(frozen=True)
class Ask:
    phase_index: int
    since: date | None
    last: int
    recent_since: date


async def _people(storage: SqlStorage) -> None:
    async with storage() as uow:
        for person_id in (PERSON, OTHER):
            uow.session.add(Person(id=person_id, created_at=datetime(2027, 1, 1, tzinfo=UTC)))


async def _replace(storage: SqlStorage, made: Sequence[Made]) -> None:
    async with storage() as uow:
        await uow.session.execute(delete(CheckIn))
        if made:
            rows = [m.row(n) for n, m in enumerate(made, start=1)]
            await uow.session.execute(insert(CheckIn), rows)


def _expected(every: Sequence[CheckIn], ask: Ask) -> tuple[Any, ...]:
    """The facts from every row of the person, the plain way."""
    done = sorted((c for c in every if c.completed_at is not None), key=_order)
    counted = [
        c
        for c in done
        if c.phase_index == ask.phase_index
        and not c.paused
        and (ask.since is None or c.local_date >= ask.since)
    ]
    return (
        len(counted),
        min((c.local_date for c in counted), default=None),
        [c.id for c in counted[-ask.last :]] if ask.last > 0 else [],
        [c.id for c in done if c.local_date >= ask.recent_since],
    )


def _order(c: CheckIn) -> tuple[datetime, int]:
    assert c.completed_at is not None
    return c.completed_at, c.id


def _found(facts: PhaseFacts) -> tuple[Any, ...]:
    assert not facts.test_passed and facts.test_last_at is None and not facts.queued
    return (
        facts.total,
        facts.first_day,
        [c.id for c in facts.tail],
        [c.id for c in facts.recent],
    )


async def _check(storage: SqlStorage, asks: Sequence[Ask]) -> None:
    for ask in asks:
        # A fresh session each time: rows come from the statement, not the identity map.
        async with storage() as uow:
            every = await uow.checkins.every(PERSON)
        async with storage() as uow:
            facts = await uow.checkins.phase_facts(
                PERSON,
                ask.phase_index,
                ask.since,
                ask.last,
                recent_since=ask.recent_since,
                test_id=None,
            )
        expected = _expected(every, ask)
        assert _found(facts) == expected, ask
        async with storage() as uow:
            total, first_day, tail = await uow.checkins.phase_summary(
                PERSON, ask.phase_index, ask.since, ask.last
            )
        assert (total, first_day, [c.id for c in tail]) == expected[:3], ask


@pytest.fixture
async def sqlite_storage(sqlite_url: str) -> AsyncIterator[SqlStorage]:
    engine = db.create_engine(sqlite_url)
    await db.upgrade(engine)
    storage = SqlStorage(db.sessionmaker(engine))
    await _people(storage)
    yield storage
    await storage.close()


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[SqlStorage]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    storage = SqlStorage(db.sessionmaker(engine))
    await _people(storage)
    yield storage
    await storage.close()


# Times near local midnight (the day differs from UTC's most there), and a few others; few
# enough that two check-ins of a day are often completed at the same instant.
local_times = st.sampled_from([time(0, 0), time(0, 20), time(8, 0), time(23, 40), time(23, 59)])
took = st.one_of(
    st.none(),
    st.sampled_from([timedelta(0), timedelta(minutes=15), timedelta(minutes=45)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
)
made = st.builds(
    Made,
    person_id=st.sampled_from([PERSON, PERSON, PERSON, OTHER]),
    day=st.integers(0, 20),
    at=local_times,
    zone=st.sampled_from(ZONES),
    took=took,
    phase_index=st.integers(0, 3),
    paused=st.booleans(),
)
asks = st.builds(
    Ask,
    phase_index=st.integers(0, 4),  # 4: no row, so no tail (as `last` 0): the recent days alone
    since=st.one_of(st.none(), st.integers(-1, 22).map(lambda n: BASE + timedelta(days=n))),
    last=st.integers(0, 6),
    recent_since=st.integers(-1, 23).map(lambda n: BASE + timedelta(days=n)),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(made, max_size=40), questions=st.lists(asks, min_size=1, max_size=4))
async def test_generated_histories_give_the_facts_of_every_row(
    sqlite_storage: SqlStorage, history: list[Made], questions: list[Ask]
) -> None:
    await _replace(sqlite_storage, history)
    await _check(sqlite_storage, questions)


def _long_history() -> tuple[list[Made], list[Ask]]:
    """Phase 0 for 20 days, phase 1 for 200 (one in 7 logged while paused), a regress to
    phase 0 for 5 days and phase 1 again for 60, in the far east and then the far west, with
    check-ins started just before local midnight and finished after it, one finished three days
    late, two finished at the same instant, one never finished, and another person's rows."""
    made: list[Made] = []
    day = 0

    def add(phase: int, days: int, zone: str, *, paused_every: int = 0) -> int:
        nonlocal day
        start = day
        for n in range(days):
            at = time(23, 50) if n % 3 == 0 else time(0, 10) if n % 3 == 1 else time(18, 0)
            paused = paused_every > 0 and n % paused_every == paused_every - 1
            made.append(Made(PERSON, day, at, zone, timedelta(minutes=30), phase, paused))
            if n % 4 == 0:
                made.append(Made(OTHER, day, at, zone, timedelta(minutes=5), phase, False))
            day += 1
        return start

    add(0, 20, "Pacific/Kiritimati")
    add(1, 200, "Pacific/Kiritimati", paused_every=7)
    add(0, 5, "Etc/GMT+12")
    again = add(1, 57, "Etc/GMT+12")
    made.append(Made(PERSON, day - 3, time(9, 0), "Etc/GMT+12", timedelta(days=3), 1, False))
    twin = Made(PERSON, day, time(7, 0), "Pacific/Kiritimati", timedelta(minutes=20), 1, False)
    made += [twin, twin, Made(PERSON, day, time(8, 0), "UTC", None, 1, False)]
    re_entry = BASE + timedelta(days=again)
    today = BASE + timedelta(days=day)
    asks = [Ask(1, re_entry, 3, today - timedelta(days=n)) for n in (0, 1, 2, 14, 30, 60)]
    asks += [
        Ask(1, re_entry, 3, today + timedelta(days=1)),  # nothing recent: the tail alone
        Ask(1, re_entry, 0, today - timedelta(days=14)),
        Ask(1, re_entry, 500, today - timedelta(days=14)),  # more asked than there are
        Ask(1, None, 5, today - timedelta(days=14)),  # both stays in phase 1
        Ask(1, BASE + timedelta(days=25), 4, today - timedelta(days=3)),
        Ask(0, None, 3, today - timedelta(days=14)),  # an earlier phase: its tail is old
        Ask(0, re_entry - timedelta(days=5), 2, today),
        Ask(2, None, 3, today - timedelta(days=14)),  # a phase not reached
    ]
    # The day boundaries of each zone: a recent day that starts before UTC's does (+14) and
    # one that starts after it (-12).
    asks += [Ask(1, None, 3, BASE + timedelta(days=n)) for n in (219, 220, 221, 240, 241)]
    return made, asks


async def test_a_long_history_gives_the_facts_of_every_row(storage: SqlStorage) -> None:
    made, questions = _long_history()
    await _replace(storage, made)
    await _check(storage, questions)


async def test_sqlite_reads_the_recent_rows_and_the_index_only(
    sqlite_storage: SqlStorage, sqlite_url: str
) -> None:
    made, _ = _long_history()
    await _replace(sqlite_storage, made)
    sent: list[tuple[str, Any]] = []
    engine = db.create_engine(sqlite_url)

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    storage = SqlStorage(db.sessionmaker(engine))
    try:
        async with storage() as uow:
            await uow.checkins.phase_facts(
                PERSON, 1, BASE, 3, recent_since=BASE + timedelta(days=270), test_id="t"
            )
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
        [(statement, parameters)] = [s for s in sent if "FROM checkins" in s[0]]
        async with engine.connect() as connection:
            plan = [
                row[3]
                for row in await connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                )
            ]
    finally:
        await storage.close()
    # The rows: one range of (person_id, completed_at); the rest from ix_checkins_counted alone.
    on_checkins = [line for line in plan if " checkins " in line]
    assert on_checkins[0] == (
        "SEARCH checkins USING INDEX ix_checkins_person_done (person_id=? AND completed_at>?) "
        "LEFT-JOIN"
    ), plan
    assert len(on_checkins) == 4, plan  # the rows, the tail's start, the count, the first day
    for line in on_checkins[1:]:
        assert line.startswith("SEARCH checkins USING COVERING INDEX ix_checkins_counted "), plan
    # Only the rows read are sorted (not the phase, for its tail).
    assert sum("TEMP B-TREE" in line for line in plan) == 1, plan
