"""Outcomes in the conversation: the person's own activities (asked at onboarding, or once after
a check-in for people who started before), the 4-weekly reassessment, and what rides in a
reminder (the lessons themselves are `bot.service.lessons`). The rules are `bot.core.outcomes`;
the rows go through `uow.outcomes`.

Both questionnaires keep their answers so far in the person's open question (`pending`), like
the check-in does, so a restart in the middle loses nothing; the rows are written at the end.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from bot.core import flows
from bot.core.actions import Action
from bot.core.answers import BadAnswer, clean_text, read_score
from bot.core.content import Library
from bot.core.messages import Button, Reply
from bot.core.outcome_content import RATING_BEST, Lesson
from bot.core.outcomes import (
    Added,
    Window,
    activities_mean_change,
    activity_change,
    add_activity,
    lesson_due,
    pain_change,
    reassessment_due,
    review_reasons,
)
from bot.core.texts import score_buttons
from bot.service.lessons import lesson_text
from bot.service.turn import Turn
from bot.storage_port import NewActivity

ACTIVITIES = flows.ACTIVITIES
REASSESS = flows.REASSESS
DONE_WORDS = {"done", "no", "none", "skip", "that's all", "thats all", "nothing", "no more"}
# Where the activities question came from: onboarding carries on with the time zone after it.
AT_ONBOARDING = "ob"
AFTER_CHECKIN = "ci"
REASSESS_LABEL = "Answer the {weeks}-week check (1 min)"


# --- the person's own activities ---------------------------------------------------------------


def start_activities(turn: Turn, origin: str, *, edit: bool = False) -> Reply:
    """The first activities question (nothing chosen yet)."""
    turn.ask(ACTIVITIES, "pick", turn.person.id, chosen=[], origin=origin)
    settings = turn.library.outcomes.activities
    intro = (
        f"Which activities are hard for you because of your back? Pick up to {settings.most}, "
        "one at a time, or type one in your own words. I'll ask about them every few weeks so "
        "we can both see what changes."
    )
    if origin == AFTER_CHECKIN:
        intro = (
            "One more thing, only this once: " + intro[0].lower() + intro[1:] + " Press "
            "'Skip' if you'd rather not."
        )
    return turn.private(intro, buttons=_pick_buttons(turn, []), edit=edit)


def _offers(turn: Turn) -> list[tuple[str, str]]:
    """(label, id) of the offered activities: the lifting one first for people who lift,
    last for the others."""
    offered = turn.library.outcomes.activities.offered
    lifting = [a for a in offered if a.lifting]
    others = [a for a in offered if not a.lifting]
    lifts = turn.person.baseline_comfort is not None
    ordered = [*lifting, *others] if lifts else [*others, *lifting]
    return [(a.label, a.id) for a in ordered]


def _pick_buttons(turn: Turn, chosen: list[list[Any]]) -> tuple[tuple[Button, ...], ...]:
    ref = turn.person.id
    taken = {item[0].casefold() for item in chosen}
    rows = [
        (Button(label, Action(ACTIVITIES, "pick", offer_id, ref).encode()),)
        for label, offer_id in _offers(turn)
        if label.casefold() not in taken
    ]
    stop = "Skip" if not chosen else "Done"
    rows.append((Button(stop, Action(ACTIVITIES, "pick", "done", ref).encode()),))
    return tuple(rows)


def _rate(turn: Turn, label: str, edit: bool = False) -> Reply:
    question = turn.library.outcomes.activities.question
    return turn.private(
        f"{label}: {question}",
        buttons=score_buttons(ACTIVITIES, "rate", turn.person.id),
        edit=edit,
    )


async def answer_activities(turn: Turn, step: str, value: str, pressed: bool) -> list[Reply]:
    """One answer to the activities question: an activity picked or typed, "done", or its
    0-10 rating. Raises BadAnswer to ask again."""
    pending = dict(turn.person.pending or {})
    chosen: list[list[Any]] = [list(item) for item in pending.get("chosen", [])]
    settings = turn.library.outcomes.activities
    if step == "rate":
        score = read_score(value, "how able you are to do it")
        chosen[-1][2] = score
        if len(chosen) >= settings.most:
            return await _finish_activities(turn, chosen, pending, pressed)
        turn.ask(ACTIVITIES, "pick", turn.person.id, **{**_extra(pending), "chosen": chosen})
        return [
            turn.private(
                f"Noted: {score}/10. Another one? Pick or type it, or press Done.",
                buttons=_pick_buttons(turn, chosen),
                edit=pressed,
            )
        ]
    offers = {offer_id: label for label, offer_id in _offers(turn)}
    if value == "done" if pressed else clean_text(value).lower() in DONE_WORDS:
        return await _finish_activities(turn, chosen, pending, pressed)
    if pressed and value not in offers:  # the coach never offered that button
        raise BadAnswer("That button isn't valid any more. Pick or type an activity, or Done.")
    offer_id = value if pressed else None
    text = offers[offer_id] if offer_id else value
    added, after = add_activity([item[0] for item in chosen], text, settings)
    if added is Added.EMPTY:
        raise BadAnswer("Type the activity in a few words (e.g. 'carrying shopping'), or Done.")
    if added is Added.DUPLICATE:
        raise BadAnswer("That one is already on your list. Another one, or Done?")
    if added is Added.FULL:  # pragma: no cover - the list finishes when it is full
        return await _finish_activities(turn, chosen, pending, pressed)
    label = after[-1]
    lifting = turn.library.outcomes.activities.lifting()
    comfort = turn.person.baseline_comfort
    if (
        pending.get("origin") == AT_ONBOARDING
        and lifting is not None
        and offer_id == lifting.id
        and comfort is not None
    ):
        # Just rated as deadlift comfort: the same score, not the same question twice.
        chosen.append([label, offer_id, comfort])
        if len(chosen) >= settings.most:
            return await _finish_activities(turn, chosen, pending, pressed)
        turn.ask(ACTIVITIES, "pick", turn.person.id, **{**_extra(pending), "chosen": chosen})
        return [
            turn.private(
                f"{label}: {comfort}/10, as you just told me. Another one? Pick or type it, "
                "or press Done.",
                buttons=_pick_buttons(turn, chosen),
                edit=pressed,
            )
        ]
    chosen.append([label, offer_id, None])
    turn.ask(ACTIVITIES, "rate", turn.person.id, **{**_extra(pending), "chosen": chosen})
    return [_rate(turn, label, edit=pressed)]


def _extra(pending: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pending.items() if k not in {"flow", "step", "ref"}}


async def _finish_activities(
    turn: Turn, chosen: list[list[Any]], pending: dict[str, Any], pressed: bool
) -> list[Reply]:
    rated = [
        NewActivity(label, score, offer) for label, offer, score in chosen if score is not None
    ]
    if rated:
        await turn.uow.outcomes.add_activities(turn.person.id, rated, turn.now)
    turn.person.activities_asked_on = turn.today
    turn.clear_pending()
    if rated:
        names = "; ".join(f"{a.label} {a.baseline_score}/10" for a in rated)
        said = f"Your activities: {names}. I'll ask about them again every few weeks."
    else:
        said = "No activities, that's fine."
    if pending.get("origin") == AT_ONBOARDING:
        from bot.service import onboarding  # onboarding asks the activities: imported late

        zone = onboarding.ask(turn, "zone", edit=pressed)
        return [replace(zone, text=f"{said}\n\n{zone.text}")]
    return [turn.private(said)]


# --- the reassessment every few weeks ---------------------------------------------------------


def started_on(turn: Turn) -> date:
    """Weeks 4, 8, 12 count from the person's first day with the coach (as the report does)."""
    return turn.person.created_at.astimezone(turn.zone).date()


