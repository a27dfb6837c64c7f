"""Pacing to the platforms' limits, on a fake clock (no real waiting)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.core.messages import Platform
from bot.pacing import DISCORD, TELEGRAM, Limits, Pacer, is_group
from tests.integration.scheduler_support import VirtualTime


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Wake in order of wake-up time: advance to the earliest pending deadline.
        self.now += seconds
        await asyncio.sleep(0)


async def send_all(
    pacer: Pacer, clock: Clock, chats: list[str], group: bool = False
) -> list[tuple[float, str]]:
    log: list[tuple[float, str]] = []
    for chat in chats:
        await pacer.acquire(chat, group=group)
        log.append((clock.now, chat))
    return log


def most_in_any_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_telegram_overall_rate_stays_under_30_per_second() -> None:
    clock = Clock()
    pacer = Pacer(TELEGRAM, clock=clock, sleep=clock.sleep)
    log = await send_all(pacer, clock, [str(n) for n in range(300)])
    times = [at for at, _ in log]
    assert most_in_any_window(times, 1.0) <= 30
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 0.95 * 30 <= rate <= 30


async def test_one_message_a_second_per_chat_and_twenty_a_minute_per_group() -> None:
    clock = Clock()
    pacer = Pacer(TELEGRAM, clock=clock, sleep=clock.sleep)
    log = await send_all(pacer, clock, ["7", "7", "8", "7"])
    per_chat: dict[str, list[float]] = defaultdict(list)
    for at, chat in log:
        per_chat[chat].append(at)
    assert all(b - a >= 1.0 for a, b in zip(per_chat["7"], per_chat["7"][1:], strict=False))
    clock2 = Clock()
    pacer2 = Pacer(TELEGRAM, clock=clock2, sleep=clock2.sleep)
    log2 = await send_all(pacer2, clock2, ["-100"] * 25, group=True)
    assert most_in_any_window([at for at, _ in log2], 60.0) <= 20
    assert is_group(Platform.TELEGRAM, "-100") and not is_group(Platform.TELEGRAM, "100")
    assert not is_group(Platform.DISCORD, "-1")


async def test_concurrent_senders_share_the_overall_limit() -> None:
    clock = VirtualTime()
    pacer = Pacer(DISCORD, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def worker(n: int) -> None:
        for i in range(50):
            await pacer.acquire(f"{n}-{i}")
            times.append(clock.now)

    await clock.run(asyncio.gather(*(worker(n) for n in range(8))))
    times.sort()
    assert len(times) == 400
    assert most_in_any_window(times, 1.0) <= 50
    assert (len(times) - 1) / (times[-1] - times[0]) >= 0.95 * 50


async def test_unlimited_never_waits() -> None:
    clock = Clock()
    pacer = Pacer(Limits(), clock=clock, sleep=clock.sleep)
    await send_all(pacer, clock, ["1"] * 100)
    assert clock.now == 0 and pacer.unlimited
