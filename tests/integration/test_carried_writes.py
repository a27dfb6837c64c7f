"""On both databases: what a unit of work holds unwritten when the decision's facts are read (a
check-in completed, the person's question closed) is written and read as written. PostgreSQL
carries the writes in the read's own statement (`storage.carried`), SQLite flushes them first;
either way the facts and the stored rows are what a flush before the read gives."""

from __future__ import annotations

import itertools
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.storage_port import MorningPain, PhaseFacts
from storage.models import CheckIn, DecisionRecord, Pause, Person
from storage.unit_of_work import SqlStorage, SqlUnitOfWork
from tests.integration.test_arrival_and_facts import statements

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = date(2027, 1, 10)
RECENT = DAY - timedelta(days=14)
_names = itertools.count()


def on_postgres(storage: SqlStorage) -> bool:
    return storage.engine is not None and storage.engine.dialect.name == "postgresql"


def checked_out(storage: SqlStorage) -> int:
    """Connections the storage's pool has handed out and not had back."""
    assert storage.engine is not None
    return int(storage.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def someone(storage: SqlStorage) -> tuple[str, int, int]:
    """A person in phase 1 with three completed check-ins on the days before and one opened
    today (its question open): their chat ref, their id and the open check-in's id."""
    ref = f"u{next(_names)}"
    async with storage() as uow:
        identity = await uow.people.add("console", ref, ref, NOW - timedelta(days=5))
        person = identity.person
        person.phase_index, person.phase_started_on = 1, DAY - timedelta(days=4)
        for ago in (3, 2, 1):
            uow.checkins.add(done(person.id, DAY - timedelta(days=ago), pain=ago))
        opened = CheckIn(
            person_id=person.id, started_at=NOW, local_date=DAY, phase_index=1, pain_during=2
        )
        uow.checkins.add(opened)
        await uow.flush()
        person.pending = {"flow": "checkin", "step": "flat"}  # the same for everyone
        return ref, person.id, opened.id


def done(person_id: int, day: date, *, pain: int, at: datetime | None = None) -> CheckIn:
    at = at or datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    return CheckIn(
        person_id=person_id,
        started_at=at,
        completed_at=at,
        local_date=day,
        phase_index=1,
        pain_during=pain,
        neutral="yes",
        comfort=7,
        lifted=True,
    )


async def check_in_step(
    uow: SqlUnitOfWork, ref: str, open_id: int, pending: dict[str, Any] | None
) -> None:
    """What a check-in step leaves unwritten: the open check-in's answer (a neutral back) and
    the person's next question (`pending`)."""
    arrival = await uow.people.arrive("console", ref, NOW)
    assert arrival is not None
    checkin = await uow.checkins.get(open_id)
    assert checkin is not None
    checkin.neutral = "yes"
    arrival.identity.person.pending = pending


def hold(person_id: int, checkin_id: int | None) -> DecisionRecord:
    """A decision to stay in the phase, about `checkin_id`."""
    return DecisionRecord(
        person_id=person_id,
        checkin_id=checkin_id,
        at=NOW,
        decision="hold",
        reason="r",
        phase_from=1,
        phase_to=1,
    )


async def read_facts(
    uow: SqlUnitOfWork, person_id: int, noting: MorningPain | None = None
) -> PhaseFacts:
    return await uow.checkins.phase_facts(
        person_id, 1, DAY - timedelta(days=4), 3, recent_since=RECENT, test_id=None, noting=noting
    )


async def stored(storage: SqlStorage, person_id: int) -> tuple[Any, ...]:
    """The person's row and their check-ins and decisions, without ids."""
    async with storage() as uow:
        session = uow.session
        person = (await session.execute(select(Person.__table__).filter_by(id=person_id))).one()
        checkins = await session.execute(
            select(CheckIn.__table__).filter_by(person_id=person_id).order_by(CheckIn.id)
        )
        decisions = await session.execute(
            select(DecisionRecord.decision, DecisionRecord.checkin_id.is_not(None))
            .where(DecisionRecord.person_id == person_id)
            .order_by(DecisionRecord.id)
        )
        return (
            tuple(person)[1:],
            [tuple(row)[2:] for row in checkins],
            [tuple(row) for row in decisions],
        )


@pytest.mark.parametrize("which", ["new", "open"])
async def test_a_completed_check_in_and_the_closed_question_ride_with_the_facts_read(
    storage: SqlStorage, which: str
) -> None:
    """Completing a check-in (a quick one is new, a step-by-step one was opened) and closing the
    question: PostgreSQL writes both in the facts' statement, SQLite flushes them first. The
    facts count the check-in; the session then holds it as written (a later change of it is an
    UPDATE; nothing is inserted or updated twice)."""
    ref, person_id, open_id = await someone(storage)
    async with storage() as uow:
        arrival = await uow.people.arrive("console", ref, NOW)
        assert arrival is not None
        person = arrival.identity.person
        if which == "new":
            checkin = done(person_id, DAY, pain=1, at=NOW)
            uow.checkins.add(checkin)
        else:
            found = await uow.checkins.get(open_id)
            assert found is not None
            checkin = found
            checkin.neutral, checkin.comfort, checkin.lifted = "yes", 7, True
            checkin.completed_at = NOW
        person.pending, person.morning_asked_on = None, DAY
        with statements(storage) as issued:
            facts = await read_facts(uow, person_id)
        if on_postgres(storage):
            assert len(issued) == 1 and issued[0].startswith("WITH"), issued
        else:  # the check-in, the person (and the identity seen) written, then the read
            assert {s.split(" (")[0].split(" SET")[0] for s in issued[:-1]} >= {
                "INSERT INTO checkins" if which == "new" else "UPDATE checkins",
                "UPDATE people",
            }, issued
        assert checkin.id is not None
        # Written means clean: the commit's flush has no row left to visit.
        assert not uow.session.dirty and not uow.session.new
        assert facts.total == 4 and facts.first_day == DAY - timedelta(days=3)
        assert [c.id for c in facts.tail][-1] == checkin.id
        assert [c.pain_during for c in facts.tail] == [2, 1, checkin.pain_during]
        assert facts.recent[-1].id == checkin.id
        uow.checkins.add_decision(hold(person_id, checkin.id))
        checkin.morning_pain = 4  # a change after the read is still written
        with statements(storage) as issued:
            await uow.flush()
        written = sorted(s.split(" (")[0].split(" SET")[0] for s in issued)
        assert written == ["INSERT INTO decisions", "UPDATE checkins"], issued
    person_row, checkins, decisions = await stored(storage, person_id)
    assert person_row[Person.__table__.c.keys().index("pending") - 1] is None
    assert len(checkins) == (5 if which == "new" else 4)  # the open one stays open if not used
    assert person_row[Person.__table__.c.keys().index("morning_asked_on") - 1] == DAY
    today = checkins[-1]
    columns = CheckIn.__table__.c.keys()[2:]
    assert dict(zip(columns, today, strict=True)) == {
        "started_at": NOW,
        "completed_at": NOW,
        "local_date": DAY,
        "phase_index": 1,
        "pain_during": 1 if which == "new" else 2,
        "leg_symptoms": None,
        "neutral": "yes",
        "comfort": 7,
        "lifted": True,
        "pre_pain": None,
        "morning_pain": 4,
        "paused": False,
    }
    assert decisions == [("hold", True)]


async def test_anything_else_unwritten_is_flushed_before_the_read(storage: SqlStorage) -> None:
    """A row the statement does not carry (here a pause) and the session is flushed as before:
    the check-in is written by the flush too, and read."""
    ref, person_id, _ = await someone(storage)
    async with storage() as uow:
        arrival = await uow.people.arrive("console", ref, NOW)
        assert arrival is not None
        checkin = done(person_id, DAY, pain=1, at=NOW)
        uow.checkins.add(checkin)
        uow.checkins.add_pause(Pause(person_id=person_id, kind="pause", started_at=NOW))
        with statements(storage) as issued:
            facts = await read_facts(uow, person_id)
        assert not any(s.startswith("WITH") for s in issued), issued
        assert {s.split(" (")[0] for s in issued[:-1]} >= {"INSERT INTO checkins"}, issued
        assert facts.total == 4 and facts.tail[-1].id == checkin.id
    async with storage() as uow:
        count = select(func.count()).where(
            CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None)
        )
        assert (await uow.session.execute(count)).scalar_one() == 4


