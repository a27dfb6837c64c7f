"""The next morning's question: how the back is the morning after a session, asked first
whatever the way into the day, its answer kept and decided on."""

from __future__ import annotations

from bot.core import flows, morning
from bot.core.answers import (
    read_score,
)
from bot.core.messages import Reply
from bot.core.progression import (
    Decision,
    settled,
)
from bot.core.texts import (
    score_buttons,
)
from bot.service import decision, safety
from bot.service.turn import Turn
from bot.storage_port import MorningPain
from storage.models import CheckIn

MORNING = flows.MORNING
# A morning answer is about the last session only within this many days of it.
MORNING_WINDOW_DAYS = 7


async def morning_due(turn: Turn) -> CheckIn | None:
    """The last session, if it was before today and its next morning is not known yet."""
    last = await turn.last_session()
    if last is None or not morning.morning_due(last_session(last), turn.today, MORNING_WINDOW_DAYS):
        return None
    return last


def last_session(checkin: CheckIn) -> morning.LastSession:
    counted = checkin.pain_during is not None and checkin.neutral is not None
    return morning.LastSession(checkin.local_date, checkin.morning_pain is not None, counted)


def question_text(local_hour: int) -> str:
    """The morning question in words that fit the time of day it is asked."""
    if local_hour < 12:
        return "Good morning! Before anything else: how is your back this morning, 0 to 10?"
    greeting = "Hi!" if local_hour < 18 else "Good evening!"
    return (
        f"{greeting} Before anything else: how did your back feel when you got up this "
        "morning, 0 to 10?"
    )


def ask_morning(turn: Turn, checkin: CheckIn, then: str | None) -> Reply:
    turn.ask(MORNING, "pain", checkin.id, then=then)
    return turn.private(
        question_text(turn.now.astimezone(turn.zone).hour),
        buttons=score_buttons(MORNING, "pain", checkin.id),
    )


async def answer_morning(
    turn: Turn, ref: int, value: str, then: str | None = None
) -> tuple[list[Reply], bool]:
    """Keep the morning answer and decide on it. Returns the replies and whether the command
    the question interrupted (`then`) may carry on now: not when a screen or a test now waits
    (they carry it on themselves)."""
    checkin = await turn.uow.checkins.get(ref)
    if checkin is None or checkin.person_id != turn.person.id or checkin.completed_at is None:
        turn.clear_pending()
        return [turn.private("That question has expired.")], True
    if checkin.morning_pain is not None:
        _close_question(turn)
        return [turn.private(f"Already noted: {checkin.morning_pain}/10 that morning.")], True
    pain = read_score(value, "pain this morning")
    # One morning answers for every session of that day (two check-ins in one day).
    noting = MorningPain(checkin.local_date, pain)
    if safety.is_paused(turn):
        await turn.uow.checkins.note_morning(turn.person.id, noting.day, noting.pain)
        _close_question(turn)
        return [turn.private(f"Thanks, {pain}/10 noted.")], True
    verdict = await decision.decide(turn, morning=True, noting=noting)  # kept, then read
    # Closed after the decision's read: the person's row is then written once, at the end
    # (the command the question interrupted, carried on next, most often asks its own).
    _close_question(turn)
    session = decision.session_of(checkin)
    noted = f"Thanks, {pain}/10 noted."
    if checkin.phase_index == turn.person.phase_index and settled(session):
        noted = f"Thanks, {pain}/10 noted: your back settled well."
    acts = (
        verdict.decision is Decision.ADVANCE
        or verdict.lower_dose
        or verdict.screen
        or verdict.review
        or verdict.test is not None
        or (verdict.finished and turn.person.finished_on is None)
    )
    if not acts:
        return [turn.private(noted)], True
    decision.apply(turn, verdict, checkin)
    first, *more = decision.follow_up(turn, verdict, then)
    replies = [turn.private(f"{noted} {first.text}", buttons=first.buttons), *more]
    return replies, not (verdict.screen or verdict.test is not None)


def _close_question(turn: Turn) -> None:
    """The morning question is answered: no longer the open one (if it still was)."""
    if (turn.person.pending or {}).get("flow") == MORNING:
        turn.clear_pending()
