"""Pacing pushed messages to each platform's published limits, so a fan-out of reminders does
not run into 429s.

- Telegram: about 30 messages a second overall, 1 a second to one chat, 20 a minute to one group.
- Discord: 50 requests a second overall; discord.py's own per-route buckets do the rest.

The pacer spaces messages evenly (no bursts), a little under each limit (`headroom`), and
reserves slots without locks: asyncio runs one coroutine at a time, so reading and moving the
next free slot happen together. Clock and sleep are injected, so tests never wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.messages import Platform

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_AT = 10_000  # chats remembered before old entries are forgotten


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float | None = None  # overall
    chat_interval: float | None = None  # seconds between two messages to one chat
    group_interval: float | None = None  # seconds between two messages to one group
    headroom: float = 0.97  # run at this fraction of each limit


UNLIMITED = Limits()
TELEGRAM = Limits(per_second=30.0, chat_interval=1.0, group_interval=60.0 / 20)
DISCORD = Limits(per_second=50.0)

DEFAULT_LIMITS: dict[Platform, Limits] = {
    Platform.TELEGRAM: TELEGRAM,
    Platform.DISCORD: DISCORD,
    Platform.CONSOLE: UNLIMITED,
}


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
