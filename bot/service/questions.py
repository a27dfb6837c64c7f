"""The open question's answer (typed or pressed), routed to the flow that asked it, and the
question put again after the red-flag screen interrupted it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.core import flows
from bot.core.answers import BadAnswer
from bot.core.messages import Reply
from bot.service import (
    checkin,
    decision,
    morning_question,
    onboarding,
    outcomes,
    safety,
    your_data,
)
from bot.service.turn import Turn

if TYPE_CHECKING:  # the coach calls in here and is called back for the commands it runs
    from bot.service.coach import Coach

log = logging.getLogger(__name__)


async def answer(
    coach: Coach, turn: Turn, pending: dict[str, object], value: str, pressed: bool
) -> list[Reply]:
    flow, step, ref = str(pending["flow"]), str(pending["step"]), int(str(pending["ref"]))
    try:
        if flow == onboarding.FLOW:
            return await onboarding.answer(turn, step, value, pressed)
        if flow == checkin.FLOW:
            return await checkin.answer(turn, step, ref, value, pressed)
        if flow == flows.MORNING:
            then = pending.get("then")
            then = then if isinstance(then, str) and then else None
            replies, carry_on = await morning_question.answer_morning(turn, ref, value, then)
            if carry_on and then:
                replies += await coach.carry_on(turn, then)
            return replies
        if flow == safety.SCREEN:
            done = await safety.answer_screen(turn, step, value)
            if done.then:
                return done.replies + await coach.carry_on(turn, done.then)
            if done.resume:
                return done.replies + await reask(turn, done.resume)
            return done.replies
        if flow == decision.TEST:
            replies, then_command = await decision.answer_test(turn, step, value)
            if then_command:
                replies += await coach.carry_on(turn, then_command)
            return replies
        if flow == flows.DELETE:
            return await your_data.confirm_delete(turn, value, pressed, coach.charts_dir)
        if flow == outcomes.ACTIVITIES:
            return await outcomes.answer_activities(turn, step, value, pressed)
        if flow == outcomes.REASSESS:
            return await outcomes.answer_reassessment(turn, step, value, pressed)
    except BadAnswer as bad:
        # Nothing was changed: the same question stays open.
        return [turn.private(str(bad))]
    turn.clear_pending()
    return [turn.private("I lost track of that question. Send /help.")]


async def reask(turn: Turn, pending: dict[str, Any]) -> list[Reply]:
    """Put again the question the screen interrupted (onboarding, check-in, morning)."""
    flow, step, ref = pending.get("flow"), str(pending.get("step")), pending.get("ref")
    if flow == onboarding.FLOW:
        return [onboarding.ask(turn, step)]
    if flow in {outcomes.ACTIVITIES, outcomes.REASSESS}:
        turn.person.pending = pending  # answers so far are kept in it
        return [await outcomes.ask_again(turn)]
    if flow in {checkin.FLOW, flows.MORNING} and isinstance(ref, int):
        row = await turn.uow.checkins.get(ref)
        if row is None or row.person_id != turn.person.id:
            return []
        if flow == flows.MORNING:
            if row.morning_pain is not None:
                return []
            then = pending.get("then")
            return [
                morning_question.ask_morning(turn, row, then if isinstance(then, str) else None)
            ]
        if row.completed_at is None and row.local_date == turn.today:
            turn.person.pending = pending  # the team a check-in came from stays with it
            return [checkin.question(turn, row, step)]
    return []