async def reassessment_window(turn: Turn) -> Window | None:
    """The reassessment due today, if any (once per window)."""
    if not turn.person.onboarded or turn.person.safety_hold:
        return None
    every = turn.library.outcomes.reassessment.every_weeks
    answered = await turn.uow.outcomes.answered_weeks(turn.person.id)
    return reassessment_due(started_on(turn), turn.today, answered, every)


def reassessment_button(person_id: int, week: int) -> Button:
    label = REASSESS_LABEL.format(weeks=week)  # "4-week", "8-week", ...
    return Button(label, Action(REASSESS, "open", str(week), person_id).encode())


async def open_reassessment(turn: Turn, week: str) -> list[Reply]:
    """The reminder's "Answer the 4-week check" button."""
    window = await reassessment_window(turn)
    if window is None or str(window.week) != week:
        return [Reply("That check isn't open any more.", alert=True, private=True)]
    return [_first_reassessment_question(turn, window)]


def _first_reassessment_question(turn: Turn, window: Window) -> Reply:
    turn.ask(REASSESS, "pain", turn.person.id, week=window.week, scores={})
    return turn.private(
        f"Your {window.week}-week check: a few quick questions so we can see what has changed. "
        "First: over this past week, how bad has your back pain usually been? "
        "0 = none, 10 = worst imaginable.",
        buttons=score_buttons(REASSESS, "pain", turn.person.id),
    )


