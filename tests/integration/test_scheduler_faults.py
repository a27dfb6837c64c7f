"""Delivery faults from fake senders: retries with back-off until sent, unreachable chats that
get no more tries, permanent failures, senders that raise; and the channel-post hook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform
from bot.ports import Delivery
from storage import db, outbox
from storage.models import Identity, OutboxMessage
from tests.integration.scheduler_support import PersonSpec, RecordingSender, add_people, scheduler

PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
DAY = timedelta(days=1)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    yield db.sessionmaker(engine)
    await engine.dispose()


def telegram_script(ref: str, attempt: int) -> Delivery:
    kind = int(ref) % 5
    if kind == 0:  # flood control / 5xx a few times, then through
        return Delivery.RETRY if attempt <= 3 else Delivery.SENT
    if kind == 1:  # blocked the bot
        return Delivery.UNREACHABLE
    if kind == 2:  # bad request: never retried
        return Delivery.FAILED if attempt == 1 else Delivery.SENT
    if kind == 3 and attempt == 1:  # the sender itself blew up once
        raise RuntimeError("connection reset")
    return Delivery.SENT


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_everything_deliverable_is_delivered(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    telegram = await add_people(sessions, [PersonSpec() for _ in range(20)], PLANNED)
    discord = await add_people(
        sessions, [PersonSpec(platform=Platform.DISCORD) for _ in range(4)], PLANNED
    )
    now = DUE
    tg = RecordingSender(Platform.TELEGRAM, telegram_script, clock=lambda: now)
    dc = RecordingSender(
        Platform.DISCORD, lambda ref, n: Delivery.RETRY if n <= 2 else Delivery.SENT
    )
    reminders = scheduler(
        sessions, {Platform.TELEGRAM: tg, Platform.DISCORD: dc}, clock=lambda: now
    )
    total_retried = 0
    for seconds in range(0, 20 * 60, 30):  # ticks every 30 s for 20 minutes
        now = DUE + timedelta(seconds=seconds)
        total_retried += (await reminders.tick(now)).retried

    by_kind = {k: [str(i) for i in telegram if i % 5 == k] for k in range(5)}
    delivered = tg.per_ref()
    for ref in by_kind[0] + by_kind[3] + by_kind[4]:
        assert delivered[ref] == 1, ref
    assert all(tg.calls[ref] == 4 for ref in by_kind[0])  # three retries, then sent
    assert all(ref not in delivered and tg.calls[ref] == 1 for ref in by_kind[1])
    assert all(ref not in delivered and tg.calls[ref] == 1 for ref in by_kind[2])
    assert dc.per_ref() == {str(i): 1 for i in discord}
    assert total_retried == 3 * len(by_kind[0]) + len(by_kind[3]) + 2 * len(discord)

    states = {(row.ref, row.platform): row for row in await rows(sessions)}
    for ref in by_kind[1]:
        row = states[(ref, "telegram")]
        assert (row.state, row.last_error) == ("unreachable", "unreachable")
    for ref in by_kind[2]:
        assert states[(ref, "telegram")].state == "failed"
    assert {row.last_error for row in states.values() if row.state == "sent"} <= {
        None,
        "retry",
        "RuntimeError",
    }
    async with sessions() as session:
        blocked = (
            await session.scalars(select(Identity.user_ref).where(Identity.unreachable))
        ).all()
    assert sorted(blocked) == sorted(by_kind[1])

    # The next day: the unreachable get no more tries at all; a failed message was only that
    # message, so those people get tomorrow's reminder.
    calls_before = dict(tg.calls)
    now = DUE + DAY
    result = await reminders.tick(now)
    assert all(tg.calls[ref] == calls_before[ref] for ref in by_kind[1])
    assert all(tg.per_ref()[ref] == 1 for ref in by_kind[2])
    assert result.skipped == len(by_kind[1])


async def test_retries_give_up_after_the_limit(sessions: async_sessionmaker[AsyncSession]) -> None:
    [person_id] = await add_people(sessions, [PersonSpec()], PLANNED)
    sender = RecordingSender(Platform.TELEGRAM, lambda ref, n: Delivery.RETRY)
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender}, max_attempts=3)
    for seconds in range(0, 15 * 60, 30):
        await reminders.tick(DUE + timedelta(seconds=seconds))
    assert sender.calls[str(person_id)] == 3
    [row] = await rows(sessions)
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "retries used up")


async def test_channel_posts_go_through_the_same_outbox(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The hook for team posts and digests: a row aimed at a channel is sent with
    send_to_channel; an unreachable channel does not mark any person unreachable."""
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.outbox_row(
                    target=outbox.channel_target("telegram", channel),
                    kind=outbox.TEAM_POST,
                    local_date=date(2027, 1, 5),
                    platform="telegram",
                    ref=channel,
                    fire_at=DUE,
                    now=DUE,
                    payload=[{"text": "Team routine today", "private": False}],
                    to_channel=True,
                )
                for channel in ("-1001", "-1002")
            ],
        )
    sender = RecordingSender(
        Platform.TELEGRAM,
        lambda ref, n: Delivery.UNREACHABLE if ref == "-1002" else Delivery.SENT,
    )
    result = await scheduler(sessions, {Platform.TELEGRAM: sender}).tick(DUE)
    assert (result.sent, result.unreachable) == (1, 1)
    [post] = sender.sent
    assert post.to_channel and post.ref == "-1001" and post.text == "Team routine today"
