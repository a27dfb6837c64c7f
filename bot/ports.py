"""The seams between the coach and the outside: what adapters call, and what the coach calls back.

Adapters depend on these protocols, never on the service internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from bot.core.messages import Incoming, Platform, Reply


class CoachPort(Protocol):
    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Turn one thing a person did into the replies to show them."""
        ...

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        """The platform refused delivery (blocked, DMs closed): stop sending until they write."""
        ...


class Delivery(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient (429 beyond the library's own retry, 5xx, timeout): try again later
    UNREACHABLE = "unreachable"  # 403: blocked, DMs closed, kicked from the channel
    FAILED = "failed"  # permanent error (bad request): do not retry


class Sender(Protocol):
    """Pushes messages the person did not ask for just now (reminders, team posts, digests)."""

    platform: Platform

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery: ...

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery: ...