def _rating_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    scale = turn.library.outcomes.global_rating
    ref = turn.person.id
    return tuple(
        (Button(scale.label(r), Action(REASSESS, "rating", str(r), ref).encode()),)
        for r in range(RATING_BEST, -RATING_BEST - 1, -1)
    )


def _read_rating(turn: Turn, value: str, pressed: bool) -> int:
    scale = turn.library.outcomes.global_rating
    if pressed:
        try:
            rating = int(value)
        except ValueError:
            rating = RATING_BEST + 1
        if -RATING_BEST <= rating <= RATING_BEST:
            return rating
    typed = clean_text(value).casefold()
    for rating in range(RATING_BEST, -RATING_BEST - 1, -1):
        if scale.label(rating).casefold() == typed:
            return rating
    raise BadAnswer("Please press one of the buttons: from 'Much better' to 'Much worse'.")


async def answer_reassessment(turn: Turn, step: str, value: str, pressed: bool) -> list[Reply]:
    pending = dict(turn.person.pending or {})
    week = int(pending.get("week", 0))
    scores: dict[str, int] = dict(pending.get("scores", {}))
    activities = await turn.uow.outcomes.activities(turn.person.id)
    ref = turn.person.id
    if step == "pain":
        pending["pain"] = read_score(value, "your usual back pain this week")
    elif step.startswith("a") and step[1:].isdigit():
        scores[step[1:]] = read_score(value, "how able you are to do it")
    elif step == "rating":
        rating = _read_rating(turn, value, pressed)
        return await _finish_reassessment(turn, week, int(pending["pain"]), scores, rating)
    else:
        turn.clear_pending()
        return [turn.private("I lost track of that question. It comes again with a reminder.")]
    extra = {"week": week, "scores": scores, "pain": pending["pain"]}
    waiting = [a for a in activities if str(a.id) not in scores]
    if waiting:
        item = waiting[0]
        turn.ask(REASSESS, f"a{item.id}", ref, **extra)
        question = turn.library.outcomes.activities.question
        return [
            turn.private(
                f"{item.label}: {question}",
                buttons=score_buttons(REASSESS, f"a{item.id}", ref),
                edit=pressed,
            )
        ]
    turn.ask(REASSESS, "rating", ref, **extra)
    scale = turn.library.outcomes.global_rating
    return [turn.private(scale.question, buttons=_rating_buttons(turn), edit=pressed)]


async def _finish_reassessment(
    turn: Turn, week: int, pain: int, scores: dict[str, int], rating: int
) -> list[Reply]:
    person = turn.person
    turn.clear_pending()
    content = turn.library.outcomes
    reasons = review_reasons(
        person.baseline_pain, pain, rating, content.clinician_review, content.global_rating
    )
    stored = await turn.uow.outcomes.add_reassessment(
        person.id,
        week=week,
        local_date=turn.today,
        now=turn.now,
        usual_pain=pain,
        global_rating=rating,
        scores={int(a): s for a, s in scores.items()},
        review_suggested=bool(reasons),
    )
    if stored is None:
        return [turn.private("That check was already answered. Thanks!")]
    return [turn.private(await changes_text(turn, pain, scores, rating, reasons))]