# ------------------------------------------------------------- carried or flushed: the same result

person_changes = st.fixed_dictionaries(
    {},
    optional={
        "pending": st.none() | st.just({"flow": "after_routine", "step": "done", "ref": 1}),
        "morning_asked_on": st.none() | st.just(DAY),
        "lighter_dose": st.booleans(),
        "review_advised_on": st.none() | st.just(DAY - timedelta(days=1)),
    },
)
checkin_changes = st.fixed_dictionaries(
    {
        "completed": st.booleans(),
        "pain_during": st.integers(0, 10),
        "days_ago": st.integers(0, 2),
        "phase_index": st.integers(0, 1),
    },
    optional={"paused": st.booleans(), "morning_pain": st.none() | st.integers(0, 10)},
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    person=person_changes,
    which=st.sampled_from(["none", "new", "open"]),
    checkin=checkin_changes,
    noting=st.none() | st.integers(0, 10),
    later=person_changes,
    decided=st.booleans(),
)
@example(person={"pending": None}, which="new", checkin={"completed": True, "pain_during": 3,
         "days_ago": 0, "phase_index": 1}, noting=None, later={}, decided=True)  # fmt: skip
@example(person={"pending": None}, which="open", checkin={"completed": True, "pain_during": 3,
         "days_ago": 0, "phase_index": 1}, noting=2, later={"lighter_dose": True},
         decided=False)  # fmt: skip
