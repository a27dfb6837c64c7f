"""The check-in after a routine: its questions, the quick form, and the stop on a red flag
(the decision it leads to is in `bot.service.decision`)."""

from __future__ import annotations

from typing import Any

from bot.core import flows
from bot.core.actions import Action
from bot.core.answers import (
    QuickCheckIn,
    read_comfort,
    read_neutral,
    read_score,
    read_yes_no,
)
from bot.core.messages import Button, Reply
from bot.core.progression import (
    Decision,
    red_flag_pain_jump,
)
from bot.core.texts import (
    CLINICIAN_SIGNS,
    EMERGENCY_SIGNS,
    NEUTRAL_BACK,
    choice_buttons,
    score_buttons,
)
from bot.service import decision, outcomes, repeats, safety, team
from bot.service.turn import Turn
from storage.models import CheckIn, DecisionRecord

FLOW = flows.CHECKIN

YES_NO = [("No", "no"), ("Yes", "yes")]
STOP_REASONS = {
    "emergency": "A warning sign for urgent care",
    "clinician": "A reason to see a clinician first",
}


def question(turn: Turn, checkin: CheckIn, step: str, *, edit: bool = False) -> Reply:
    """Ask one check-in question and remember it as the open one."""
    turn.ask(FLOW, step, checkin.id, **_origin(turn, checkin))
    ref = checkin.id
    if step == "pain":
        return turn.private(
            "How much did your back hurt DURING the routine? 0 = no pain, 10 = worst imaginable.",
            buttons=score_buttons(FLOW, step, ref),
            edit=edit,
        )
    if step == "leg":
        return turn.private(
            "Did any pain, tingling or numbness go down a leg today?",
            buttons=choice_buttons(FLOW, step, ref, YES_NO),
            edit=edit,
        )
    if step == "rf":
        return turn.private(
            "One safety check. Do you have any of these right now?\n" + EMERGENCY_SIGNS,
            buttons=choice_buttons(FLOW, step, ref, safety.SCREEN_CHOICES),
            edit=edit,
        )
    if step == "rfc":
        return turn.private(
            "And do any of these apply to you now?\n" + CLINICIAN_SIGNS,
            buttons=choice_buttons(FLOW, step, ref, safety.SCREEN_CHOICES),
            edit=edit,
        )
    if step == "flat":
        return turn.private(
            f"Did your lower back stay neutral on every rep? ({NEUTRAL_BACK})",
            buttons=choice_buttons(
                FLOW, step, ref, [("Yes", "yes"), ("Mostly", "mostly"), ("No", "no")]
            ),
            edit=edit,
        )
    # comfort
    return turn.private(
        "How able do you feel to deadlift at your working weight today? "
        "0 = not at all, 10 = as before the problem.",
        buttons=score_buttons(FLOW, step, ref, (Button("Didn't lift", _no_lift(ref)),)),
        edit=edit,
    )


def _origin(turn: Turn, checkin: CheckIn) -> dict[str, int]:
    """The team post this check-in began from (see `team.began_from`), kept question to question."""
    pending = turn.person.pending or {}
    found = pending.get("team")
    if pending.get("flow") == FLOW and pending.get("ref") == checkin.id and isinstance(found, int):
        return {"team": found}
    return {}


def _no_lift(ref: int) -> str:
    return Action(FLOW, "comfort", "none", ref).encode()


async def _open_checkin(turn: Turn, *, flush: bool = True, **answers: Any) -> CheckIn:
    """Today's new check-in, with any answers already given. `flush` gives it its id now (a
    question names it); a quick check-in skips that, so its row is written once, complete."""
    person = turn.person
    last = await turn.last_session()
    pre_pain = person.baseline_pain
    if last is not None and last.morning_pain is not None:
        pre_pain = last.morning_pain
    checkin = CheckIn(
        person_id=person.id,
        started_at=turn.now,
        local_date=turn.today,
        phase_index=person.phase_index,
        pre_pain=pre_pain,
        **answers,
    )
    turn.uow.checkins.add(checkin)
    if flush:
        await turn.uow.flush()
    return checkin


async def start(turn: Turn, pain: int | None = None) -> list[Reply]:
    """Open today's check-in; with `pain` (a number typed right after the routine) the first
    answer is already given."""
    checkin = await _open_checkin(turn)
    if pain is None:
        return [
            turn.private("Nice work. Four quick questions about today's session."),
            question(turn, checkin, "pain"),
        ]
    checkin.pain_during = pain
    return [
        turn.private(f"Nice work. I've logged {pain}/10 as your pain during the routine."),
        question(turn, checkin, "leg"),
    ]


