"""A pressed button: which it is, whether the presser may press it, and what it does. Payloads
come back from the client, so each kind is checked against its owner (`bot.core.actions`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.core import flows
from bot.core.actions import Action, parse_action
from bot.core.answers import BadAnswer
from bot.core.messages import Reply
from bot.core.texts import BAD_DAY_FLOW
from bot.service import (
    checkin,
    decision,
    morning_question,
    outcomes,
    questions,
    reminder_message,
    reminders,
    team,
)
from bot.service.turn import Turn

if TYPE_CHECKING:  # the coach calls in here and is called back for the commands it runs
    from bot.service.coach import Coach

log = logging.getLogger(__name__)


async def pressed(coach: Coach, turn: Turn, payload: str) -> list[Reply]:
    action = parse_action(payload)
    if action is None:
        log.info("refused a malformed button payload")
        return [Reply("That button isn't valid any more.", alert=True, private=True)]
    if (
        action.flow == flows.ROUTINE and action.ref == 0
    ):  # "Done" under a routine: anyone's own check-in
        # Through the command path, so yesterday's morning question comes first.
        replies = await coach.command(turn, "checkin", "")
        team.began_from(turn, action.value)  # "t<id>": the routine came from a team post
        return replies
    if action.flow == team.FLOW:  # "Start my routine": whoever presses it in the team's chat
        return await team.pressed(turn, action, coach.private_routine)
    personal = {
        reminder_message.FLOW,
        flows.CLEARED,
        flows.ROUTINE,
        decision.REVIEW,
        BAD_DAY_FLOW,
        outcomes.REASSESS,
        outcomes.ACTIVITIES,
    }
    if action.flow in personal and action.ref != turn.person.id:
        return [_not_yours()]
    if action.flow == reminder_message.FLOW:  # a reminder's Start / Later / Skip today
        if action.step == reminder_message.START:
            return await coach.command(turn, "routine", "")
        return await reminders.pressed(turn, action.step, action.value)
    if action.flow == flows.ROUTINE:  # "Show today's routine" after onboarding
        if (action.step, action.value) != ("open", "1"):
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        return await coach.command(turn, "routine", "")
    if action.flow == flows.CLEARED:
        if (action.step, action.value) != ("ok", "yes"):
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        return await coach.cleared(turn)
    if action.flow == BAD_DAY_FLOW:
        return await coach.bad_day(turn, action.step, action.value)
    if action.flow == outcomes.REASSESS and action.step == "open":  # a reminder's button
        return await outcomes.open_reassessment(turn, action.value)
    if action.flow == decision.REVIEW:
        if (action.step, action.value) != ("ok", "yes"):
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        return decision.reviewed(turn)
    pending = turn.person.pending
    if pending and (pending["flow"], pending["step"], pending["ref"]) == (
        action.flow,
        action.step,
        action.ref,
    ):
        return await questions.answer(coach, turn, pending, action.value, pressed=True)
    if not await _owns(turn, action):
        return [_not_yours()]
    if action.flow == flows.MORNING:
        # The morning question's buttons count even after the person moved on.
        try:
            replies, _ = await morning_question.answer_morning(turn, action.ref, action.value)
        except BadAnswer as bad:
            return [turn.private(str(bad))]
        return replies
    if action.flow == decision.TEST:  # a test answered after the person moved on
        try:
            replies, _ = await decision.answer_test(turn, action.step, action.value)
        except BadAnswer as bad:
            return [turn.private(str(bad))]
        return replies
    return [Reply("That question has already been answered.", alert=True, private=True)]


async def _owns(turn: Turn, action: Action) -> bool:
    if action.flow in {checkin.FLOW, flows.MORNING}:
        row = await turn.uow.checkins.get(action.ref)
        return row is not None and row.person_id == turn.person.id
    return action.ref == turn.person.id


def _not_yours() -> Reply:
    return Reply("That button belongs to someone else's conversation.", alert=True, private=True)