async def test_carried_writes_read_and_store_what_a_flush_before_the_read_does(
    storage: SqlStorage,
    person: dict[str, Any],
    which: str,
    checkin: dict[str, Any],
    noting: int | None,
    later: dict[str, Any],
    decided: bool,
) -> None:
    """Two people with the same history take the same changes; one's facts read carries them
    and so do their last writes (PostgreSQL: `SqlUnitOfWork`'s exit), the other's session is
    flushed before the read and before the commit. Their facts and stored rows agree, with a
    morning answer noted in the same read or not (then a written check-in is flushed first: the
    morning's UPDATE would not see it), and with changes after the read: the person's again,
    the check-in's, a decision."""

    async def run(flush_first: bool) -> tuple[Any, ...]:
        ref, person_id, open_id = await someone(storage)
        async with storage() as uow:
            arrival = await uow.people.arrive("console", ref, NOW)
            assert arrival is not None
            for key, value in person.items():
                setattr(arrival.identity.person, key, value)
            row: CheckIn | None = None
            if which == "new":
                row = CheckIn(person_id=person_id, started_at=NOW)
                uow.checkins.add(row)
            elif which == "open":
                row = await uow.checkins.get(open_id)
            if row is not None:
                day = DAY - timedelta(days=checkin["days_ago"])
                row.local_date, row.phase_index = day, checkin["phase_index"]
                row.pain_during = checkin["pain_during"]
                row.completed_at = NOW if checkin["completed"] else None
                for key in ("paused", "morning_pain"):
                    if key in checkin:
                        setattr(row, key, checkin[key])
            if flush_first:
                await uow.flush()
            morning = MorningPain(DAY - timedelta(days=1), noting) if noting is not None else None
            facts = await read_facts(uow, person_id, morning)
            for key, value in later.items():
                setattr(arrival.identity.person, key, value)
            if row is not None:
                row.pre_pain = 1
            if decided:
                uow.checkins.add_decision(hold(person_id, row.id if row is not None else None))
            if flush_first:
                await uow.flush()
        seen = (
            facts.total,
            facts.first_day,
            facts.queued,
            [astuple(c)[1:] for c in facts.tail],
            [astuple(c)[1:] for c in facts.recent],
        )
        return seen, await stored(storage, person_id)

    assert await run(flush_first=False) == await run(flush_first=True)


# ------------------------------------------------------------------ the last writes of a message


async def test_a_check_in_step_ends_in_one_statement_and_a_failed_one_commits_nothing(
    storage: SqlStorage,
) -> None:
    """A check-in step leaves the check-in's answer and the person's next question: PostgreSQL
    writes both with one statement at the end (`SqlUnitOfWork`), SQLite's flush takes one per
    row. When that statement fails (here a decision naming no check-in), the error comes out
    of the block and nothing of the message is stored."""
    ref, person_id, open_id = await someone(storage)
    before = await stored(storage, person_id)
    with statements(storage) as issued:
        async with storage() as uow:
            await check_in_step(uow, ref, open_id, {"flow": "checkin", "step": "comfort"})
    writes = [s for s in issued if s.startswith(("UPDATE", "INSERT", "WITH"))]
    assert len(writes) == (1 if on_postgres(storage) else 3), issued  # SQLite: the identity too
    after = await stored(storage, person_id)
    pending = Person.__table__.c.keys().index("pending") - 1
    neutral = CheckIn.__table__.c.keys().index("neutral") - 2
    assert after[0][pending] == {"flow": "checkin", "step": "comfort"}
    assert after[1][-1][neutral] == "yes"

    with pytest.raises(IntegrityError):
        async with storage() as uow:
            person = await uow.people.get(person_id)
            assert person is not None
            person.pending = None
            uow.checkins.add_decision(
                hold(person_id, 10**9)  # no such check-in
            )
    assert checked_out(storage) == 0  # rolled back, and the connection given back
    assert await stored(storage, person_id) == after != before