async def answer(turn: Turn, step: str, ref: int, value: str, pressed: bool) -> list[Reply]:
    """Record one answer (raises BadAnswer to re-ask) and ask the next question."""
    checkin = await turn.uow.checkins.get(ref)
    if checkin is None or checkin.person_id != turn.person.id or checkin.completed_at:
        turn.clear_pending()
        return [turn.private("That check-in is closed. Send /checkin to log a new one.")]
    if checkin.local_date != turn.today:
        # An answer days later would be dated wrongly: start today's check-in afresh.
        turn.clear_pending()
        return [
            turn.private(
                f"That check-in from {checkin.local_date:%a %d %b} was never finished, so I've "
                "closed it. Send /checkin to log today's session."
            )
        ]
    if step == "pain":
        checkin.pain_during = read_score(value, "pain during the routine")
        return [question(turn, checkin, "leg", edit=pressed)]
    if step == "leg":
        checkin.leg_symptoms = read_yes_no(value)
        assert checkin.pain_during is not None
        if await _needs_screen(turn, checkin.pain_during, checkin.leg_symptoms):
            return [question(turn, checkin, "rf", edit=pressed)]
        return [question(turn, checkin, "flat", edit=pressed)]
    if step == "rf":
        if read_yes_no(value):
            return await _stop(turn, checkin, "emergency")
        return [question(turn, checkin, "rfc", edit=pressed)]
    if step == "rfc":
        if read_yes_no(value):
            return await _stop(turn, checkin, "clinician")
        if checkin.neutral is not None and checkin.lifted is not None:  # a quick check-in
            return await _complete(turn, checkin)
        return [question(turn, checkin, "flat", edit=pressed)]
    if step == "flat":
        checkin.neutral = read_neutral(value).value
        return [question(turn, checkin, "comfort", edit=pressed)]
    if step == "comfort":
        comfort = read_comfort(value)
        checkin.comfort, checkin.lifted = comfort, comfort is not None
        return await _complete(turn, checkin)
    turn.clear_pending()
    return [turn.private("I lost track of that question. Send /checkin to start again.")]


async def _needs_screen(turn: Turn, pain: int, leg: bool) -> bool:
    """Leg symptoms or a pain jump re-ask the red-flag screen (coaching-rules)."""
    previous = await turn.last_session()
    before = previous.pain_during if previous else turn.person.baseline_pain
    return leg or red_flag_pain_jump(pain, before, turn.phase.gates)


async def quick(turn: Turn, values: QuickCheckIn) -> list[Reply]:
    """`/checkin 3 yes 7`: the whole check-in in one message."""
    copy = await repeats.earlier_copy(turn, values)
    if copy is not None and copy.completed_at is None and turn.person.pending:
        return [question(turn, copy, str(turn.person.pending["step"]))]  # the same question
    if copy is not None:
        return [repeats.already_logged(turn, copy)]
    checkin = await _open_checkin(
        turn,
        flush=False,
        pain_during=values.pain_during,
        leg_symptoms=values.leg_symptoms,
        neutral=values.neutral.value,
        comfort=values.comfort,
        lifted=values.comfort is not None,
    )
    if await _needs_screen(turn, values.pain_during, values.leg_symptoms):
        # Health first: the safety question must be answered before the session counts.
        await turn.uow.flush()  # the question names the check-in
        return [
            turn.private("Logged your pain score. Before the rest, one safety check."),
            question(turn, checkin, "rf"),
        ]
    return await _complete(turn, checkin)


async def _stop(turn: Turn, checkin: CheckIn, kind: str) -> list[Reply]:
    # The check-in stays incomplete: a session stopped by a red flag is not a session done.
    record_stop(turn, checkin, kind, "reported during a check-in")
    return await safety.stop_replies(turn, kind)


def record_stop(turn: Turn, checkin: CheckIn | None, kind: str, how: str) -> None:
    """Keep the stop among the person's decisions, with how the sign came up."""
    turn.uow.checkins.add_decision(
        DecisionRecord(
            person_id=turn.person.id,
            checkin_id=checkin.id if checkin else None,
            at=turn.now,
            decision=Decision.STOP.value,
            reason=f"{STOP_REASONS[kind]} ({how})",
            phase_from=turn.person.phase_index,
            phase_to=turn.person.phase_index,
        )
    )


async def done_today(turn: Turn) -> bool:
    last = await turn.last_session()
    return last is not None and last.local_date == turn.today


async def _complete(turn: Turn, checkin: CheckIn) -> list[Reply]:
    checkin.completed_at = turn.now
    turn.completed(checkin)
    paused = safety.is_paused(turn)
    checkin.paused = paused  # logged and shown, never counted toward a phase's gates
    from_team = _origin(turn, checkin).get("team")
    turn.clear_pending()
    # The read writes the check-in first (or with it): no reminder can be queued for the person
    # from then on until this commits (`CheckIns.phase_facts`).
    facts = await decision.read_facts(turn)
    if facts.queued:
        # Done for today: a reminder still queued for today would only nag.
        await turn.uow.outbox.cancel_pending(turn.person.id, turn.now, keep_weekly=True)
    verdict = decision.verdict_on(turn, facts)
    decision.apply(turn, verdict, checkin)
    await team.checkin_done(turn, from_team)
    summary = (
        f"Logged: pain {checkin.pain_during}/10, back neutral: {checkin.neutral}, "
        f"deadlift comfort: {checkin.comfort if checkin.lifted else 'did not lift'}."
    )
    first, *more = decision.follow_up(turn, verdict)
    replies = [turn.private(summary + "\n\n" + first.text, buttons=first.buttons), *more]
    return replies + await outcomes.after_checkin(turn)
