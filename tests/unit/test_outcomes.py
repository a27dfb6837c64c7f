"""The pure outcome rules: the person's activities, meaningful change and its wording, the
4-weekly reassessment, the clinician-review trigger and the weekly lesson."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.content import load_library
from bot.core.outcome_content import Activities, ClinicianReview, Lesson, MeaningfulChange
from bot.core.outcomes import (
    MEANINGFUL,
    NOT_MEANINGFUL,
    NOT_YET,
    Added,
    Direction,
    activities_mean_change,
    activity_change,
    add_activity,
    choose_activities,
    clean_activity,
    lesson_due,
    next_lesson,
    pain_change,
    reassessment_due,
    reassessment_window,
    review_reasons,
)
from tests.unit.test_content import REAL_CONTENT

# --- activities --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Carrying   the shopping ", "Carrying the shopping"),
        ("Run 1.5 km (slowly)", "Run 1.5 km (slowly)"),
        ("**lifting** my <b>kid</b> @everyone", "lifting my bkid/b everyone"),
        ("stairs\u202e/ladders", "stairs/ladders"),  # a bidi override is dropped
        ("Ｔｙｉｎｇ shoes", "Tying shoes"),  # full-width letters read as plain ones
        (
            "Carrying the shopping up three flights of stairs",
            "Carrying the shopping up three flights",
        ),
        ("x" * 60, "x" * 40),  # one long word is cut inside it
        ("!!! ??? ***", ""),
    ],
)
def test_clean_activity(typed: str, kept: str) -> None:
    assert clean_activity(typed) == kept


@given(st.text(max_size=300), st.integers(min_value=10, max_value=80))
def test_clean_activity_is_bounded_safe_and_stable(typed: str, limit: int) -> None:
    cleaned = clean_activity(typed, limit)
    assert len(cleaned) <= limit
    assert not set(cleaned) & set("<>@*_`#[]|\\\n\r\t")
    assert cleaned == cleaned.strip()
    assert clean_activity(cleaned, limit) == cleaned


def test_activities_up_to_three_with_own_words() -> None:
    settings = load_library(REAL_CONTENT).outcomes.activities
    offered = [a.label for a in settings.offered]
    result, chosen = add_activity([], offered[0], settings)
    assert result is Added.ADDED and chosen == ["Deadlifting at my working weight"]
    result, same = add_activity(chosen, "  deadlifting AT my working   weight", settings)
    assert result is Added.DUPLICATE and same == chosen
    result, chosen = add_activity(chosen, "Getting out of the car", settings)
    assert result is Added.ADDED
    result, unchanged = add_activity(chosen, "🙂!!", settings)
    assert (result, unchanged) == (Added.ADDED, [*chosen, "🙂"])  # an emoji is a word too
    result, full = add_activity(unchanged, "Tying my shoes", settings)
    assert result is Added.FULL and full == unchanged
    result, empty = add_activity([], "<<>>", settings)
    assert result is Added.EMPTY and empty == []


@given(st.lists(st.text(max_size=60), max_size=10), st.integers(min_value=1, max_value=5))
def test_choose_activities_never_more_than_most(picked: list[str], most: int) -> None:
    chosen = choose_activities(picked, Activities(most=most))
    assert len(chosen) <= most
    assert all(chosen)
    folded = [" ".join(c.casefold().split()) for c in chosen]
    assert len(set(folded)) == len(folded)


# --- meaningful change -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "direction", "wording"),
    [
        (6, 4, Direction.BETTER, MEANINGFUL),  # 2 points
        (5, 4, Direction.BETTER, NOT_YET),  # 1 point, 20%
        (3, 2, Direction.BETTER, MEANINGFUL),  # 1 point but 33%
        (10, 8, Direction.BETTER, MEANINGFUL),
        (1, 2, Direction.WORSE, NOT_MEANINGFUL),  # a rise counts by points only
        (4, 6, Direction.WORSE, MEANINGFUL),
        (0, 0, Direction.SAME, NOT_YET),
    ],
)
def test_pain_change(before: int, after: int, direction: Direction, wording: str) -> None:
    change = pain_change(before, after)
    assert change.direction is direction
    assert change.wording == wording


def test_pain_change_thresholds_come_from_content() -> None:
    strict = MeaningfulChange(pain_points=3, pain_percent=50)
    assert not pain_change(6, 4, strict).meaningful
    assert pain_change(6, 3, strict).meaningful
    assert pain_change(2, 1, strict).meaningful  # 50%


@pytest.mark.parametrize(
    ("before", "after", "meaningful"),
    [(3, 5, False), (3, 6, True), (7, 4, True), (7, 5, False), (4, 4, False)],
)
def test_activity_change(before: int, after: int, meaningful: bool) -> None:
    assert activity_change(before, after).meaningful is meaningful


def test_mean_of_the_activities() -> None:
    both = activities_mean_change([(3, 5), (4, 6)])
    assert both is not None and both.meaningful and both.points == 2
    assert both.describe("Activities (mean)") == (
        "Activities (mean) 3.5 → 5.5: 2 points better, a meaningful change."
    )
    small = activities_mean_change([(3, 4), (4, 6)])
    assert small is not None and not small.meaningful and small.wording == NOT_YET
    assert activities_mean_change([]) is None


def test_change_wording() -> None:
    assert pain_change(6, 3).describe("Usual back pain") == (
        "Usual back pain 6 → 3: 3 points better, a meaningful change."
    )
    assert activity_change(4, 5).describe("Tying my shoes") == (
        "Tying my shoes 4 → 5: 1 point better, not yet a meaningful change."
    )
    assert pain_change(3, 4).describe("Usual back pain") == (
        "Usual back pain 3 → 4: 1 point worse, not a meaningful change."
    )
    assert activity_change(5, 5).describe("Sitting for an hour") == (
        "Sitting for an hour 5 → 5: no change, not yet a meaningful change."
    )


# --- reassessment ------------------------------------------------------------------------


def _asked_days(start: date, days: int, every_weeks: int = 4) -> list[int]:
    """Day numbers on which the reassessment is due when the person answers it that day."""
    answered: set[int] = set()
    asked = []
    for n in range(days):
        window = reassessment_due(start, start + timedelta(days=n), answered, every_weeks)
        if window is not None:
            asked.append(n)
            answered.add(window.week)
    return asked


def test_reassessment_at_weeks_4_8_12_and_only_then() -> None:
    start = date(2027, 3, 1)  # the clocks change in Europe on 28 March: local dates do not care
    assert _asked_days(start, 7 * 20) == [28, 56, 84, 112]
    window = reassessment_window(start, date(2027, 3, 29))
    assert window is not None and (window.week, window.opens_on) == (4, date(2027, 3, 29))
    assert window.closes_on == date(2027, 4, 26)
    assert reassessment_window(start, date(2027, 3, 28)) is None  # day 27: not yet


def test_reassessment_stays_due_until_answered_and_a_missed_window_is_not_asked_later() -> None:
    start = date(2026, 12, 20)  # across a new year
    day = start + timedelta(days=30)
    window = reassessment_due(start, day, answered_weeks=set())
    assert window is not None and window.week == 4
    assert reassessment_due(start, day, answered_weeks={4}) is None
    later = reassessment_due(start, start + timedelta(days=60), answered_weeks=set())
    assert later is not None and later.week == 8  # week 4 was missed: the week 8 one comes


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)),
    st.integers(min_value=1, max_value=8),
)
def test_reassessment_once_per_window(start: date, every_weeks: int) -> None:
    asked = _asked_days(start, 7 * every_weeks * 4 + 3, every_weeks)
    step = 7 * every_weeks
    assert asked == [step, 2 * step, 3 * step, 4 * step]


# --- clinician review --------------------------------------------------------------------


def test_review_on_a_worse_rating_or_pain_up_two() -> None:
    assert review_reasons(4, 4, 0) == []
    assert review_reasons(4, 5, 1) == []
    worse = review_reasons(4, 4, -1)
    assert worse == ["you rated your back “A little worse” compared with the start"]
    up = review_reasons(4, 6, 2)
    assert up == ["your usual pain is 6/10, 2 points above the 4/10 you started with"]
    assert len(review_reasons(3, 7, -3)) == 2
    assert review_reasons(None, 9, 0) == []  # no baseline: only the rating can say


def test_review_thresholds_come_from_content() -> None:
    lenient = ClinicianReview(pain_rise=3, rating_at_or_below=-2)
    assert review_reasons(4, 6, -1, lenient) == []
    assert len(review_reasons(4, 7, -2, lenient)) == 2


# --- lessons -----------------------------------------------------------------------------


def _lesson(lesson_id: str, order: int) -> Lesson:
    return Lesson(
        id=lesson_id, order=order, title=lesson_id, sentences=["A.", "B.", "C."], source="ours"
    )


def test_one_lesson_a_week_in_order() -> None:
    lessons = [_lesson("c", 3), _lesson("a", 1), _lesson("b", 2)]
    start = date(2027, 1, 4)
    seen: dict[str, date] = {}
    shown = []
    for n in range(40):
        today = start + timedelta(days=n)
        lesson = lesson_due(lessons, seen, today)
        if lesson is not None:
            seen[lesson.id] = today
            shown.append((lesson.id, n))
    assert shown == [("a", 0), ("b", 7), ("c", 14)]


def test_next_lesson_skips_ones_read_from_the_list() -> None:
    lessons = load_library(REAL_CONTENT).lessons
    first, second, third = lessons[:3]
    assert next_lesson(lessons, set()) == first
    assert next_lesson(lessons, {first.id, third.id}) == second
    assert next_lesson(lessons, {lesson.id for lesson in lessons}) is None
    today = date(2027, 5, 10)
    assert lesson_due(lessons, {first.id: today - timedelta(days=6)}, today) is None
    assert lesson_due(lessons, {first.id: today - timedelta(days=7)}, today) == second