async def changes_text(
    turn: Turn, pain: int, scores: dict[str, int], rating: int, reasons: list[str]
) -> str:
    """What changed since the start, each change named meaningful or not."""
    rules = turn.library.outcomes.meaningful_change
    lines = ["Thanks! Since you started:"]
    if turn.person.baseline_pain is not None:
        lines.append(
            pain_change(turn.person.baseline_pain, pain, rules).describe("Usual back pain")
        )
    pairs = []
    for item in await turn.uow.outcomes.activities(turn.person.id):
        now_score = scores.get(str(item.id))
        if now_score is None or item.baseline_score is None:
            continue
        pairs.append((item.baseline_score, now_score))
        lines.append(activity_change(item.baseline_score, now_score, rules).describe(item.label))
    mean = activities_mean_change(pairs, rules)
    if mean is not None and len(pairs) > 1:
        lines.append(mean.describe("Your activities on average"))
    label = turn.library.outcomes.global_rating.label(rating)
    lines.append(f"Overall you said: {label}.")
    if reasons:
        lines.append(
            "\nI'd suggest a clinician review: "
            + " and ".join(reasons)
            + ". That is not an emergency, but please have a GP or physiotherapist look at your "
            "back, and show them your /report."
        )
    else:
        lines.append("\n/report makes a one-page summary you can show a physiotherapist.")
    return "\n".join(lines)


# --- after a check-in -------------------------------------------------------------------------


async def after_checkin(turn: Turn) -> list[Reply]:
    """Once a check-in is done and nothing else is open: the activities question for people
    who started before it existed (once), or the reassessment for people without reminders."""
    person = turn.person
    if person.pending or not turn.incoming.is_private or person.safety_hold:
        return []
    if person.activities_asked_on is None:
        return [start_activities(turn, AFTER_CHECKIN)]
    if person.remind_enabled:
        return []  # the reassessment rides in the reminder
    window = await reassessment_window(turn)
    if window is None:
        return []
    return [_first_reassessment_question(turn, window)]


async def ask_again(turn: Turn) -> Reply:
    """The open activities or reassessment question again (after a safety screen cut in)."""
    pending = turn.person.pending or {}
    step = str(pending.get("step"))
    if pending.get("flow") == ACTIVITIES:
        chosen = [list(item) for item in pending.get("chosen", [])]
        if step == "rate" and chosen:
            return _rate(turn, str(chosen[-1][0]))
        return turn.private(
            "Back to your activities: pick or type one, or press Done.",
            buttons=_pick_buttons(turn, chosen),
        )
    if step == "pain":
        window = await reassessment_window(turn)
        if window is not None:
            return _first_reassessment_question(turn, window)
    if step == "rating":
        scale = turn.library.outcomes.global_rating
        return turn.private(scale.question, buttons=_rating_buttons(turn))
    for item in await turn.uow.outcomes.activities(turn.person.id):
        if step == f"a{item.id}":
            question = turn.library.outcomes.activities.question
            return turn.private(
                f"{item.label}: {question}",
                buttons=score_buttons(REASSESS, step, turn.person.id),
            )
    turn.clear_pending()
    return turn.private("Let's leave that check for now; it comes again with a reminder.")


# --- what rides in a reminder -----------------------------------------------------------------


def reminder_extras(
    library: Library,
    started: date,
    today: date,
    answered_weeks: Collection[int],
    seen: Mapping[str, date],
) -> tuple[Lesson | None, Window | None]:
    """The week's lesson and the open reassessment for a reminder sent on `today` (the
    scheduler marks the lesson seen when it queues the reminder)."""
    content = library.outcomes
    lesson = lesson_due(library.lessons, seen, today, content.lessons.every_days)
    window = reassessment_due(started, today, answered_weeks, content.reassessment.every_weeks)
    return lesson, window


def add_to_reminder(
    payload: dict[str, Any], person_id: int, lesson: Lesson | None, window: Window | None
) -> dict[str, Any]:
    """A reminder's payload (`reminder_message.reminder_payload`) with the lesson after its text and
    the reassessment's button under its own."""
    out = dict(payload)
    if lesson is not None:
        out["text"] = f"{out['text']}\n\nThis week's lesson: {lesson_text(lesson)} (/learn for all)"
    if window is not None:
        button = reassessment_button(person_id, window.week)
        out["buttons"] = [*out.get("buttons", []), [[button.label, button.action]]]
    return out
