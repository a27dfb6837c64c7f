"""On both databases: `People.arrive` brings the person's last session and the check-in their
open question names with the identity; `CheckIns.phase_facts` says whether anything of theirs
waits in the outbox (a completed check-in spares the outbox's UPDATE when nothing does)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Connection

from bot.core import flows
from bot.storage_port import MorningPain
from storage import db, outbox
from storage.models import CheckIn, Identity, OutboxMessage, Person
from storage.unit_of_work import SqlStorage

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = date(2027, 1, 10)


@contextmanager
def statements(storage: SqlStorage) -> Iterator[list[str]]:
    """The statements the storage's engine sends while the block runs."""
    assert storage.engine is not None
    engine = storage.engine.sync_engine
    issued: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        issued.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield issued
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _row(person_id: int, *, to_channel: bool, state: str = outbox.PENDING) -> dict[str, object]:
    target = outbox.channel_target("console", "c") if to_channel else f"person:{person_id}"
    return outbox.outbox_row(
        target=target,
        kind="team_post" if to_channel else "reminder",
        local_date=DAY,
        platform="console",
        ref="c" if to_channel else "u1",
        fire_at=NOW,
        now=NOW,
        payload=[{"text": "hi"}],
        person_id=person_id,
        to_channel=to_channel,
        state=state,
    )


async def _queued(storage: SqlStorage, person_id: int) -> bool:
    async with storage() as uow:
        facts = await uow.checkins.phase_facts(
            person_id, 0, None, 3, recent_since=DAY - timedelta(days=14), test_id=None
        )
        assert facts.total == 2  # the open check-in does not count
        return facts.queued


async def test_arrival_reads_the_sessions_and_the_facts_what_waits_in_the_outbox(
    storage: SqlStorage,
) -> None:
    async with storage() as uow:
        identity = await uow.people.add("console", "u1", "Ann", NOW - timedelta(days=3))
        person_id = identity.person_id
        for ago, done in ((2, True), (1, True), (0, False)):
            uow.checkins.add(
                CheckIn(
                    person_id=person_id,
                    started_at=NOW - timedelta(days=ago),
                    completed_at=NOW - timedelta(days=ago) if done else None,
                    local_date=DAY - timedelta(days=ago),
                    phase_index=0,
                )
            )
        await uow.flush()
        open_one = max(c.id for c in await uow.checkins.every(person_id))
        identity.person.pending = {"flow": flows.CHECKIN, "step": "leg", "ref": open_one}
    async with storage() as uow:
        arrival = await uow.people.arrive("console", "u1", NOW)
        assert arrival is not None and arrival.last_session is not None
        assert arrival.last_session.local_date == DAY - timedelta(days=1)
        assert arrival.asked is not None and arrival.asked.id == open_one
        assert await uow.people.arrive("console", "nobody", NOW) is None
    assert not await _queued(storage, person_id)
    async with storage() as uow:
        await outbox.enqueue(uow.session, [_row(person_id, to_channel=True)])
    assert not await _queued(storage, person_id)  # a team channel's post is not theirs
    async with storage() as uow:
        await outbox.enqueue(uow.session, [_row(person_id, to_channel=False)])
    assert await _queued(storage, person_id)
    async with storage() as uow:
        await uow.outbox.cancel_pending(person_id, NOW)
    async with storage() as uow:
        states = (await uow.session.scalars(select(OutboxMessage.state))).all()
        assert sorted(states) == [outbox.DROPPED, outbox.PENDING]
    assert not await _queued(storage, person_id)


# ---------------------------------------------------------------- the open question's check-in

# What a stored `pending` may hold under "ref": the coach writes a check-in's id, but a row
# written by an older release, or by hand, may hold anything JSON can.
refs = st.one_of(
    st.none(),
    # one of the person's check-ins (as written, as text, as a float), another person's
    st.sampled_from(["id", "id as text", "id as float", "other"]),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
)
pendings = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"flow": st.sampled_from([flows.CHECKIN, flows.MORNING, flows.ONBOARDING, "zz", 1])},
        optional={"ref": refs, "step": st.text(max_size=3)},
    ),
)


