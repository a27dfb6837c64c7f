"""Replicas sharing one send budget (`SharedPacer`), on virtual time and an in-memory book; the
book's SQL is checked on PostgreSQL in tests/integration/test_send_budget.py."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.messages import Platform
from bot.pacing import (
    DISCORD,
    TELEGRAM,
    TELEGRAM_PAID,
    Limits,
    Pacer,
    SharedPacer,
    limits_for,
)
from tests.integration.scheduler_support import VirtualTime
from tests.unit.test_reminders_pacing import most_in_any_window


class Book:
    """The shared row in memory: each reservation is one atomic step after a round trip."""

    def __init__(self) -> None:
        self.next_slot: dict[str, float] = {}
        self.calls = 0
        self.failing = False

    async def reserve(self, platform: str, count: int, gap: float, now: float) -> float:
        self.calls += 1
        await asyncio.sleep(0)  # the round trip: other replicas run meanwhile
        if self.failing:
            raise ConnectionError("database away")
        first = max(self.next_slot.get(platform, 0.0), now)
        self.next_slot[platform] = first + count * gap
        return first


async def fan_out(pacers: list[Pacer], clock: VirtualTime, each: int) -> list[float]:
    """Every pacer (a replica) sends `each` messages to distinct chats with four workers."""
    times: list[float] = []

    async def worker(replica: int, pacer: Pacer, worker_no: int) -> None:
        for n in range(each // 4):
            await pacer.acquire(f"{replica}-{worker_no}-{n}")
            times.append(clock.now)

    work = [worker(r, p, w) for r, p in enumerate(pacers) for w in range(4)]
    await clock.run(asyncio.gather(*work))
    return sorted(times)


async def test_two_replicas_on_one_budget_stay_under_telegrams_limit() -> None:
    clock, book = VirtualTime(), Book()
    replicas: list[Pacer] = [
        SharedPacer(TELEGRAM, book, Platform.TELEGRAM, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    ]
    times = await fan_out(replicas, clock, 300)
    assert len(times) == 600
    assert most_in_any_window(times, 1.0) <= 30
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate >= 0.9 * 30  # sharing costs little of the budget
    assert book.calls <= len(times) / 2  # slots are reserved a few at a time


async def test_without_the_shared_budget_two_replicas_exceed_it() -> None:
    clock = VirtualTime()
    replicas = [Pacer(TELEGRAM, clock=clock, sleep=clock.sleep) for _ in range(2)]
    times = await fan_out(replicas, clock, 300)
    assert most_in_any_window(times, 1.0) > 50  # about twice the limit


async def test_slots_are_reserved_a_little_ahead_and_never_used_late() -> None:
    clock, book = VirtualTime(), Book()
    pacer = SharedPacer(TELEGRAM, book, Platform.TELEGRAM, clock=clock, sleep=clock.sleep)
    gap = 1 / (30 * 0.97)
    assert pacer.batch == 3
    await clock.run(pacer.acquire("1"))
    assert clock.now == pytest.approx(pacer.lead)  # the first slot: `lead` after asking
    assert book.calls == 1
    clock.now += 10.0  # the queue ran dry; two reserved slots are long past
    await clock.run(pacer.acquire("2"))
    assert book.calls == 2  # a fresh reservation, not a slot of ten seconds ago
    assert book.next_slot["telegram"] == pytest.approx(clock.now + 3 * gap)
    # A slot passed by a hair is dropped as well: sent now, it would bunch up with the next.
    first = clock.now
    clock.now += gap * 1.01
    await clock.run(pacer.acquire("3"))
    assert book.calls == 2 and clock.now == pytest.approx(first + 2 * gap)  # the third slot


async def test_a_long_reminder_takes_as_many_slots_in_a_row() -> None:
    clock, book = VirtualTime(), Book()
    pacer = SharedPacer(TELEGRAM, book, Platform.TELEGRAM, clock=clock, sleep=clock.sleep)
    await clock.run(pacer.acquire("1", messages=5))
    await clock.run(pacer.acquire("2"))
    gap = 1 / (30 * 0.97)
    assert clock.now == pytest.approx(pacer.lead + 5 * gap)  # after the first's five slots
    assert book.calls == 2


async def test_without_the_database_a_replica_paces_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, book = VirtualTime(), Book()
    book.failing = True
    pacer = SharedPacer(DISCORD, book, Platform.DISCORD, clock=clock, sleep=clock.sleep)
    with caplog.at_level(logging.WARNING, logger="bot.pacing"):
        times = await fan_out([pacer], clock, 100)
    assert len(times) == 100 and most_in_any_window(times, 1.0) <= 50
    assert "shared budget not reached (ConnectionError)" in caplog.text


async def test_paid_broadcast_raises_only_telegrams_overall_limit() -> None:
    assert limits_for(Platform.TELEGRAM) is TELEGRAM
    assert limits_for(Platform.TELEGRAM, paid_broadcast=True) is TELEGRAM_PAID
    assert limits_for(Platform.DISCORD, paid_broadcast=True) is DISCORD
    assert limits_for(Platform.CONSOLE) == Limits()
    assert TELEGRAM_PAID.per_second is not None
    assert TELEGRAM_PAID.per_second * TELEGRAM_PAID.headroom <= 900  # headroom under 1000/s
    assert TELEGRAM_PAID.chat_interval == TELEGRAM.chat_interval
    assert TELEGRAM_PAID.group_interval == TELEGRAM.group_interval
    clock = VirtualTime()
    times = await fan_out([Pacer(TELEGRAM_PAID, clock=clock, sleep=clock.sleep)], clock, 2000)
    assert 800 <= most_in_any_window(times, 1.0) < 1000
