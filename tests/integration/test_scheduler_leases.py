"""Two scheduler replicas on one database, with sends slower than the send lease (flood waits):
no message is sent twice. A row whose lease ran out while it waited its turn is taken over by
the other replica and skipped by the first (its lease token no longer matches); a row being sent
keeps its lease while the send lasts. Real time with a short lease, as replicas see it: the
assertions are about what was sent, never about how long it took."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.core.messages import Platform
from bot.pacing import Pacer
from bot.ports import Delivery
from bot.scheduler import ReminderScheduler, TickResult
from storage import db, outbox
from tests.integration.scheduler_support import PersonSpec, add_people, library, settings

PEOPLE = 40
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
LEASE = timedelta(seconds=1.5)
SLOW = 2.5  # seconds: a flood wait, longer than the lease
DEADLINE = 90.0  # seconds of real time before the test gives up


class SlowSender:
    """Every 8th person's send waits out a flood wait longer than the lease."""

    platform = Platform.TELEGRAM

    def __init__(self, name: str, sent: list[tuple[str, str]]) -> None:
        self.name = name
        self.sent = sent

    async def send_to_person(self, user_ref: str, replies: object) -> Delivery:
        await asyncio.sleep(SLOW if int(user_ref) % 8 == 0 else 0.05)
        self.sent.append((self.name, user_ref))
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: object) -> Delivery:
        return Delivery.FAILED


async def test_sends_slower_than_the_lease_are_not_sent_twice(database_url: str) -> None:
    engines = [db.create_engine(database_url), db.create_engine(database_url)]
    try:
        await db.upgrade(engines[0])
        sessions = [db.sessionmaker(engine) for engine in engines]
        await add_people(sessions[0], [PersonSpec() for _ in range(PEOPLE)], PLANNED)
        started = time.monotonic()

        def clock() -> datetime:
            return DUE + timedelta(seconds=time.monotonic() - started)

        sent: list[tuple[str, str]] = []
        replicas = {
            name: ReminderScheduler(
                s,
                library(),
                {Platform.TELEGRAM: SlowSender(name, sent)},
                settings(),
                clock,
                pacers={Platform.TELEGRAM: Pacer()},
                lease=LEASE,
                concurrency=2,
                delivery_budget=None,
            )
            for name, s in zip("AB", sessions, strict=True)
        }
        totals = {name: TickResult() for name in replicas}

        async def unfinished() -> int:
            async with sessions[0]() as session:
                counts = await outbox.counts(session)
            return counts[outbox.PENDING] + counts[outbox.SENDING] + (counts[outbox.SENT] == 0)

        async def replica(name: str) -> None:
            while time.monotonic() - started < DEADLINE:
                totals[name] += await replicas[name].tick(clock())
                if not await unfinished():
                    return
                await asyncio.sleep(0.2)

        await asyncio.gather(*(replica(name) for name in replicas))
        per_ref = Counter(ref for _, ref in sent)
        duplicates = sum(count - 1 for count in per_ref.values())
        by_replica = Counter(name for name, _ in sent)
        print(
            f"\n{database_url.split(':')[0]}: {len(sent)} sends, {duplicates} duplicates, "
            f"by replica {dict(by_replica)}, taken over {sum(t.gone for t in totals.values())}"
        )
        assert duplicates == 0
        assert set(per_ref) == {str(n) for n in range(1, PEOPLE + 1)}
        # The second replica did take over rows whose lease ran out under the first.
        assert by_replica["A"] > 0 and by_replica["B"] > 0
        assert sum(t.gone for t in totals.values()) > 0
    finally:
        for engine in engines:
            await engine.dispose()
