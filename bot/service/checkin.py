"""The check-in after a routine, the next morning's pain question, and the progression decision."""

from __future__ import annotations

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
    Neutral,
    Session,
    Verdict,
    decide,
    morning_unsettled,
    red_flag_pain_jump,
    settled,
)
from bot.core.texts import (
    CLINICIAN_PAUSE,
    CLINICIAN_SIGNS,
    EMERGENCY_SIGNS,
    EMERGENCY_STOP,
    choice_buttons,
    score_buttons,
)
from bot.service import repeats, safety, team
from bot.service.turn import Turn
from storage import outbox
from storage.models import CheckIn, DecisionRecord

FLOW = "ci"
MORNING = "am"

YES_NO = [("No", "no"), ("Yes", "yes")]
STOP_REASONS = {
    "emergency": "A warning sign for urgent care was reported during a check-in.",
    "clinician": "A reason to see a clinician first was reported during a check-in.",
}


def _question(turn: Turn, checkin: CheckIn, step: str, *, edit: bool = False) -> Reply:
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
            buttons=choice_buttons(
                FLOW, step, ref, [("None of these", "no"), ("Yes, at least one", "yes")]
            ),
            edit=edit,
        )
    if step == "rfc":
        return turn.private(
            "And do any of these apply to you now?\n" + CLINICIAN_SIGNS,
            buttons=choice_buttons(
                FLOW, step, ref, [("None of these", "no"), ("Yes, at least one", "yes")]
            ),
            edit=edit,
        )
    if step == "flat":
        return turn.private(
            "Did your lower back stay flat and neutral on every rep?",
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


async def _open_checkin(turn: Turn) -> CheckIn:
    person = turn.person
    last = await turn.repo.last_completed_checkin(person.id)
    pre_pain = person.baseline_pain
    if last is not None and last.morning_pain is not None:
        pre_pain = last.morning_pain
    checkin = CheckIn(
        person_id=person.id,
        started_at=turn.now,
        local_date=turn.today,
        phase_index=person.phase_index,
        pre_pain=pre_pain,
    )
    turn.repo.add(checkin)
    await turn.repo.flush()
    return checkin


async def start(turn: Turn) -> list[Reply]:
    checkin = await _open_checkin(turn)
    return [
        turn.private("Nice work. Four quick questions about today's session."),
        _question(turn, checkin, "pain"),
    ]


async def answer(turn: Turn, step: str, ref: int, value: str, pressed: bool) -> list[Reply]:
    """Record one answer (raises BadAnswer to re-ask) and ask the next question."""
    checkin = await turn.repo.checkin(ref)
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
        return [_question(turn, checkin, "leg", edit=pressed)]
    if step == "leg":
        checkin.leg_symptoms = read_yes_no(value)
        previous = await turn.repo.last_completed_checkin(turn.person.id)
        before = previous.pain_during if previous else turn.person.baseline_pain
        assert checkin.pain_during is not None
        if checkin.leg_symptoms or red_flag_pain_jump(
            checkin.pain_during, before, turn.phase.gates
        ):
            return [_question(turn, checkin, "rf", edit=pressed)]
        return [_question(turn, checkin, "flat", edit=pressed)]
    if step == "rf":
        if read_yes_no(value):
            return await _stop(turn, checkin, "emergency")
        return [_question(turn, checkin, "rfc", edit=pressed)]
    if step == "rfc":
        if read_yes_no(value):
            return await _stop(turn, checkin, "clinician")
        if checkin.neutral is not None and checkin.lifted is not None:  # a quick check-in
            return await _complete(turn, checkin)
        return [_question(turn, checkin, "flat", edit=pressed)]
    if step == "flat":
        checkin.neutral = read_neutral(value).value
        return [_question(turn, checkin, "comfort", edit=pressed)]
    if step == "comfort":
        comfort = read_comfort(value)
        checkin.comfort, checkin.lifted = comfort, comfort is not None
        return await _complete(turn, checkin)
    turn.clear_pending()
    return [turn.private("I lost track of that question. Send /checkin to start again.")]


async def quick(turn: Turn, values: QuickCheckIn) -> list[Reply]:
    """`/checkin 3 yes 7`: the whole check-in in one message."""
    copy = await repeats.earlier_copy(turn, values)
    if copy is not None and copy.completed_at is None and turn.person.pending:
        return [_question(turn, copy, str(turn.person.pending["step"]))]  # the same question
    if copy is not None:
        return [repeats.already_logged(turn, copy)]
    checkin = await _open_checkin(turn)
    checkin.pain_during = values.pain_during
    checkin.leg_symptoms = values.leg_symptoms
    checkin.neutral = values.neutral.value
    checkin.comfort, checkin.lifted = values.comfort, values.comfort is not None
    previous = await turn.repo.last_completed_checkin(turn.person.id)
    before = previous.pain_during if previous else turn.person.baseline_pain
    if values.leg_symptoms or red_flag_pain_jump(values.pain_during, before, turn.phase.gates):
        # Health first: the safety question must be answered before the session counts.
        return [
            turn.private("Logged your pain score. Before the rest, one safety check."),
            _question(turn, checkin, "rf"),
        ]
    return await _complete(turn, checkin)


async def _stop(turn: Turn, checkin: CheckIn, kind: str) -> list[Reply]:
    # The check-in stays incomplete: a session stopped by a red flag is not a session done.
    await safety.hold(turn, kind)
    turn.repo.add(
        DecisionRecord(
            person_id=turn.person.id,
            checkin_id=checkin.id,
            at=turn.now,
            decision=Decision.STOP.value,
            reason=STOP_REASONS[kind],
            phase_from=turn.person.phase_index,
            phase_to=turn.person.phase_index,
        )
    )
    message = EMERGENCY_STOP if kind == "emergency" else CLINICIAN_PAUSE
    return [turn.private(message, buttons=safety.clearance_buttons(turn))]


def session_of(checkin: CheckIn) -> Session:
    """A completed check-in as the progression rule sees it."""
    assert checkin.pain_during is not None
    return Session(
        day=checkin.local_date,
        pain_during=checkin.pain_during,
        neutral=Neutral(checkin.neutral or "no"),
        comfort=checkin.comfort,
        morning_pain=checkin.morning_pain,
        pre_pain=checkin.pre_pain,
    )


async def _complete(turn: Turn, checkin: CheckIn) -> list[Reply]:
    # A pressed question is edited into a short summary instead of leaving old buttons behind.
    checkin.completed_at = turn.now
    from_team = _origin(turn, checkin).get("team")
    turn.clear_pending()
    await turn.repo.flush()
    # Done for today: a reminder still queued for today would only nag.
    await outbox.cancel_pending(
        turn.repo.session, turn.person.id, turn.now, keep_kinds=(outbox.WEEKLY,)
    )
    verdict = await _decide(turn)
    apply(turn, verdict, checkin)
    await team.checkin_done(turn, from_team)
    summary = (
        f"Logged: pain {checkin.pain_during}/10, back flat: {checkin.neutral}, "
        f"deadlift comfort: {checkin.comfort if checkin.lifted else 'did not lift'}."
    )
    return [turn.private(summary + "\n\n" + explain(turn, verdict))]


async def _decide(turn: Turn) -> Verdict:
    """The progression rule on the person's current phase, as stored."""
    person = turn.person
    gates = turn.phase.gates
    total, first_day, tail = await turn.repo.phase_summary(
        person.id, person.phase_index, person.phase_started_on, gates.window
    )
    return decide(
        sessions=[session_of(c) for c in tail],
        total=total,
        first_day=first_day,
        gates=gates,
        phase_start_comfort=person.phase_start_comfort,
        paused=safety.is_paused(turn),
        has_next_phase=person.phase_index + 1 < len(turn.program.phases),
    )


def apply(turn: Turn, verdict: Verdict, checkin: CheckIn | None) -> None:
    """Store the decision and move the person's phase and dose accordingly."""
    person = turn.person
    before = person.phase_index
    if verdict.decision is Decision.ADVANCE:
        person.phase_index += 1
        person.phase_started_on = turn.today
        if checkin is not None and checkin.lifted:  # "didn't lift" keeps the last known comfort
            person.phase_start_comfort = checkin.comfort
        person.lighter_dose = False
    elif verdict.decision is Decision.REGRESS:
        if person.phase_index > 0:
            person.phase_index -= 1
            person.phase_started_on = turn.today
        person.lighter_dose = True
    elif verdict.lower_dose:
        person.lighter_dose = True
    elif verdict.decision is Decision.HOLD and _calm(turn, checkin):
        # A calm session lifts a lighter dose given after a bad day.
        person.lighter_dose = False
    turn.repo.add(
        DecisionRecord(
            person_id=person.id,
            checkin_id=checkin.id if checkin else None,
            at=turn.now,
            decision=verdict.decision.value,
            reason=verdict.reason,
            phase_from=before,
            phase_to=person.phase_index,
        )
    )


def _calm(turn: Turn, checkin: CheckIn | None) -> bool:
    if checkin is None or checkin.pain_during is None:
        return False
    return checkin.pain_during <= turn.phase.gates.max_pain_to_advance


def explain(turn: Turn, verdict: Verdict) -> str:
    program = turn.program
    phase = program.phases[turn.person.phase_index]
    where = f"Phase {turn.person.phase_index + 1} of {len(program.phases)}: {phase.name}"
    headline = {
        Decision.ADVANCE: f"Moving up! {verdict.reason} Next: {where}.",
        Decision.REGRESS: f"Stepping back. {verdict.reason} Now: {where}, lighter dose.",
        Decision.HOLD: f"Staying in {where}. {verdict.reason}",
        Decision.PAUSE: verdict.reason,
        Decision.STOP: verdict.reason,
    }[verdict.decision]
    if verdict.lower_dose and verdict.decision is Decision.HOLD:
        headline += " Next routine: lighter dose."
    return headline


# The next-morning question -------------------------------------------------------------------


async def morning_due(turn: Turn) -> CheckIn | None:
    """The last session, if it was before today and its morning pain is not asked yet."""
    last = await turn.repo.last_completed_checkin(turn.person.id)
    if (
        last is None
        or last.morning_pain is not None
        or last.pain_during is None
        or last.neutral is None
        or last.local_date >= turn.today
        or (turn.today - last.local_date).days > 7  # too long ago to say anything useful
    ):
        return None
    return last


def ask_morning(turn: Turn, checkin: CheckIn, then: str | None) -> Reply:
    turn.ask(MORNING, "pain", checkin.id, then=then)
    return turn.private(
        "Good morning! Before anything else: how is your back this morning, 0 to 10?",
        buttons=score_buttons(MORNING, "pain", checkin.id),
    )


async def answer_morning(turn: Turn, ref: int, value: str) -> list[Reply]:
    checkin = await turn.repo.checkin(ref)
    if checkin is None or checkin.person_id != turn.person.id:
        turn.clear_pending()
        return [turn.private("That question has expired.")]
    checkin.morning_pain = read_score(value, "pain this morning")
    turn.clear_pending()
    session = session_of(checkin)
    if morning_unsettled(session, turn.phase.gates) and not safety.is_paused(turn):
        verdict = Verdict(
            Decision.HOLD,
            f"Your back is at {checkin.morning_pain}/10 this morning, up from "
            f"{checkin.pre_pain}/10 before the last session, so it has not settled.",
            lower_dose=True,
        )
        apply(turn, verdict, checkin)
        return [turn.private(explain(turn, verdict))]
    noted = f"Thanks, {checkin.morning_pain}/10 noted."
    if checkin.phase_index == turn.person.phase_index and settled(session):
        noted = f"Thanks, {checkin.morning_pain}/10 noted: your back settled well."
        verdict = await _decide(turn)
        if verdict.decision is Decision.ADVANCE:  # the settled morning was the last step
            apply(turn, verdict, checkin)
            return [turn.private(f"{noted} {explain(turn, verdict)}")]
    return [turn.private(noted)]
