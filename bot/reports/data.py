"""What the shareable report shows, as plain values, and its words.

The service fills a `ReportData` from the stored rows (the helpers below turn check-ins,
decisions and pauses into its parts); `bot.reports.page` draws it. Every number printed on the
page comes from `report_lines`, so a test can compare the page's text with the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.adherence import adherence
from bot.core.outcome_content import MeaningfulChange
from bot.core.outcomes import DEFAULTS, activities_mean_change, activity_change, pain_change

NOT_A_DIAGNOSIS = (
    "Made by mobility-coach, a self-help exercise guide. It records what the person reported; "
    "it is not a diagnosis or a treatment and does not replace a clinician's assessment."
)
# One A4 page has room for this many lines in the history sections; older ones are counted.
MAX_PHASE_LINES = 4
MAX_EVENT_LINES = 3
LINE_CHARS = 110


@dataclass(frozen=True)
class DayValue:
    day: date
    value: int  # 0-10


@dataclass(frozen=True)
class ActivityResult:
    label: str
    baseline: int | None  # 0-10 when chosen
    latest: int | None  # the latest reassessment's score; None if not rated again yet


@dataclass(frozen=True)
class WeekDone:
    week: int  # 1 = the person's first week
    done: int  # sessions on planned days
    planned: int


@dataclass(frozen=True)
class PhaseStep:
    day: date
    phase: str  # "Phase 2: Standing work"
    reason: str


@dataclass(frozen=True)
class SafetyEvent:
    day: date
    what: str  # "Red flag: emergency advice", "Clinician review suggested: ..."


@dataclass(frozen=True)
class ReportData:
    made_on: date
    started_on: date
    program: str
    baseline_pain: int | None  # usual back pain at onboarding
    latest_pain: int | None  # usual back pain at the latest reassessment
    latest_pain_on: date | None = None
    morning_pain: tuple[DayValue, ...] = ()  # drawn on the morning it describes
    pain_during: tuple[DayValue, ...] = ()
    activities: tuple[ActivityResult, ...] = ()
    adherence: tuple[WeekDone, ...] = ()
    phases: tuple[PhaseStep, ...] = ()
    events: tuple[SafetyEvent, ...] = ()
    rules: MeaningfulChange = field(default=DEFAULTS.meaningful_change)
    note: str = NOT_A_DIAGNOSIS


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _cut(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1].rstrip() + "…"


def _week(data: ReportData) -> int:
    return (data.made_on - data.started_on).days // 7 + 1


@dataclass(frozen=True)
class ReportLines:
    title: str
    subtitle: str
    pain: str
    trends: str
    activities: list[str]
    rules: str
    adherence: str
    phases: list[str]
    events: list[str]


def report_lines(data: ReportData) -> ReportLines:
    """Every sentence of the page."""
    return ReportLines(
        title="Back progress report",
        subtitle=(
            f"{data.program} · started {day_text(data.started_on)} · "
            f"made {day_text(data.made_on)} (week {_week(data)})"
        ),
        pain=_pain_line(data),
        trends=_trend_line(data),
        activities=_activity_lines(data),
        rules=(
            f"A meaningful change: pain {data.rules.pain_points} points or "
            f"{data.rules.pain_percent}% better; one activity {data.rules.activity_item} points; "
            f"the activities' mean {data.rules.activity_mean:g} points."
        ),
        adherence=_adherence_line(data.adherence),
        phases=_history(
            [f"{day_text(s.day)} · {s.phase} · {s.reason}" for s in data.phases], MAX_PHASE_LINES
        ),
        events=_history([f"{day_text(e.day)} · {e.what}" for e in data.events], MAX_EVENT_LINES)
        or ["None recorded."],
    )


def _pain_line(data: ReportData) -> str:
    if data.baseline_pain is None:
        return "Usual back pain: not rated at the start."
    start = f"{data.baseline_pain}/10 at the start"
    if data.latest_pain is None:
        return f"Usual back pain: {start}; not reassessed yet (every 4 weeks)."
    change = pain_change(data.baseline_pain, data.latest_pain, data.rules)
    when = f" on {day_text(data.latest_pain_on)}" if data.latest_pain_on else ""
    return _cut(f"{change.describe('Usual back pain (0-10)')[:-1]} ({start}, latest{when}).")


def _series_words(name: str, series: Sequence[DayValue], unit: str) -> str:
    if not series:
        return f"{name}: none yet"
    ordered = sorted(series, key=lambda p: p.day)
    count = f"{len(ordered)} {unit}{'' if len(ordered) == 1 else 's'}"
    return f"{name}: {count}, first {ordered[0].value}, latest {ordered[-1].value}"


def _trend_line(data: ReportData) -> str:
    during = _series_words("Pain during the routine", data.pain_during, "session")
    morning = _series_words("morning back pain", data.morning_pain, "morning")
    return f"{during}; {morning}."


def _activity_lines(data: ReportData) -> list[str]:
    lines = []
    pairs = []
    for number, item in enumerate(data.activities, start=1):
        label = f"{number}. {item.label}"
        if item.baseline is None or item.latest is None:
            start = "not rated" if item.baseline is None else f"{item.baseline}"
            lines.append(_cut(f"{label}: {start} at the start, not rated again yet."))
            continue
        pairs.append((item.baseline, item.latest))
        change = activity_change(item.baseline, item.latest, data.rules)
        lines.append(_cut(change.describe(label)))
    mean = activities_mean_change(pairs, data.rules)
    if mean is not None and len(pairs) > 1:
        lines.append(mean.describe("Mean of the activities"))
    return lines or ["No activities chosen yet."]


def _adherence_line(weeks: Sequence[WeekDone]) -> str:
    done = sum(w.done for w in weeks)
    planned = sum(w.planned for w in weeks)
    if not planned:
        return "No planned days yet."
    return f"Overall: {done} of {planned} planned days done ({round(100 * done / planned)}%)."


def _history(lines: list[str], most: int) -> list[str]:
    shown = [_cut(line) for line in lines[-most:]]
    if len(lines) > most:
        earlier = len(lines) - most
        shown.insert(0, f"… and {earlier} earlier" + (" entry" if earlier == 1 else " entries"))
    return shown


# --- from stored rows -------------------------------------------------------------------------


def weekly_adherence(
    done_days: Set[date], started_on: date, today: date, days_mask: int, paused: Set[date]
) -> tuple[WeekDone, ...]:
    """Planned days done in each week since the start (week 1 = the first 7 days), with the
    same rule as /progress (`bot.core.adherence`): paused days are not planned days."""
    weeks = []
    number = 1
    week_start = started_on
    while week_start <= today:
        last = min(week_start + timedelta(days=6), today)
        window = (last - week_start).days + 1
        done, planned = adherence(set(done_days), last, started_on, days_mask, window, paused)
        weeks.append(WeekDone(number, done, planned))
        number += 1
        week_start += timedelta(days=7)
    return tuple(weeks)


class DecisionLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def reason(self) -> str: ...
    @property
    def phase_from(self) -> int: ...
    @property
    def phase_to(self) -> int: ...


def phase_steps(
    decisions: Iterable[DecisionLike], phase_names: Sequence[str], zone: ZoneInfo, started_on: date
) -> tuple[PhaseStep, ...]:
    """The start and every phase change (`storage.models.DecisionRecord` rows), with the
    reason stored with it."""
    first = phase_names[0] if phase_names else ""
    steps = [PhaseStep(started_on, f"Phase 1: {first}".rstrip(": "), "start")]
    for decision in decisions:
        if decision.phase_to == decision.phase_from:
            continue
        index = decision.phase_to
        name = phase_names[index] if 0 <= index < len(phase_names) else ""
        label = f"Phase {index + 1}: {name}".rstrip(": ")
        if index < decision.phase_from:
            label = f"Back to {label[0].lower()}{label[1:]}"
        steps.append(PhaseStep(decision.at.astimezone(zone).date(), label, decision.reason))
    return tuple(steps)


class PauseLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...


class ReassessmentLike(Protocol):
    @property
    def local_date(self) -> date: ...
    @property
    def week(self) -> int: ...
    @property
    def review_suggested(self) -> bool: ...


SAFETY_HOLDS = {
    "emergency": "Red flag: emergency advice given, exercise stopped until cleared",
    "clinician": "Red flag: see a clinician first, program paused until cleared",
}


def safety_events(
    pauses: Iterable[PauseLike],
    zone: ZoneInfo,
    leg_review_on: date | None,
    reassessments: Iterable[ReassessmentLike],
) -> tuple[SafetyEvent, ...]:
    """Red-flag holds (`storage.models.Pause` rows of kind "emergency" or "clinician"), the
    leg-symptom review (`Person.review_advised_on`) and reassessments that suggested a clinician
    review, in date order."""
    events = [
        SafetyEvent(p.started_at.astimezone(zone).date(), SAFETY_HOLDS[p.kind])
        for p in pauses
        if p.kind in SAFETY_HOLDS
    ]
    if leg_review_on is not None:
        events.append(
            SafetyEvent(leg_review_on, "Clinician review advised: pain or tingling down a leg")
        )
    events += [
        SafetyEvent(r.local_date, f"Clinician review suggested at the week {r.week} reassessment")
        for r in reassessments
        if r.review_suggested
    ]
    return tuple(sorted(events, key=lambda e: e.day))
