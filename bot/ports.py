"""What adapters may call on the coach. Adapters depend on this, never on the service internals."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import Incoming, Platform, Reply


class CoachPort(Protocol):
    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Turn one thing a person did into the replies to show them."""
        ...

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        """The platform refused delivery (blocked bot, DMs closed): stop sending until they write."""
        ...
