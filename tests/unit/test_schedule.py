"""Reminder time maths: one reminder per local day, across daylight-saving changes.

Expected instants for the 2027 transitions were looked up once with zoneinfo (scanning 2027 in
15-minute steps) and are written out by hand below:

  Europe/Berlin        gap 2027-03-28 02:00-03:00 (jump at 01:00Z), repeat 2027-10-31 02:00-03:00
  America/New_York     gap 2027-03-14 02:00-03:00 (jump at 07:00Z), repeat 2027-11-07 01:00-02:00
  Australia/Lord_Howe  repeat 2027-04-04 01:30-02:00 (+11:00 -> +10:30),
                       gap 2027-10-03 02:00-02:30 (jump at 2027-10-02 15:30Z)
  Pacific/Chatham      repeat 2027-04-04 02:45-03:45 (+13:45 -> +12:45),
                       gap 2027-09-26 02:45-03:45 (jump at 2027-09-25 14:00Z)
  Australia/Sydney     repeat 2027-04-04 02:00-03:00 (+11 -> +10),
                       gap 2027-10-03 02:00-03:00 (jump at 2027-10-02 16:00Z)
  Asia/Kolkata         none (+05:30 all year)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.schedule import ALL_DAYS, fire_instant, local_day, next_fire_utc, parse_hhmm
from bot.core.timezones import offered_zones

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def days_of(year: int) -> list[date]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def chain(
    zone: str,
    at: time,
    after: datetime,
    count: int,
    weekdays: frozenset[int] = ALL_DAYS,
) -> list[datetime]:
    fires = []
    for _ in range(count):
        after = next_fire_utc(local_time=at, zone=zone, after_utc=after, weekdays=weekdays)
        fires.append(after)
    return fires


def exists(zone: str, day: date, at: time) -> bool:
    """Independent check: does this wall time occur on this day (round trip through UTC)?"""
    wall = datetime.combine(day, at)
    tz = ZoneInfo(zone)
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


# --- parse_hhmm ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("7.30", time(7, 30)),
        ("7h30", time(7, 30)),
        ("0730", time(7, 30)),
        ("730", time(7, 30)),
        ("1930", time(19, 30)),
        ("19:05", time(19, 5)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("7", time(7, 0)),
        ("18", time(18, 0)),
        ("7am", time(7, 0)),
        ("7 am", time(7, 0)),
        ("7AM", time(7, 0)),
        ("7a", time(7, 0)),
        ("7:30pm", time(19, 30)),
        ("7:30 PM", time(19, 30)),
        ("7:30 p.m.", time(19, 30)),
        ("7.30pm", time(19, 30)),
        ("12am", time(0, 0)),
        ("12:15am", time(0, 15)),
        ("12pm", time(12, 0)),
        ("12:45pm", time(12, 45)),
        ("  06:05  ", time(6, 5)),
        ("\uff10\uff17:\uff13\uff10", time(7, 30)),  # full-width digits
        ("\u0667:\u0663\u0660", time(7, 30)),  # Arabic-Indic digits, like every number read
        ("noon", time(12, 0)),
        ("Midnight", time(0, 0)),
    ],
)
def test_parse_hhmm_accepts(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "24:00",
        "25:00",
        "7:60",
        "07:99",
        "2400",
        "13pm",
        "0am",
        "00:30am",
        "7:3",
        "7:300",
        "12345",
        "-7:30",
        "7:30:00",
        "seven",
        "7 30 pm tomorrow",
        "7::30",
        "７am extra",
        "\x00",
        "07:30\x00",
        "\u00b2:30",  # a superscript is no digit (str.isdigit and NFKC say it is)
        "7:3\u2070",
        "\u2460\u2466",  # circled digits
        "9" * 5000,
    ],
)
def test_parse_hhmm_rejects(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_hhmm(text)
    message = str(info.value)
    assert "07:30" in message  # tells the person what to type instead
    assert len(message) < 200  # does not echo a huge input back


# --- a whole year, one reminder per local day ------------------------------------------------

# (zone, wall time, {local date: expected UTC instant on a gap day})
YEAR_CASES: list[tuple[str, time, dict[date, datetime]]] = [
    ("Europe/Berlin", time(7, 30), {}),
    ("Europe/Berlin", time(2, 30), {date(2027, 3, 28): utc(2027, 3, 28, 1, 0)}),
    ("Europe/Berlin", time(2, 0), {date(2027, 3, 28): utc(2027, 3, 28, 1, 0)}),
    ("Europe/Berlin", time(2, 59), {date(2027, 3, 28): utc(2027, 3, 28, 1, 0)}),
    ("Europe/Berlin", time(3, 0), {}),
    ("Europe/Berlin", time(0, 0), {}),
    ("Europe/Berlin", time(23, 59), {}),
    ("America/New_York", time(7, 30), {}),
    ("America/New_York", time(2, 30), {date(2027, 3, 14): utc(2027, 3, 14, 7, 0)}),
    ("America/New_York", time(1, 30), {}),
    ("America/New_York", time(0, 0), {}),
    ("Australia/Lord_Howe", time(7, 30), {}),
    ("Australia/Lord_Howe", time(2, 15), {date(2027, 10, 3): utc(2027, 10, 2, 15, 30)}),
    ("Australia/Lord_Howe", time(2, 0), {date(2027, 10, 3): utc(2027, 10, 2, 15, 30)}),
    ("Australia/Lord_Howe", time(2, 30), {}),
    ("Australia/Lord_Howe", time(1, 45), {}),
    ("Asia/Kolkata", time(7, 30), {}),
    ("Asia/Kolkata", time(0, 0), {}),
    ("Asia/Kolkata", time(23, 59), {}),
    ("Pacific/Chatham", time(7, 30), {}),
    ("Pacific/Chatham", time(2, 45), {date(2027, 9, 26): utc(2027, 9, 25, 14, 0)}),
    ("Pacific/Chatham", time(3, 0), {date(2027, 9, 26): utc(2027, 9, 25, 14, 0)}),
    ("Pacific/Chatham", time(3, 45), {}),
    ("Australia/Sydney", time(7, 30), {}),
    ("Australia/Sydney", time(2, 30), {date(2027, 10, 3): utc(2027, 10, 2, 16, 0)}),
    ("Australia/Sydney", time(2, 0), {date(2027, 10, 3): utc(2027, 10, 2, 16, 0)}),
    ("Australia/Sydney", time(23, 30), {}),
    ("UTC", time(7, 30), {}),
]


@pytest.mark.parametrize(
    ("zone", "at", "gaps"), YEAR_CASES, ids=[f"{z}-{t:%H%M}" for z, t, _ in YEAR_CASES]
)
def test_one_reminder_per_local_day_for_a_year(
    zone: str, at: time, gaps: dict[date, datetime]
) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2027, 1, 1, tzinfo=tz).astimezone(UTC) - timedelta(microseconds=1)
    fires = chain(zone, at, start, 365)

    assert all(f.tzinfo is UTC for f in fires)
    assert all(a < b for a, b in zip(fires, fires[1:], strict=False))
    local_dates = [f.astimezone(tz).date() for f in fires]
    assert local_dates == days_of(2027)  # 365 distinct, consecutive local dates

    for day, fire in zip(local_dates, fires, strict=True):
        if day in gaps:
            assert not exists(zone, day, at)
            assert fire == gaps[day]
        else:
            local = fire.astimezone(tz)
            assert local.replace(tzinfo=None) == datetime.combine(day, at)
            assert local.fold == 0  # first occurrence on the fall-back day

    following = next_fire_utc(local_time=at, zone=zone, after_utc=fires[-1])
    assert following.astimezone(tz).date() == date(2028, 1, 1)


# (zone, local date, wall time, expected instant, what zoneinfo's fold=0 would give if different)
TRANSITION_CASES = [
    # spring forward: the first instant after the gap, i.e. the jump itself
    ("Europe/Berlin", date(2027, 3, 28), time(2, 30), utc(2027, 3, 28, 1, 0)),
    ("America/New_York", date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 0)),
    ("Australia/Lord_Howe", date(2027, 10, 3), time(2, 15), utc(2027, 10, 2, 15, 30)),
    ("Pacific/Chatham", date(2027, 9, 26), time(3, 0), utc(2027, 9, 25, 14, 0)),
    ("Australia/Sydney", date(2027, 10, 3), time(2, 30), utc(2027, 10, 2, 16, 0)),
    # fall back: the first occurrence (daylight time)
    ("Europe/Berlin", date(2027, 10, 31), time(2, 30), utc(2027, 10, 31, 0, 30)),
    ("America/New_York", date(2027, 11, 7), time(1, 30), utc(2027, 11, 7, 5, 30)),
    ("Australia/Lord_Howe", date(2027, 4, 4), time(1, 45), utc(2027, 4, 3, 14, 45)),
    ("Pacific/Chatham", date(2027, 4, 4), time(3, 0), utc(2027, 4, 3, 13, 15)),
    ("Australia/Sydney", date(2027, 4, 4), time(2, 30), utc(2027, 4, 3, 15, 30)),
    # ordinary days
    ("Asia/Kolkata", date(2027, 6, 1), time(7, 30), utc(2027, 6, 1, 2, 0)),
    ("Pacific/Chatham", date(2027, 1, 1), time(7, 30), utc(2026, 12, 31, 17, 45)),
]


@pytest.mark.parametrize(("zone", "day", "at", "expected"), TRANSITION_CASES)
def test_fire_instant_on_transition_days(
    zone: str, day: date, at: time, expected: datetime
) -> None:
    assert fire_instant(day, at, zone) == expected
    just_before = expected - timedelta(minutes=1)
    assert next_fire_utc(local_time=at, zone=zone, after_utc=just_before) == expected
    assert local_day(expected, zone) == day


@pytest.mark.parametrize(
    ("zone", "day", "at", "jump"),
    [(z, d, t, e) for z, d, t, e in TRANSITION_CASES[:5]],
)
def test_gap_is_not_the_naive_fold_conversion(
    zone: str, day: date, at: time, jump: datetime
) -> None:
    # zoneinfo's fold=0 reading of a missing wall time lands one gap-width after the jump
    # (Berlin 02:30 -> 03:30 CEST); the reminder fires at the jump (03:00 CEST).
    naive = datetime.combine(day, at).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert naive > jump
    assert fire_instant(day, at, zone) == jump


# --- dates that have no such wall time at all ------------------------------------------------


def test_skipped_calendar_day_gets_no_reminder() -> None:
    # Samoa skipped Friday 2011-12-30 when it moved west of the date line.
    fires = chain("Pacific/Apia", time(7, 30), utc(2011, 12, 27, 20, 0), 4)
    dates = [local_day(f, "Pacific/Apia") for f in fires]
    assert dates == [date(2011, 12, 28), date(2011, 12, 29), date(2011, 12, 31), date(2012, 1, 1)]


def test_gap_that_ends_at_midnight_does_not_double_the_next_day() -> None:
    # Greenland springs forward from Saturday 23:00 to Sunday 00:00 (2027-03-28 01:00Z), so
    # 23:30 on Saturday 2027-03-27 never happens; its first valid instant is already Sunday,
    # which has its own 23:30. Saturday is skipped rather than Sunday getting two.
    zone = "America/Nuuk"
    assert fire_instant(date(2027, 3, 27), time(23, 30), zone) == utc(2027, 3, 28, 1, 0)
    fires = chain(zone, time(23, 30), utc(2027, 3, 25, 12, 0), 3)
    assert [local_day(f, zone) for f in fires] == [
        date(2027, 3, 25),
        date(2027, 3, 26),
        date(2027, 3, 28),
    ]


def test_fall_back_across_midnight() -> None:
    # St. John's fell back at 00:01 on 2010-11-07 to 23:01 on 2010-11-06 (02:31Z), so
    # 23:30 on the 6th happened twice; the reminder fires once, at the first (NDT, -02:30).
    zone = "America/St_Johns"
    fires = chain(zone, time(23, 30), utc(2010, 11, 4, 12, 0), 5)
    assert [local_day(f, zone) for f in fires] == [date(2010, 11, d) for d in range(4, 9)]
    assert fires[2] == utc(2010, 11, 7, 2, 0)


# --- weekdays and boundaries -----------------------------------------------------------------


def test_weekday_selection_mon_wed_fri() -> None:
    # 2027-01-01 is a Friday.
    fires = chain(
        "Europe/Berlin", time(7, 30), utc(2027, 1, 1, 0, 0), 6, frozenset({MON, WED, FRI})
    )
    assert fires == [
        utc(2027, 1, 1, 6, 30),
        utc(2027, 1, 4, 6, 30),
        utc(2027, 1, 6, 6, 30),
        utc(2027, 1, 8, 6, 30),
        utc(2027, 1, 11, 6, 30),
        utc(2027, 1, 13, 6, 30),
    ]


def test_single_weekday_across_spring_forward() -> None:
    fires = chain("Europe/Berlin", time(2, 30), utc(2027, 3, 15, 0, 0), 3, frozenset({SUN}))
    assert fires == [
        utc(2027, 3, 21, 1, 30),  # CET
        utc(2027, 3, 28, 1, 0),  # in the gap: the jump to 03:00 CEST
        utc(2027, 4, 4, 0, 30),  # CEST
    ]


def test_weekdays_over_a_year_only_fire_on_allowed_days() -> None:
    allowed = frozenset({TUE, SAT})
    fires = chain(
        "America/New_York",
        time(2, 30),
        datetime(2027, 1, 1, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC),
        104,
        allowed,
    )
    dates = [local_day(f, "America/New_York") for f in fires]
    assert dates == [d for d in days_of(2027) if d.weekday() in allowed]


def test_after_exactly_at_a_fire_instant_moves_to_the_next_day() -> None:
    fire = utc(2027, 5, 3, 5, 30)  # 07:30 CEST
    assert next_fire_utc(local_time=time(7, 30), zone="Europe/Berlin", after_utc=fire) == utc(
        2027, 5, 4, 5, 30
    )
    just_before = fire - timedelta(microseconds=1)
    assert (
        next_fire_utc(local_time=time(7, 30), zone="Europe/Berlin", after_utc=just_before) == fire
    )


def test_after_in_another_zone_is_accepted_and_result_is_utc() -> None:
    after = datetime(2027, 5, 3, 7, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 2027-05-02 22:00Z
    fire = next_fire_utc(local_time=time(7, 30), zone="Europe/Berlin", after_utc=after)
    assert fire == utc(2027, 5, 3, 5, 30)
    assert fire.tzinfo is UTC


def test_local_day_is_the_persons_date() -> None:
    instant = utc(2027, 1, 1, 11, 0)
    assert local_day(instant, "Pacific/Kiritimati") == date(2027, 1, 2)
    assert local_day(instant, "Pacific/Pago_Pago") == date(2027, 1, 1)
    assert local_day(utc(2027, 1, 1, 23, 0), "Asia/Kolkata") == date(2027, 1, 2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: next_fire_utc(
            local_time=time(7, 30), zone="Europe/Berlin", after_utc=datetime(2027, 1, 1)
        ),
        lambda: local_day(datetime(2027, 1, 1), "Europe/Berlin"),
        lambda: next_fire_utc(
            local_time=time(7, 30),
            zone="Europe/Berlin",
            after_utc=utc(2027, 1, 1),
            weekdays=frozenset(),
        ),
        lambda: next_fire_utc(
            local_time=time(7, 30),
            zone="Europe/Berlin",
            after_utc=utc(2027, 1, 1),
            weekdays=frozenset({7}),
        ),
        lambda: next_fire_utc(
            local_time=time(7, 30), zone="Mars/Olympus", after_utc=utc(2027, 1, 1)
        ),
        lambda: next_fire_utc(
            local_time=time(7, 30), zone="../../etc/passwd", after_utc=utc(2027, 1, 1)
        ),
        lambda: fire_instant(date(2027, 1, 1), time(7, 30, tzinfo=UTC), "Europe/Berlin"),
    ],
    ids=[
        "naive-after",
        "naive-local-day",
        "empty-weekdays",
        "weekday-7",
        "unknown-zone",
        "path-zone",
        "aware-local-time",
    ],
)
def test_rejects_bad_arguments(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- every zone we can offer, against a brute-force oracle -----------------------------------


def oracle(zone: str, day: date, at: time) -> datetime | None:
    """Brute force: the first minute whose local wall time reaches `at` on `day`, or None."""
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, at)
    if exists(zone, day, at):
        return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    instant = wall.replace(tzinfo=UTC) - timedelta(hours=26)  # safely before, in any zone
    while instant.astimezone(tz).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    return instant if instant.astimezone(tz).date() == day else None


@pytest.mark.parametrize("zone", offered_zones())
def test_every_offered_zone_2027_against_oracle(zone: str) -> None:
    at = time(2, 30)
    tz = ZoneInfo(zone)
    fires = chain(zone, at, datetime(2027, 1, 1, tzinfo=tz).astimezone(UTC), 365)
    by_date = {f.astimezone(tz).date(): f for f in fires}
    assert len(by_date) == len(fires)  # never two on one local date
    for day in days_of(2027):
        expected = oracle(zone, day, at)
        if expected is None:
            assert day not in by_date
        else:
            assert by_date.get(day) == expected, day
