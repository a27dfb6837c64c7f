"""Outcomes a physiotherapist would recognise: the person's own activities (PSFS), whether a
change is meaningful, when the 4-weekly reassessment is due, when to suggest a clinician review,
and which short lesson comes next.

Pure functions over plain values: dates are the person's local dates (the service converts),
and every threshold comes from `outcomes.yaml` (`bot.core.outcome_content`), whose defaults are
the values in notes/coaching-rules.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.core.names import public_name
from bot.core.outcome_content import (
    Activities,
    ClinicianReview,
    GlobalRating,
    Lesson,
    MeaningfulChange,
    Outcomes,
)

# The coaching-rules values, for callers (and tests) without a loaded library.
DEFAULTS = Outcomes()

# --- the person's own activities (PSFS) --------------------------------------------------------

# Marks that carry meaning in an activity ("1.5 km", "stairs/ladders", "lifting (kids)"); the
# rest (markup, mentions, links' < > @ * _ ` #) is dropped, as in a name shown to a team.
_ACTIVITY_MARKS = frozenset("'-.,/()&+")


class Added(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"  # already in the list (case and spacing ignored)
    FULL = "full"  # the list already holds `most` activities
    EMPTY = "empty"  # nothing left after cleaning


def clean_activity(text: str, limit: int = 40) -> str:
    """An activity in the person's own words: letters, digits, spaces and a few marks, at most
    `limit` characters, cut at a word end where one is near ("" when nothing is left)."""
    text = public_name(text, limit=limit * 4, punctuation=_ACTIVITY_MARKS)
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0]
    if len(cut) < limit // 2:  # one long word: cut inside it rather than lose most of it
        cut = text[:limit]
    return cut[:limit].rstrip(" '-,/(&+")


def _same(one: str, other: str) -> bool:
    return " ".join(one.casefold().split()) == " ".join(other.casefold().split())


def add_activity(
    current: Sequence[str], text: str, settings: Activities = DEFAULTS.activities
) -> tuple[Added, list[str]]:
    """One more activity (a button's label or the person's own words): what happened, and the
    list afterwards (unchanged unless ADDED)."""
    activity = clean_activity(text, settings.own_words_length)
    if not activity:
        return Added.EMPTY, list(current)
    if any(_same(activity, known) for known in current):
        return Added.DUPLICATE, list(current)
    if len(current) >= settings.most:
        return Added.FULL, list(current)
    return Added.ADDED, [*current, activity]


def choose_activities(
    picked: Iterable[str], settings: Activities = DEFAULTS.activities
) -> list[str]:
    """Up to `most` distinct cleaned activities from what was picked or typed, in order; the
    rest is dropped."""
    chosen: list[str] = []
    for text in picked:
        _, chosen = add_activity(chosen, text, settings)
    return chosen


# --- meaningful change -------------------------------------------------------------------------


class Direction(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"


MEANINGFUL = "a meaningful change"
NOT_YET = "not yet a meaningful change"
NOT_MEANINGFUL = "not a meaningful change"  # a small change for the worse: no "yet" hoped for


@dataclass(frozen=True)
class Change:
    before: float
    after: float
    direction: Direction
    meaningful: bool

    @property
    def points(self) -> float:
        return abs(self.after - self.before)

    @property
    def wording(self) -> str:
        if self.meaningful:
            return MEANINGFUL
        return NOT_MEANINGFUL if self.direction is Direction.WORSE else NOT_YET

    def describe(self, what: str) -> str:
        """ "Usual back pain 6 → 3: 3 points better, a meaningful change." """
        arrow = f"{what} {_number(self.before)} → {_number(self.after)}"
        if self.direction is Direction.SAME:
            return f"{arrow}: no change, {self.wording}."
        unit = "point" if self.points == 1 else "points"
        return f"{arrow}: {_number(self.points)} {unit} {self.direction}, {self.wording}."


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _direction(before: float, after: float, higher_is_better: bool) -> Direction:
    if after == before:
        return Direction.SAME
    return Direction.BETTER if (after > before) == higher_is_better else Direction.WORSE


def pain_change(
    baseline: int, latest: int, rules: MeaningfulChange = DEFAULTS.meaningful_change
) -> Change:
    """Pain 0-10, lower is better: meaningful at `pain_points` either way, or an improvement of
    `pain_percent` of the baseline (Ostelo et al. 2008: the percentage is a threshold for
    improvement, so 1 → 2 is not called a meaningful worsening)."""
    direction = _direction(baseline, latest, higher_is_better=False)
    drop = baseline - latest
    meaningful = abs(drop) >= rules.pain_points or (
        direction is Direction.BETTER and drop * 100 >= rules.pain_percent * baseline
    )
    return Change(baseline, latest, direction, meaningful)


def activity_change(
    baseline: int, latest: int, rules: MeaningfulChange = DEFAULTS.meaningful_change
) -> Change:
    """One activity 0-10, higher is better: meaningful at `activity_item` points either way."""
    direction = _direction(baseline, latest, higher_is_better=True)
    return Change(baseline, latest, direction, abs(latest - baseline) >= rules.activity_item)


def activities_mean_change(
    pairs: Sequence[tuple[int, int]], rules: MeaningfulChange = DEFAULTS.meaningful_change
) -> Change | None:
    """The mean over the activities rated both times ((baseline, latest) pairs): meaningful at
    `activity_mean` points either way. None without any pair."""
    if not pairs:
        return None
    before = round(sum(b for b, _ in pairs) / len(pairs), 2)
    after = round(sum(a for _, a in pairs) / len(pairs), 2)
    direction = _direction(before, after, higher_is_better=True)
    return Change(before, after, direction, abs(after - before) >= rules.activity_mean)


# --- the reassessment every few weeks ----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The weeks between two reassessments: the one of `week` (4, 8, 12, ...) opens on
    `opens_on` and stays due until it is answered or the next one opens on `closes_on`."""

    week: int
    opens_on: date
    closes_on: date


