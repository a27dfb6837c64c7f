"""Reminder time maths: when does "07:30 in Europe/Berlin on Mon/Wed/Fri" next fire?

Rules, so that a person gets exactly one reminder per local day, also across daylight saving:

- A wall time that does not exist that day (the spring-forward gap) fires at the instant the
  clocks jump, the first valid instant after the gap: Europe/Berlin 2027-03-28 02:30 fires at
  01:00 UTC (03:00 CEST). Python's fold=0 conversion would land *after* that (03:30 CEST) and
  fold=1 before the gap (01:30 CET), so the jump is found by bisection; this also works for the
  30-minute shift of Australia/Lord_Howe.
- A wall time that occurs twice (the autumn fall-back) fires once, at the first occurrence.
- A local date that does not exist at all (Pacific/Apia skipped 2011-12-30) is skipped, so no
  local date ever gets two reminders.

Everything is computed per local date and returned as aware UTC datetimes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.core.numbers import ascii_digits

__all__ = ["ALL_DAYS", "fire_instant", "local_day", "next_fire_utc", "parse_hhmm"]

ALL_DAYS: frozenset[int] = frozenset(range(7))  # Monday=0 ... Sunday=6, like date.weekday()

_HHMM = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.h]?(?P<minute>\d{2}))?(?P<half>am|pm|a|p)?",
    re.ASCII,
)
_WORDS = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
_MAX_TIME_TEXT = 24
# Days examined after the start date: a single allowed weekday recurs within 7 days, plus
# room for a local date that does not exist.
_SEARCH_DAYS = 15


def parse_hhmm(text: str) -> time:
    """Read a time of day: "07:30", "7:30", "7.30", "7h30", "0730", "730", "7", "7am",
    "7:30pm", "7:30 p.m.", "noon", "midnight". Raises ValueError with a readable message."""
    shown = text.strip()
    shown = shown if len(shown) <= _MAX_TIME_TEXT else shown[:_MAX_TIME_TEXT] + "…"
    example = "(e.g. 07:30, 7:30pm or 1930)."
    if len(text) > 4 * _MAX_TIME_TEXT:
        raise ValueError(f"{shown!r} is not a time of day {example}")
    digits = ascii_digits(text)  # "٠٧:٣٠" is 07:30; "²" is not a digit anywhere in the coach
    if digits is None:
        raise ValueError(f"{shown!r} is not a time of day {example}")
    compact = "".join(unicodedata.normalize("NFKC", digits).casefold().split())
    compact = compact.replace("a.m.", "am").replace("p.m.", "pm").removesuffix(".")
    if compact in _WORDS:
        return _WORDS[compact]
    match = _HHMM.fullmatch(compact)
    if match is None:
        raise ValueError(f"{shown!r} is not a time of day {example}")
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    half = match["half"]
    if minute > 59:
        raise ValueError(f"{shown!r}: minutes go from 00 to 59 {example}")
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"{shown!r}: with am/pm the hour goes from 1 to 12 {example}")
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    elif hour > 23:
        raise ValueError(f"{shown!r}: hours go from 00 to 23, midnight is 00:00 {example}")
    return time(hour, minute)


def local_day(instant_utc: datetime, zone: str) -> date:
    """The person's local date at an instant."""
    _require_aware(instant_utc, "instant_utc")
    return instant_utc.astimezone(_zone(zone)).date()


def fire_instant(local_date: date, local_time: time, zone: str) -> datetime:
    """The UTC instant at which a reminder set for `local_time` fires on `local_date`.

    A wall time inside a spring-forward gap gives the instant the clocks jump; a wall time that
    occurs twice gives its first occurrence.
    """
    tz = _zone(zone)
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a naive wall-clock time")
    wall = datetime.combine(local_date, local_time.replace(fold=0))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == wall:
        return first  # exists (fold=0 is the first occurrence when it exists twice)

    # In a gap. With fold=0 zoneinfo applies the offset from before the jump, with fold=1 the
    # offset from after it, so the jump lies between the two readings.
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    return _first_instant_at_or_after(wall, tz, low, high)


def next_fire_utc(
    *,
    local_time: time,
    zone: str,
    after_utc: datetime,
    weekdays: frozenset[int] = ALL_DAYS,
) -> datetime:
    """The first instant strictly after `after_utc` at which the reminder fires (aware, UTC)."""
    _require_aware(after_utc, "after_utc")
    if not weekdays:
        raise ValueError("weekdays must not be empty")
    if not weekdays <= ALL_DAYS:
        raise ValueError(f"weekdays must be in 0..6 (Monday=0), got {sorted(weekdays)}")
    tz = _zone(zone)
    after = after_utc.astimezone(UTC)
    start = after.astimezone(tz).date()

    # Start one day early in case a fall-back moved the clock back across midnight; take the
    # earliest qualifying instant, not the earliest date, to be safe with such reorderings.
    best: datetime | None = None
    best_date: date | None = None
    for offset in range(-1, _SEARCH_DAYS + 1):
        day = start + timedelta(days=offset)
        if best_date is not None and day > best_date + timedelta(days=1):
            break
        if day.weekday() not in weekdays:
            continue
        fire = fire_instant(day, local_time, zone)
        if fire <= after or _wall(fire, tz).date() != day:
            continue  # already past, or this local date does not exist in this zone
        if best is None or fire < best:
            best, best_date = fire, day
    if best is None:  # pragma: no cover - impossible with a non-empty weekday set
        raise RuntimeError(f"no reminder time found for {local_time} in {zone} after {after}")
    return best


# --- helpers ---------------------------------------------------------------------------------


def _zone(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {zone!r}") from exc


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _first_instant_at_or_after(
    wall: datetime, tz: tzinfo, low: datetime, high: datetime
) -> datetime:
    """Bisect for the first instant in (low, high] whose local wall time is >= `wall`.

    Requires wall(low) < `wall` <= wall(high), true around a single forward transition.
    Transitions fall on whole seconds, so whole-second steps from `low` find it exactly.
    """
    base = low.replace(microsecond=0)
    lo, hi = 0, int((high - base).total_seconds()) + 1
    while lo + 1 < hi:  # invariant: wall(base + lo s) < wall, wall(base + hi s) >= wall
        mid = (lo + hi) // 2
        if _wall(base + timedelta(seconds=mid), tz) >= wall:
            hi = mid
        else:
            lo = mid
    return base + timedelta(seconds=hi)
