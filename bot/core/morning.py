"""Is the next morning's pain question due? A rule over plain values, shared by the check-in
service (asked first, whatever way the person comes in) and the scheduler (asked in the
reminder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["LastSession", "morning_due"]


@dataclass(frozen=True, slots=True)
class LastSession:
    """The person's last completed check-in, as far as the morning question cares."""

    local_date: date
    morning_known: bool  # its next morning's pain is already answered
    # It counts as a session: pain during the routine and the neutral-back answer are known
    # (a check-in stopped by a red flag is completed without them).
    counted: bool


def morning_due(last: LastSession | None, today: date, window_days: int) -> bool:
    """Due when the last session was before `today`, at most `window_days` days before it,
    counts as a session, and its morning is not known yet."""
    return (
        last is not None
        and last.counted
        and not last.morning_known
        and last.local_date < today
        and (today - last.local_date).days <= window_days
    )