def reassessment_window(start: date, today: date, every_weeks: int = 4) -> Window | None:
    """The window `today` falls in, counted from the person's start date; None before the
    first one opens (week `every_weeks`)."""
    days = every_weeks * 7
    number = (today - start).days // days
    if number < 1:
        return None
    opens = start + timedelta(days=number * days)
    return Window(number * every_weeks, opens, opens + timedelta(days=days))


def reassessment_due(
    start: date, today: date, answered_weeks: Collection[int], every_weeks: int = 4
) -> Window | None:
    """The reassessment to ask today, or None: weeks 4, 8, 12 and every 4 weeks after, once
    per window (`answered_weeks` are the windows already answered; a window missed is not
    asked later, the next one is)."""
    window = reassessment_window(start, today, every_weeks)
    if window is None or window.week in answered_weeks:
        return None
    return window


# --- when to suggest a clinician review -------------------------------------------------------


def review_reasons(
    baseline_pain: int | None,
    usual_pain: int,
    rating: int,
    rules: ClinicianReview = DEFAULTS.clinician_review,
    scale: GlobalRating = DEFAULTS.global_rating,
) -> list[str]:
    """Why a reassessment suggests a clinician review (ours, from the measures' thresholds):
    a global rating at or below `rating_at_or_below` (worse than at the start), or usual pain
    `pain_rise` points or more above the baseline. Empty: no review suggested."""
    reasons = []
    if rating <= rules.rating_at_or_below:
        reasons.append(f"you rated your back “{scale.label(rating)}” compared with the start")
    if baseline_pain is not None and usual_pain - baseline_pain >= rules.pain_rise:
        rise = usual_pain - baseline_pain
        reasons.append(
            f"your usual pain is {usual_pain}/10, {rise} points above the {baseline_pain}/10 "
            "you started with"
        )
    return reasons


# --- one short lesson a week -------------------------------------------------------------------


def lessons_in_order(lessons: Iterable[Lesson]) -> list[Lesson]:
    return sorted(lessons, key=lambda lesson: lesson.order)


def next_lesson(lessons: Iterable[Lesson], seen: Collection[str]) -> Lesson | None:
    """The first lesson in order not seen yet; None when all have been seen."""
    return next((lesson for lesson in lessons_in_order(lessons) if lesson.id not in seen), None)


def lesson_due(
    lessons: Iterable[Lesson], seen: Mapping[str, date], today: date, every_days: int = 7
) -> Lesson | None:
    """The lesson to add to today's reminder: the next one not seen, once `every_days` have
    passed since the last one was seen (`seen`: lesson id -> local date)."""
    if seen and (today - max(seen.values())).days < every_days:
        return None
    return next_lesson(lessons, seen)
