"""/progress in words, and /export: everything stored about a person."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.charts import (
    headline,
    marks_from_decisions,
    points_from_checkins,
    render_progress_async,
    trend_ends,
)
from bot.core.adherence import adherence
from bot.core.messages import Reply
from bot.service import reminders, safety, team
from bot.service.turn import Turn
from storage.models import CheckIn


def _trend(
    values: Sequence[int],
    what: str,
    lower_is_better: bool,
    too_few: str = "not enough check-ins yet for a trend",
) -> str:
    if len(values) < 2:
        return f"{what}: {too_few}."
    before, now = trend_ends(values)  # the same ends as the chart's headline
    change = now - before
    if abs(change) < 1:
        word = "about the same"
    elif (change < 0) == lower_is_better:
        word = "better"
    else:
        word = "worse"
    note = " (a meaningful change)" if abs(change) >= 2 else ""
    return f"{what}: {before:.1f} -> {now:.1f}, {word}{note}."


async def summary(turn: Turn) -> str:
    person = turn.person
    rows = await turn.uow.checkins.completed(person.id)
    recent = [c for c in rows if c.local_date > turn.today - timedelta(days=56)]
    program = turn.program
    phase_rows = [
        c
        for c in rows
        if c.phase_index == person.phase_index
        and (person.phase_started_on is None or c.local_date >= person.phase_started_on)
    ]
    phase_sessions = [c for c in phase_rows if not c.paused]
    while_paused = len(phase_rows) - len(phase_sessions)
    start = person.created_at.astimezone(turn.zone).date()
    paused = await safety.days_paused(
        turn.uow.checkins, person.id, turn.zone, turn.today - timedelta(days=13), turn.today
    )
    done, planned = adherence(
        {c.local_date for c in rows}, turn.today, start, person.remind_days, paused=paused
    )
    percent = round(100 * done / planned) if planned else 0
    pains = [c.pain_during for c in recent if c.pain_during is not None]
    comforts = [c.comfort for c in recent if c.comfort is not None]
    # The next morning's pain, stored on its session's row, in session order.
    mornings = [c.morning_pain for c in recent if c.morning_pain is not None]
    where = f"Phase {person.phase_index + 1} of {len(program.phases)}: {turn.phase.name}"
    if person.finished_on is not None:
        where += f" (program completed {person.finished_on:%d %b %Y}: maintenance)"
    counted = f"Sessions: {len(rows)} in all, {len(phase_sessions)} in this phase"
    if while_paused:
        counted += f" (and {while_paused} logged while paused, not counted)"
    lines = [
        where,
        counted + ".",
        f"Last 14 days: {done} of {planned} planned days done ({percent}%).",
        _trend(pains, "Pain during the routine", lower_is_better=True),
        _trend(
            mornings,
            "Morning back pain",
            lower_is_better=True,
            too_few="not enough mornings answered yet",
        ),
        _trend(comforts, "Deadlift comfort", lower_is_better=False),
    ]
    decisions = await turn.uow.checkins.decisions(person.id)
    if decisions:
        lines.append(f"Latest decision ({decisions[-1].decision}): {decisions[-1].reason}")
    if person.lighter_dose:
        lines.append("You are on a lighter dose until a calm session.")
    return "\n".join(lines)


def chart_files(folder: Path, person_id: int) -> list[Path]:
    """Every picture drawn for a person: the /progress chart and the weekly summary's."""
    return [folder / f"{person_id}.png", folder / f"weekly-{person_id}.png"]


def delete_charts(folder: Path, person_id: int) -> None:
    for path in chart_files(folder, person_id):
        path.unlink(missing_ok=True)


async def chart(turn: Turn, folder: Path) -> Reply | None:
    """The last 8 weeks as a picture; None when there is nothing to draw yet."""
    person = turn.person
    rows = await turn.uow.checkins.completed(person.id, since=turn.today - timedelta(days=56))
    points = points_from_checkins([c for c in rows if c.pain_during is not None])
    phase_names = [phase.name for phase in turn.program.phases]
    marks = marks_from_decisions(
        await turn.uow.checkins.decisions(person.id), phase_names, turn.zone
    )
    path = await render_progress_async(points, marks, turn.today, chart_files(folder, person.id)[0])
    if path is None:
        return None
    return turn.private(headline(points), image=path, title="Your last 8 weeks")


def _checkin_row(c: CheckIn) -> dict[str, Any]:
    return {
        "id": c.id,
        "date": c.local_date.isoformat(),
        "started_at": c.started_at.isoformat(),
        "completed_at": c.completed_at.isoformat() if c.completed_at else None,
        "phase": c.phase_index + 1,
        "pain_during": c.pain_during,
        "leg_symptoms": c.leg_symptoms,
        "back_flat": c.neutral,
        "deadlift_comfort": c.comfort,
        "lifted": c.lifted,
        "pain_before": c.pre_pain,
        "pain_next_morning": c.morning_pain,
        "logged_while_paused": c.paused,
    }


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def export(turn: Turn) -> str:
    person = turn.person
    data = {
        "person": {
            "created_at": person.created_at.isoformat(),
            "baseline_pain": person.baseline_pain,
            "baseline_deadlift_comfort": person.baseline_comfort,
            "program": person.program_id,
            "phase": person.phase_index + 1,
            "phase_started_on": person.phase_started_on.isoformat()
            if person.phase_started_on
            else None,
            "lighter_dose": person.lighter_dose,
            "phase_start_morning_pain": person.phase_start_pain,
            "clinician_review_advised_on": _day(person.review_advised_on),
            "clinician_review_confirmed_on": _day(person.review_cleared_on),
            "program_completed_on": _day(person.finished_on),
            "safety_hold": person.safety_hold,
            "paused_until": person.paused_until.isoformat() if person.paused_until else None,
            "timezone": person.timezone,
            "reminder_time": person.remind_time,
            "reminder_days": [
                name for i, name in enumerate(reminders.DAY_NAMES) if person.remind_days >> i & 1
            ],
            "reminders_on": person.remind_enabled,
            "summary_day": reminders.DAY_NAMES[person.summary_day]
            if person.summary_day is not None
            else None,
            "activities_asked_on": _day(person.activities_asked_on),
        },
        "accounts": [
            {"platform": i.platform, "user": i.user_ref, "name": i.display_name}
            for i in await turn.uow.people.identities(person.id)
        ],
        "checkins": [_checkin_row(c) for c in await turn.uow.checkins.every(person.id)],
        "decisions": [
            {
                "at": d.at.isoformat(),
                "decision": d.decision,
                "reason": d.reason,
                "phase_from": d.phase_from + 1,
                "phase_to": d.phase_to + 1,
            }
            for d in await turn.uow.checkins.decisions(person.id)
        ],
        "pauses": [
            {
                "kind": p.kind,
                "from": p.started_at.isoformat(),
                "until": p.ended_at.isoformat() if p.ended_at else None,
            }
            for p in await turn.uow.checkins.pauses(person.id)
        ],
        "self_tests": [
            {"test": t.test_id, "at": t.at.isoformat(), "passed": t.passed}
            for t in await turn.uow.checkins.self_tests(person.id)
        ],
        "teams": await team.export(turn),
        # activities, reassessments, lessons_seen
        **await turn.uow.outcomes.export(person.id),
    }
    return json.dumps(data, indent=1, ensure_ascii=False)
