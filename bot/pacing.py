"""Pacing pushed messages to each platform's published limits, so a fan-out of reminders does
not run into 429s.

- Telegram: about 30 messages a second overall, 1 a second to one chat, 20 a minute to one group.
- Discord: 50 requests a second overall; discord.py's own per-route buckets do the rest.

With paid broadcast (`COACH_TELEGRAM_PAID_BROADCAST`) Telegram takes up to 1000 messages a
second from a bot that passes `allow_paid_broadcast`, charging Stars for them; the per-chat
limits stay.

The pacer spaces messages evenly (no bursts), a little under each limit (`headroom`), and
reserves slots without locks: asyncio runs one coroutine at a time, so reading and moving the
next free slot happen together. Clock and sleep are injected, so tests never wait.

`Pacer` keeps the overall budget in memory: right for one process (SQLite). Replicas on one
PostgreSQL database use `SharedPacer`: the overall budget is one row per platform
(`storage.send_budget`) that every replica reserves its slots from, so together they stay under
the limit. Per-chat spacing stays in each process: two rows for one chat leased by two
replicas at once may still go out less than a second apart (rare: one chat's rows are due
together and usually leased together).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import Platform

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

log = logging.getLogger(__name__)

_PRUNE_AT = 10_000  # chats remembered before old entries are forgotten
BATCH_SECONDS = 0.1  # a replica reserves this much of the shared budget per round trip
_RESERVE_TRIES = 3  # reservations that came back already past before pacing alone


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float | None = None  # overall
    chat_interval: float | None = None  # seconds between two messages to one chat
    group_interval: float | None = None  # seconds between two messages to one group
    headroom: float = 0.97  # run at this fraction of each limit


UNLIMITED = Limits()
TELEGRAM = Limits(per_second=30.0, chat_interval=1.0, group_interval=60.0 / 20)
DISCORD = Limits(per_second=50.0)
# Paid broadcast lifts only the overall limit (to 1000/s); run well under it.
TELEGRAM_PAID = Limits(per_second=1000.0, chat_interval=1.0, group_interval=60.0 / 20, headroom=0.9)

DEFAULT_LIMITS: dict[Platform, Limits] = {
    Platform.TELEGRAM: TELEGRAM,
    Platform.DISCORD: DISCORD,
    Platform.CONSOLE: UNLIMITED,
}


def limits_for(platform: Platform, *, paid_broadcast: bool = False) -> Limits:
    """The limits pushed messages keep to (`paid_broadcast`: the sender pays for Telegram's)."""
    if paid_broadcast and platform == Platform.TELEGRAM:
        return TELEGRAM_PAID
    return DEFAULT_LIMITS.get(platform, UNLIMITED)


def is_group(platform: Platform | str, chat_ref: str) -> bool:
    """Telegram group and channel chat ids are negative; private chats are users (positive)."""
    return platform == Platform.TELEGRAM and chat_ref.startswith("-")


class Pacer:
    def __init__(
        self,
        limits: Limits = UNLIMITED,
        *,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        share = limits.headroom if limits.headroom > 0 else 1.0
        self._gap = 1.0 / (limits.per_second * share) if limits.per_second else 0.0
        self._chat_gap = (limits.chat_interval or 0.0) / share
        self._group_gap = (limits.group_interval or 0.0) / share

    @property
    def unlimited(self) -> bool:
        return not (self._gap or self._chat_gap or self._group_gap)

    async def acquire(self, chat: str, *, group: bool = False, messages: int = 1) -> None:
        """Wait until `messages` more messages may go to `chat`."""
        if self.unlimited:
            return
        now = self.clock()
        gap = max(self._group_gap if group else 0.0, self._chat_gap)
        if gap:
            chat_at = max(now, self._next_chat.get(chat, 0.0))
            self._next_chat[chat] = chat_at + gap * messages
            if len(self._next_chat) > _PRUNE_AT:
                self._prune(now)
            await self._until(chat_at)
        if self._gap:
            await self._overall(messages)

    async def _overall(self, messages: int) -> None:
        """Wait for `messages` slots of the overall budget (here: this process's own)."""
        now = self.clock()
        slot = max(now, self._next_any)
        self._next_any = slot + self._gap * messages
        await self._until(slot)

    async def _until(self, at: float) -> None:
        delay = at - self.clock()
        if delay > 0:
            await self.sleep(delay)

    def _prune(self, now: float) -> None:
        self._next_chat = {chat: at for chat, at in self._next_chat.items() if at > now}


class SlotBook(Protocol):
    """The overall budget replicas share (`storage.send_budget.SharedBudget` on PostgreSQL)."""

    async def reserve(self, platform: str, count: int, gap: float, now: float) -> float:
        """Take `count` slots `gap` seconds apart from the platform's next free one (none before
        `now`); the time of the first."""
        ...


class SharedPacer(Pacer):
    """A `Pacer` whose overall budget is shared by every replica through `book`.

    A replica reserves a few slots at once (`batch`, about `BATCH_SECONDS` of the budget) to
    spare round trips, starting `lead` seconds ahead so they are not already past when the
    answer comes, and hands them to its sends in order. A slot that has passed is dropped, not
    used late: a late send would bunch up with the other replicas' sends on time. The clock is
    the wall clock (seconds since the epoch) because the slots are compared across processes:
    replicas need synchronised clocks (NTP), as the reminder times already do. If the book
    cannot be reached the process paces on its own for that message.
    """

    def __init__(
        self,
        limits: Limits,
        book: SlotBook,
        platform: Platform,
        *,
        clock: Monotonic = time.time,
        sleep: Sleep = asyncio.sleep,
        batch: int | None = None,
        lead: float = BATCH_SECONDS,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self.book = book
        self.platform = platform
        per_second = 1.0 / self._gap if self._gap else 0.0
        self.batch = batch or max(1, round(per_second * BATCH_SECONDS))
        self.lead = lead
        self._first = 0.0  # the next reserved slot of this process
        self._left = 0  # how many reserved slots are left from `_first` on
        self._lock = asyncio.Lock()  # one reservation at a time; the others take its slots

    async def _overall(self, messages: int) -> None:
        async with self._lock:
            for _ in range(_RESERVE_TRIES):
                now = self.clock()
                self._drop_late(now)
                if self._left >= messages or not await self._reserve(
                    max(self.batch, messages), now + self.lead
                ):
                    break
            if self._left >= messages:
                slot = self._first
                self._first += self._gap * messages
                self._left -= messages
            else:  # the database is away: pace this one alone
                slot = max(self.clock(), self._next_any)
                self._next_any = slot + self._gap * messages
        await self._until(slot)

    async def _reserve(self, count: int, now: float) -> bool:
        """Replace what is left of the last reservation with `count` new slots."""
        self._left = 0
        try:
            self._first = await self.book.reserve(self.platform.value, count, self._gap, now)
        except Exception as exc:
            log.warning("pacing: shared budget not reached (%s)", type(exc).__name__)
            return False
        self._left = count
        return True

    def _drop_late(self, now: float) -> None:
        """Forget the reserved slots that have passed."""
        if self._left and self._first < now:
            late = min(self._left, math.ceil((now - self._first) / self._gap))
            self._first += late * self._gap
            self._left -= late