@pytest.fixture
async def two_people(storage: SqlStorage) -> tuple[SqlStorage, list[int], int]:
    """Ann with three check-ins (the last open), Bob with one."""
    async with storage() as uow:
        ann = await uow.people.add("console", "ann", "Ann", NOW)
        bob = await uow.people.add("console", "bob", "Bob", NOW)
        rows = [
            CheckIn(
                person_id=who.person_id,
                started_at=NOW,
                completed_at=NOW if done else None,
                local_date=DAY,
                phase_index=0,
            )
            for who, done in ((ann, True), (ann, True), (ann, False), (bob, True))
        ]
        for row in rows:
            uow.checkins.add(row)
        await uow.flush()
        return storage, [row.id for row in rows[:3]], rows[3].id


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pending=pendings, pick=st.integers(0, 2))
@example(pending={"flow": flows.CHECKIN, "ref": "id"}, pick=2)
@example(pending={"flow": flows.MORNING, "ref": "id as float"}, pick=1)
@example(pending={"flow": flows.CHECKIN, "ref": "id as text"}, pick=2)
@example(pending={"flow": flows.CHECKIN, "ref": "other"}, pick=0)
@example(pending={"flow": flows.ONBOARDING, "ref": "id"}, pick=2)
@example(pending={"flow": flows.CHECKIN, "step": "\x00", "ref": "id"}, pick=2)  # found by CI
async def test_the_arrival_brings_the_check_in_the_open_question_names_and_no_other(
    two_people: tuple[SqlStorage, list[int], int], pending: dict[str, Any] | None, pick: int
) -> None:
    """On both databases (PostgreSQL through `coach_arrival`): the asked check-in is the one an
    integer `ref` of a check-in or morning question names, if it is the person's; anything else
    stored there brings none and breaks nothing. PostgreSQL's json operators cannot read a
    document that holds a NUL character: the function brings no check-in for it (the service
    then reads it by id) rather than failing every message of that person."""
    storage, ids, other = two_people
    spelled = {"id": ids[pick], "id as text": str(ids[pick]), "id as float": float(ids[pick])}
    if pending is not None and pending.get("ref") in (*spelled, "other"):
        pending = {**pending, "ref": spelled.get(pending["ref"], other)}
    async with storage() as uow:
        await uow.session.execute(
            update(Person)
            .where(
                Person.id
                == select(Identity.person_id).where(Identity.user_ref == "ann").scalar_subquery()
            )
            .values(pending=pending)
        )
    ref = (pending or {}).get("ref")
    unreadable = storage.engine is not None and storage.engine.dialect.name == "postgresql"
    unreadable = unreadable and "\\u0000" in json.dumps(pending)
    names_one = (
        not unreadable
        and (pending or {}).get("flow") in (flows.CHECKIN, flows.MORNING)
        and isinstance(ref, int)
        and not isinstance(ref, bool)
        and ref in ids
    )
    async with storage() as uow:
        arrival = await uow.people.arrive("console", "ann", NOW)
        assert arrival is not None
        assert arrival.identity.person.pending == pending
        assert arrival.last_session is not None and arrival.last_session.id == ids[1]
        assert (arrival.asked.id if arrival.asked else None) == (ref if names_one else None)


# ---------------------------------------------------------------- one statement, one round trip


async def test_an_arrival_is_one_statement(
    two_people: tuple[SqlStorage, list[int], int],
) -> None:
    """SQLite: one SELECT; PostgreSQL: one call of `coach_arrival`, which locks, then reads
    (it was the locking SELECT and a second SELECT: a round trip more per message)."""
    storage, _, _ = two_people
    async with storage() as uow:
        await uow.session.connection()  # BEGIN before counting
        with statements(storage) as issued:
            arrival = await uow.people.arrive("console", "ann", NOW)
    assert arrival is not None and arrival.identity.person.id == arrival.identity.person_id
    assert len(issued) == 1, issued


async def test_0011_drops_the_arrival_function_and_brings_it_back(database_url: str) -> None:
    engine = db.create_engine(database_url)

    def down(connection: Connection) -> None:
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")

    def functions(connection: Connection) -> int:
        if connection.dialect.name != "postgresql":
            return 0
        found = connection.scalar(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'coach_arrival'")
        )
        return int(found or 0)

    postgres = engine.dialect.name == "postgresql"
    try:
        await db.upgrade(engine)
        async with engine.begin() as connection:
            assert await connection.run_sync(functions) == (1 if postgres else 0)
            await connection.run_sync(down)
            assert await connection.run_sync(functions) == 0
        await db.upgrade(engine)
        storage = SqlStorage(db.sessionmaker(engine))
        async with storage() as uow:
            await uow.people.add("console", "ann", "Ann", NOW)
        async with storage() as uow:
            arrival = await uow.people.arrive("console", "ann", NOW)
            assert arrival is not None and arrival.identity.display_name == "Ann"
    finally:
        await engine.dispose()


