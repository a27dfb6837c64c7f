"""The in-memory fakes the service's unit tests run on (`tests/unit/service/fakes.py`) answer
the storage port's queries as the SQLAlchemy repositories do, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.storage_port import MorningPain, Storage, UnitOfWork
from storage import db
from storage.models import CheckIn, Pause, SelfTestResult
from storage.unit_of_work import SqlStorage
from tests.unit.service.fakes import FakeStorage

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = date(2027, 1, 10)


def _pains(rows: Any) -> list[int | None]:
    return [row.pain_during for row in rows]


async def _scenario(uow: UnitOfWork) -> dict[str, Any]:
    identity = await uow.people.add("console", "u1", "Ann", NOW - timedelta(days=30))
    person_id = identity.person_id
    rows = [  # (days ago, pain, phase, paused, done, morning)
        (5, 1, 0, False, True, 2),
        (3, 2, 1, False, True, None),
        (3, 3, 1, True, True, None),
        (2, 4, 1, False, True, None),
        (1, 5, 1, False, False, None),  # never finished
        (0, 6, 1, False, True, None),
    ]
    for n, (ago, pain, phase, paused, done, morning) in enumerate(rows):
        uow.checkins.add(
            CheckIn(
                person_id=person_id,
                started_at=NOW - timedelta(days=ago, minutes=10),
                completed_at=NOW - timedelta(days=ago) + timedelta(seconds=n) if done else None,
                local_date=DAY - timedelta(days=ago),
                phase_index=phase,
                pain_during=pain,
                paused=paused,
                morning_pain=morning,
            )
        )
    for ago, end in ((9, NOW - timedelta(days=8)), (1, None)):
        uow.checkins.add_pause(
            Pause(
                person_id=person_id,
                kind="pause",
                started_at=NOW - timedelta(days=ago),
                ended_at=end,
            )
        )
    await uow.flush()
    uow.checkins.add_self_test(
        SelfTestResult(
            person_id=person_id, test_id="stand", at=NOW - timedelta(days=2), passed=False
        )
    )
    uow.checkins.add_self_test(
        SelfTestResult(person_id=person_id, test_id="other", at=NOW, passed=True)
    )
    await uow.flush()
    checkins = uow.checkins
    total, first, tail = await checkins.phase_summary(person_id, 1, DAY - timedelta(days=4), 2)
    last = await checkins.last_completed(person_id)
    going = await checkins.open_pause(person_id, NOW)
    return {
        "completed": _pains(await checkins.completed(person_id)),
        "since": _pains(await checkins.completed(person_id, since=DAY - timedelta(days=2))),
        "phase 0": _pains(await checkins.completed(person_id, phase_index=0)),
        "summary": (total, first, _pains(tail)),
        "last": last.pain_during if last else None,
        "facts": await _facts(uow, person_id),
        "arrival": await _arrival(uow),
        "every": _pains(await checkins.every(person_id)),
        "open pause": going.ended_at if going else "none",
        "identities": [i.user_ref for i in await uow.people.identities(person_id)],
        "found": (await uow.people.identity("console", "u1")) is not None,
    }


async def _facts(uow: UnitOfWork, person_id: int) -> list[Any]:
    """`phase_facts` for a few phases, windows and tests; then `note_morning`."""
    found = []
    for phase, since, last, recent, test in (
        (1, DAY - timedelta(days=4), 2, DAY - timedelta(days=2), "stand"),
        (1, None, 5, DAY, "other"),
        (0, None, 1, DAY - timedelta(days=3), None),
        (2, None, 3, DAY + timedelta(days=1), "none yet"),  # no row at all
    ):
        facts = await uow.checkins.phase_facts(
            person_id, phase, since, last, recent_since=recent, test_id=test
        )
        found.append(
            (
                facts.total,
                facts.first_day,
                _pains(facts.tail),
                _pains(facts.recent),
                facts.test_passed,
                facts.test_last_at,
                facts.queued,
            )
        )
    await uow.checkins.note_morning(person_id, DAY - timedelta(days=3), 4)
    rows = await uow.checkins.every(person_id)
    found.append([(row.pain_during, row.morning_pain) for row in rows])
    # A morning answer kept in the read (on PostgreSQL in the same statement).
    noted = await uow.checkins.phase_facts(
        person_id,
        1,
        None,
        5,
        recent_since=DAY - timedelta(days=4),
        test_id=None,
        noting=MorningPain(DAY - timedelta(days=2), 5),
    )
    found.append([(c.pain_during, c.morning_pain) for c in (*noted.tail, *noted.recent)])
    rows = await uow.checkins.every(person_id)
    found.append([(row.pain_during, row.morning_pain) for row in rows])
    # A check-in completed and not written yet is read as written (on PostgreSQL the read
    # writes it: `storage.carried`).
    uow.checkins.add(
        CheckIn(
            person_id=person_id,
            started_at=NOW,
            completed_at=NOW + timedelta(minutes=1),
            local_date=DAY,
            phase_index=1,
            pain_during=7,
        )
    )
    written = await uow.checkins.phase_facts(
        person_id, 1, None, 3, recent_since=DAY - timedelta(days=1), test_id=None
    )
    found.append((written.total, written.first_day, _pains(written.tail), _pains(written.recent)))
    return found


async def _arrival(uow: UnitOfWork) -> Any:
    arrival = await uow.people.arrive("console", "u1", NOW)
    assert arrival is not None
    last = arrival.last_session
    return (arrival.identity.user_ref, last.pain_during if last else None)


async def _run(storage: Storage) -> dict[str, Any]:
    async with storage() as uow:
        return await _scenario(uow)


async def test_the_fakes_answer_like_the_database(database_url: str) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    storage = SqlStorage(db.sessionmaker(engine))
    try:
        real = await _run(storage)
    finally:
        await storage.close()
    fake = await _run(FakeStorage())
    assert real == fake
    assert real["completed"] == [1, 2, 3, 4, 6] and real["summary"] == (
        3,
        DAY - timedelta(days=3),
        [4, 6],
    )
