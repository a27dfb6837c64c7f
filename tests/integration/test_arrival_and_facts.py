"""On both databases: `People.arrive` brings the person's last session and the check-in their
open question names with the identity; `CheckIns.phase_facts` says whether anything of theirs
waits in the outbox (a completed check-in spares the outbox's UPDATE when nothing does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import flows
from storage import db, outbox
from storage.models import CheckIn, OutboxMessage
from storage.unit_of_work import SqlStorage

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = date(2027, 1, 10)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[SqlStorage]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    built = SqlStorage(db.sessionmaker(engine))
    yield built
    await built.close()


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
        arrival = await uow.people.arrive("console", "u1")
        assert arrival is not None and arrival.last_session is not None
        assert arrival.last_session.local_date == DAY - timedelta(days=1)
        assert arrival.asked is not None and arrival.asked.id == open_one
        assert await uow.people.arrive("console", "nobody") is None
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