# ---------------------------------------------------------- the arrival marks the account seen


@pytest.mark.parametrize(
    ("seen_ago", "unreachable", "moves"),
    [
        (timedelta(hours=20), False, True),  # a day's first message: last_seen moves
        (timedelta(minutes=3), False, False),  # within LAST_SEEN_RESOLUTION: no write
        (timedelta(minutes=3), True, False),  # blocked the bot, then wrote: reachable again
        (timedelta(days=3), True, True),
    ],
)
async def test_an_arrival_marks_the_account_seen_without_a_write_of_its_own(
    storage: SqlStorage, seen_ago: timedelta, unreachable: bool, moves: bool
) -> None:
    """What the arrival marks is stored at commit, and costs PostgreSQL no statement besides the
    arrival (`coach_arrival` writes it); SQLite writes it at commit when something changed."""
    assert storage.engine is not None
    async with storage() as uow:
        identity = await uow.people.add("console", "ann", "Ann", NOW - seen_ago)
        identity.unreachable = unreachable
    with statements(storage) as issued:
        async with storage() as uow:
            arrival = await uow.people.arrive("console", "ann", NOW)
            assert arrival is not None
            assert not arrival.identity.unreachable
            assert arrival.identity.last_seen == (NOW if moves else NOW - seen_ago)
    changes = moves or unreachable
    postgres = storage.engine.dialect.name == "postgresql"
    kinds = [statement.split()[0].upper() for statement in issued]
    assert kinds == ["SELECT"] + (["UPDATE"] if changes and not postgres else []), issued
    async with storage() as uow:
        stored = (await uow.session.scalars(select(Identity))).one()
        assert (stored.unreachable, stored.last_seen) == (False, NOW if moves else NOW - seen_ago)


# ------------------------------------------------------ a morning answer kept in the facts' read


async def test_facts_read_noting_a_morning_answer_keep_it_and_change_nothing_else(
    storage: SqlStorage,
) -> None:
    """The morning answer reaches the completed check-ins of its day that had none, in the
    facts read and in the table, and nothing else changes (a parameter named like a column
    would be SET by the UPDATE). PostgreSQL: one statement; SQLite: the UPDATE, then the read."""
    assert storage.engine is not None
    async with storage() as uow:
        ann = await uow.people.add("console", "ann", "Ann", NOW)
        bob = await uow.people.add("console", "bob", "Bob", NOW)
        shapes = [  # (who, days ago, done, morning pain, phase): the first before an advance
            (ann, 1, True, None, 0),
            (ann, 1, True, 5, 1),
            (ann, 1, False, None, 1),
            (ann, 0, True, None, 1),
            (bob, 1, True, None, 1),
        ]
        for who, ago, done, morning, phase in shapes:
            uow.checkins.add(
                CheckIn(
                    person_id=who.person_id,
                    started_at=NOW - timedelta(days=ago),
                    completed_at=NOW - timedelta(days=ago) if done else None,
                    local_date=DAY - timedelta(days=ago),
                    phase_index=phase,
                    pain_during=2,
                    morning_pain=morning,
                )
            )
        ann_id = ann.person_id

    async def table() -> list[tuple[Any, ...]]:
        async with storage() as uow:
            rows = await uow.session.execute(select(CheckIn.__table__).order_by(CheckIn.id))
            return [tuple(row) for row in rows]

    before = await table()
    async with storage() as uow:
        await uow.session.connection()  # BEGIN before counting
        with statements(storage) as issued:
            facts = await uow.checkins.phase_facts(
                ann_id,
                1,
                None,
                3,
                recent_since=DAY - timedelta(days=3),
                test_id=None,
                noting=MorningPain(DAY - timedelta(days=1), 3),
            )
    assert [(c.phase_index, c.morning_pain) for c in facts.recent] == [(0, 3), (1, 5), (1, None)]
    assert [c.morning_pain for c in facts.tail] == [5, None]
    assert len(issued) == (1 if storage.engine.dialect.name == "postgresql" else 2), issued
    after = await table()
    morning = list(CheckIn.__table__.columns.keys()).index("morning_pain")
    expected = [list(row) for row in before]
    expected[0][morning] = 3  # Ann's completed check-in of that day without a morning answer
    assert [list(row) for row in after] == expected
