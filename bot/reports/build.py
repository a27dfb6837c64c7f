"""`ReportData` from a person's stored rows, already read (no database access here): the service
reads the rows in its unit of work and calls `build_report`; `bot.reports.page` draws it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.adherence import paused_days
from bot.core.outcome_content import MeaningfulChange
from bot.reports.data import (
    ActivityResult,
    DayValue,
    DecisionLike,
    PauseLike,
    ReassessmentLike,
    ReportData,
    phase_steps,
    safety_events,
    weekly_adherence,
)


class PersonLike(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def baseline_pain(self) -> int | None: ...
    @property
    def remind_days(self) -> int: ...
    @property
    def review_advised_on(self) -> date | None: ...


class CheckInLike(Protocol):
    @property
    def local_date(self) -> date: ...
    @property
    def pain_during(self) -> int | None: ...
    @property
    def morning_pain(self) -> int | None: ...


class ActivityLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def baseline_score(self) -> int | None: ...


class PauseSpan(PauseLike, Protocol):
    @property
    def ended_at(self) -> datetime | None: ...


class ReassessedLike(ReassessmentLike, Protocol):
    @property
    def usual_pain(self) -> int: ...


def pain_series(
    checkins: Sequence[CheckInLike],
) -> tuple[tuple[DayValue, ...], tuple[DayValue, ...]]:
    """Pain during each completed session, and the next morning's pain drawn on the morning it
    describes (the day after the session, as in the /progress chart)."""
    during = tuple(DayValue(c.local_date, c.pain_during) for c in checkins
                   if c.pain_during is not None)  # fmt: skip
    morning = tuple(
        DayValue(c.local_date + timedelta(days=1), c.morning_pain)
        for c in checkins
        if c.morning_pain is not None
    )
    return during, morning


def build_report(
    *,
    person: PersonLike,
    program: str,
    phase_names: Sequence[str],
    zone: ZoneInfo,
    today: date,
    checkins: Sequence[CheckInLike],
    decisions: Sequence[DecisionLike],
    pauses: Sequence[PauseSpan],
    activities: Sequence[ActivityLike],
    reassessments: Sequence[tuple[ReassessedLike, dict[int, int]]],
    rules: MeaningfulChange,
) -> ReportData:
    """Everything the page shows, from `storage` rows: completed check-ins (paused ones
    included: they are kept and shown), decisions, pauses, the person's activities and their
    reassessments in week order (`storage.outcomes.reassessments`)."""
    started_on = person.created_at.astimezone(zone).date()
    during, morning = pain_series(checkins)
    spans = [
        (p.started_at.astimezone(zone).date(),
         None if p.ended_at is None else p.ended_at.astimezone(zone).date())
        for p in pauses
    ]  # fmt: skip
    paused = paused_days(spans, started_on, today)
    latest = reassessments[-1][0] if reassessments else None
    latest_scores: dict[int, int] = {}
    for _, scores in reassessments:  # a later reassessment's score wins
        latest_scores.update(scores)
    return ReportData(
        made_on=today,
        started_on=started_on,
        program=program,
        baseline_pain=person.baseline_pain,
        latest_pain=None if latest is None else latest.usual_pain,
        latest_pain_on=None if latest is None else latest.local_date,
        pain_during=during,
        morning_pain=morning,
        activities=tuple(
            ActivityResult(a.label, a.baseline_score, latest_scores.get(a.id)) for a in activities
        ),
        adherence=weekly_adherence(
            {c.local_date for c in checkins}, started_on, today, person.remind_days, paused
        ),
        phases=phase_steps(decisions, phase_names, zone, started_on),
        events=safety_events(
            pauses, zone, person.review_advised_on, [row for row, _ in reassessments]
        ),
        rules=rules,
    )
