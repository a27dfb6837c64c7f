"""What one tick did, counted."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class TickResult:
    claimed: int = 0  # reminders whose time had come and that this process took
    enqueued: int = 0  # outbox rows written to be sent
    skipped: int = 0  # paused or on hold, skipped today, done today, nobody to reach
    dropped: int = 0  # later than the grace period
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    lost: int = 0  # claims another process won
    gone: int = 0  # leased, but deleted (/delete) or taken over by another process before sending

    def __iadd__(self, other: TickResult) -> TickResult:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        return self

    def __bool__(self) -> bool:
        return any(getattr(self, item.name) for item in fields(self))

    def __str__(self) -> str:
        return ", ".join(f"{item.name} {getattr(self, item.name)}" for item in fields(self))

    def count(self, name: str) -> None:
        """One more of the field `name` (an outcome of a send)."""
        setattr(self, name, getattr(self, name) + 1)
