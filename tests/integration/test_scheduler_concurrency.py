"""Two scheduler processes on one database share a fan-out: every reminder is sent exactly
once. PostgreSQL (FOR UPDATE SKIP LOCKED) is the shared engine for replicas; SQLite's
conditional UPDATE is checked the same way with two engines on one file."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.messages import Platform
from storage import db, outbox
from storage.models import OutboxMessage, Person
from tests.integration.scheduler_support import PersonSpec, RecordingSender, add_people, scheduler

PEOPLE = 3000
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 in Berlin


async def fan_out_twice(url: str, people: int) -> tuple[Counter[str], list[int]]:
    engines = [db.create_engine(url), db.create_engine(url)]
    try:
        await db.upgrade(engines[0])
        sessions = [db.sessionmaker(engine) for engine in engines]
        zones = ["Europe/Berlin", "Europe/Paris", "Africa/Lagos"]  # all UTC+1 in January
        specs = [PersonSpec(zone=zones[n % 3]) for n in range(people)]
        await add_people(sessions[0], specs, PLANNED)
        senders = [RecordingSender(Platform.TELEGRAM) for _ in sessions]
        replicas = [
            scheduler(s, {Platform.TELEGRAM: sender}, batch=250, clock=lambda: DUE)
            for s, sender in zip(sessions, senders, strict=True)
        ]
        now = DUE + timedelta(seconds=15)
        results = await asyncio.gather(*(replica.tick(now) for replica in replicas))
        # Later ticks of both find nothing left to send.
        again = await asyncio.gather(*(r.tick(now + timedelta(seconds=30)) for r in replicas))
        assert sum(r.sent for r in again) == 0
        async with sessions[1]() as session:
            counts = await outbox.counts(session)
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
            next_day = await session.scalar(
                select(func.count()).where(Person.next_fire_utc == DUE + timedelta(days=1))
            )
        assert counts["sent"] == rows == people and counts["pending"] == 0
        assert next_day == people
        sent = Counter[str]()
        for sender in senders:
            sent.update(sender.per_ref())
        return sent, [r.sent for r in results] + [r.lost for r in results]
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_two_replicas_on_postgres_send_each_reminder_once(postgres_url: str) -> None:
    sent, (first, second, lost_a, lost_b) = await fan_out_twice(postgres_url, PEOPLE)
    assert len(sent) == PEOPLE and set(sent.values()) == {1}
    assert first + second == PEOPLE
    assert first > 0 and second > 0  # SKIP LOCKED let both work
    assert lost_a == lost_b == 0  # locked rows are skipped, never fought over


async def test_two_processes_on_one_sqlite_file_send_each_reminder_once(sqlite_url: str) -> None:
    sent, (first, second, _, _) = await fan_out_twice(sqlite_url, 1000)
    assert len(sent) == 1000 and set(sent.values()) == {1}
    assert first + second == 1000
