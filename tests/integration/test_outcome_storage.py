"""The outcome tables on SQLite and PostgreSQL: migration 0007 up, down and up again (head then
matching the models), the queries the service will call, one reassessment per window, /export,
and /delete (explicit deletes and ON DELETE CASCADE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import db, outcomes
from storage.models import OUTCOME_TABLES, Person
from storage.repositories.people import SqlPeople
from tests.integration.test_scheduler_outbox_migration import _diff

NOW = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
NEW_TABLES = {"activities", "reassessments", "activity_scores", "lessons_seen"}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    built = db.create_engine(database_url)
    await db.upgrade(built)
    yield built
    await built.dispose()


async def _person(session: AsyncSession) -> int:
    identity = await SqlPeople(session).add("console", "sam", "Sam", NOW)
    return identity.person_id


async def _counts(session: AsyncSession, person_id: int) -> dict[str, int]:
    return {
        table.__tablename__: int(
            await session.scalar(
                select(func.count()).select_from(table).where(table.person_id == person_id)
            )
            or 0
        )
        for table in OUTCOME_TABLES
    }


async def _fill(session: AsyncSession, person_id: int) -> list[int]:
    rows = await outcomes.add_activities(
        session,
        person_id,
        [
            outcomes.NewActivity("Deadlifting at my working weight", 4, "deadlift"),
            outcomes.NewActivity("Getting out of the car", 3),
        ],
        NOW,
    )
    ids = [row.id for row in rows]
    stored = await outcomes.add_reassessment(
        session,
        person_id,
        week=4,
        local_date=date(2027, 3, 1),
        now=NOW,
        usual_pain=3,
        global_rating=2,
        scores={ids[0]: 7, ids[1]: 5},
        review_suggested=False,
    )
    assert stored is not None
    assert await outcomes.mark_lesson_seen(
        session, person_id, "hurt-is-not-harm", date(2027, 2, 1), NOW
    )
    return ids


async def test_migration_0007_up_down_up_matches_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine, "0006")
        await db.upgrade(engine, "0007")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert tables >= NEW_TABLES

        def down(connection: object) -> None:
            from alembic import command

            config = db.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert not NEW_TABLES & tables
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("people")}
            )
            assert "activities_asked_on" not in columns
        await db.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_activities_reassessments_and_lessons_round_trip(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker(engine)
    async with sessions() as session, session.begin():
        person_id = await _person(session)
        ids = await _fill(session, person_id)
        more = await outcomes.add_activities(
            session, person_id, [outcomes.NewActivity("Tying my shoes", 6, "tying-shoes")], NOW
        )
        assert more[0].position == 2  # after the two chosen first
    async with sessions() as session:
        acts = await outcomes.activities(session, person_id)
        assert [(a.label, a.baseline_score, a.offer_id) for a in acts] == [
            ("Deadlifting at my working weight", 4, "deadlift"),
            ("Getting out of the car", 3, None),
            ("Tying my shoes", 6, "tying-shoes"),
        ]
        assert await outcomes.answered_weeks(session, person_id) == {4}
        [(row, scores)] = await outcomes.reassessments(session, person_id)
        assert (row.week, row.usual_pain, row.global_rating) == (4, 3, 2)
        assert scores == {ids[0]: 7, ids[1]: 5}
        assert await outcomes.lessons_seen(session, person_id) == {
            "hurt-is-not-harm": date(2027, 2, 1)
        }


async def test_one_reassessment_per_window_and_only_own_activities(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker(engine)
    async with sessions() as session, session.begin():
        person_id = await _person(session)
        ids = await _fill(session, person_id)
        again = await outcomes.add_reassessment(
            session,
            person_id,
            week=4,
            local_date=date(2027, 3, 2),
            now=NOW,
            usual_pain=8,
            global_rating=-3,
            scores={ids[0]: 1},
            review_suggested=True,
        )
        assert again is None
        other = await SqlPeople(session).add("console", "kim", "Kim", NOW)
        foreign = await outcomes.add_reassessment(
            session,
            other.person_id,
            week=4,
            local_date=date(2027, 3, 2),
            now=NOW,
            usual_pain=2,
            global_rating=0,
            scores={ids[0]: 9},  # Sam's activity
            review_suggested=False,
        )
        assert foreign is None
        assert not await outcomes.mark_lesson_seen(
            session, person_id, "hurt-is-not-harm", date(2027, 2, 9), NOW
        )
    async with sessions() as session:
        assert await _counts(session, person_id) == {
            "activity_scores": 2,
            "reassessments": 1,
            "activities": 2,
            "lessons_seen": 1,
        }
        assert (await outcomes.lessons_seen(session, person_id))["hurt-is-not-harm"] == date(
            2027, 2, 1
        )  # the first date kept
        assert await outcomes.answered_weeks(session, other.person_id) == set()


async def test_export_lists_every_outcome_row(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker(engine)
    async with sessions() as session, session.begin():
        person_id = await _person(session)
        await _fill(session, person_id)
    async with sessions() as session:
        exported = await outcomes.export(session, person_id)
    assert exported["activities"][1] == {
        "activity": "Getting out of the car",
        "offered": None,
        "baseline": 3,
        "chosen_at": NOW.isoformat(),
    }
    assert exported["reassessments"] == [
        {
            "week": 4,
            "date": "2027-03-01",
            "usual_pain": 3,
            "global_rating": 2,
            "clinician_review_suggested": False,
            "activities": {"Deadlifting at my working weight": 7, "Getting out of the car": 5},
        }
    ]
    assert exported["lessons_seen"] == [{"lesson": "hurt-is-not-harm", "date": "2027-02-01"}]


async def test_delete_person_removes_every_outcome_row(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker(engine)
    async with sessions() as session, session.begin():
        person_id = await _person(session)
        await _fill(session, person_id)
        kept = (await SqlPeople(session).add("console", "kim", "Kim", NOW)).person_id
        await _fill(session, kept)
    async with sessions() as session, session.begin():
        await SqlPeople(session).delete(person_id)
    async with sessions() as session:
        assert set((await _counts(session, person_id)).values()) == {0}
        assert set((await _counts(session, kept)).values()) == {1, 2}  # the other person's stay


async def test_deleting_the_people_row_cascades(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker(engine)
    async with sessions() as session, session.begin():
        person_id = await _person(session)
        await _fill(session, person_id)
    async with sessions() as session, session.begin():
        await session.execute(delete(Person).where(Person.id == person_id))
    async with sessions() as session:
        assert set((await _counts(session, person_id)).values()) == {0}
