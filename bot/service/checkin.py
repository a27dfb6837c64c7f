"""The check-in after a routine, the next morning's pain question, the entry self-test, and the
progression decision."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.core import flows, morning
from bot.core.actions import Action
from bot.core.answers import (
    QuickCheckIn,
    read_comfort,
    read_neutral,
    read_score,
    read_yes_no,
)
from bot.core.content import SelfTest
from bot.core.messages import Button, Reply
from bot.core.progression import (
    Decision,
    Neutral,
    Session,
    Verdict,
    Watch,
    decide,
    red_flag_pain_jump,
    settled,
)
from bot.core.texts import (
    CLINICIAN_SIGNS,
    EMERGENCY_SIGNS,
    NEUTRAL_BACK,
    choice_buttons,
    score_buttons,
)
from bot.service import outcomes, repeats, safety, team
from bot.service.turn import Turn
from storage.models import CheckIn, DecisionRecord, SelfTestResult

FLOW = flows.CHECKIN
MORNING = flows.MORNING
TEST = flows.SELF_TEST  # Action(TEST, test id, "pass"|"fail", person id)
REVIEW = flows.REVIEW  # Action(REVIEW, "ok", "yes", person id)

YES_NO = [("No", "no"), ("Yes", "yes")]
STOP_REASONS = {
    "emergency": "A warning sign for urgent care",
    "clinician": "A reason to see a clinician first",
}
# A morning answer is about the last session only within this many days of it.
MORNING_WINDOW_DAYS = 7
# Creeping pain and leg symptoms are looked for over this many days of check-ins.
WATCH_DAYS = 14


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


def session_of(checkin: CheckIn, leg_cleared_on: date | None = None) -> Session:
    """A completed check-in as the progression rule sees it. Leg symptoms on or before the day a
    clinician review was confirmed no longer hold the person."""
    assert checkin.pain_during is not None
    cleared = leg_cleared_on is not None and checkin.local_date <= leg_cleared_on
    return Session(
        day=checkin.local_date,
        pain_during=checkin.pain_during,
        neutral=Neutral(checkin.neutral or "no"),
        comfort=checkin.comfort,
        morning_pain=checkin.morning_pain,
        pre_pain=checkin.pre_pain,
        leg=bool(checkin.leg_symptoms) and not cleared,
    )


async def _complete(turn: Turn, checkin: CheckIn) -> list[Reply]:
    checkin.completed_at = turn.now
    turn.completed(checkin)
    paused = safety.is_paused(turn)
    checkin.paused = paused  # logged and shown, never counted toward a phase's gates
    from_team = _origin(turn, checkin).get("team")
    turn.clear_pending()
    await turn.uow.flush()
    # Done for today: a reminder still queued for today would only nag.
    await turn.uow.outbox.cancel_pending(turn.person.id, turn.now, keep_weekly=True)
    verdict = await _decide(turn)
    apply(turn, verdict, checkin)
    await team.checkin_done(turn, from_team)
    summary = (
        f"Logged: pain {checkin.pain_during}/10, back neutral: {checkin.neutral}, "
        f"deadlift comfort: {checkin.comfort if checkin.lifted else 'did not lift'}."
    )
    first, *more = follow_up(turn, verdict)
    replies = [turn.private(summary + "\n\n" + first.text, buttons=first.buttons), *more]
    return replies + await outcomes.after_checkin(turn)


async def _watch(turn: Turn, latest_session: CheckIn | None) -> Watch:
    """The signals beyond the phase's own sessions (rules 3a and 3b, the entry test)."""
    person = turn.person
    gates = turn.phase.gates
    since = turn.today - timedelta(days=max(WATCH_DAYS, gates.leg_review_days))
    recent = await turn.uow.checkins.completed(person.id, since=since)
    latest_morning = None
    for row in reversed(recent):
        if row.morning_pain is not None and row.local_date >= turn.today - timedelta(days=7):
            latest_morning = row.morning_pain
            break
    leg_from = turn.today - timedelta(days=gates.leg_review_days - 1)
    cleared = person.review_cleared_on
    leg_sessions = {
        row.id
        for row in recent
        if row.leg_symptoms
        and row.local_date >= leg_from
        and (cleared is None or row.local_date > cleared)
    }
    references = tuple(
        level for level in (person.phase_start_pain, person.baseline_pain) if level is not None
    )
    test_id, failed = await _entry_test_state(turn, latest_session)
    return Watch(
        references=references,
        latest_morning=latest_morning,
        leg_sessions=len(leg_sessions),
        review_pending=review_pending(turn),
        entry_test=test_id,
        test_failed_recently=failed,
    )


def review_pending(turn: Turn) -> bool:
    person = turn.person
    advised, cleared = person.review_advised_on, person.review_cleared_on
    return advised is not None and (cleared is None or cleared < advised)


def next_entry_test(turn: Turn) -> SelfTest | None:
    phases = turn.program.phases
    index = turn.person.phase_index + 1
    return phases[index].entry_test if index < len(phases) else None


async def _entry_test_state(turn: Turn, latest: CheckIn | None) -> tuple[str | None, bool]:
    """The next phase's entry test if it still has to be passed, and whether it was failed
    since the latest session (then the person practises before trying again)."""
    test = next_entry_test(turn)
    if test is None:
        return None, False
    results = await turn.uow.checkins.self_tests(turn.person.id, test.id)
    if any(result.passed for result in results):
        return None, False
    last_failed = results[-1].at if results else None
    done_at = latest.completed_at if latest is not None else None
    failed = last_failed is not None and (done_at is None or last_failed > done_at)
    return test.id, failed


async def _decide(turn: Turn, *, morning: bool = False) -> Verdict:
    """The progression rule on the person's current phase, as stored."""
    person = turn.person
    gates = turn.phase.gates
    total, first_day, tail = await turn.uow.checkins.phase_summary(
        person.id, person.phase_index, person.phase_started_on, gates.window
    )
    cleared = person.review_cleared_on
    return decide(
        sessions=[session_of(c, cleared) for c in tail],
        total=total,
        first_day=first_day,
        gates=gates,
        phase_start_comfort=person.phase_start_comfort,
        paused=safety.is_paused(turn),
        has_next_phase=person.phase_index + 1 < len(turn.program.phases),
        watch=await _watch(turn, tail[-1] if tail else None),
        morning=morning,
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
        if checkin is not None and checkin.morning_pain is not None:
            person.phase_start_pain = checkin.morning_pain
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
    if verdict.review and not review_pending(turn):
        person.review_advised_on = turn.today
    if verdict.finished and person.finished_on is None:
        person.finished_on = turn.today
    turn.uow.checkins.add_decision(
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
    if verdict.finished:
        where = f"maintenance ({phase.name})"
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


def follow_up(turn: Turn, verdict: Verdict, then: str | None = None) -> list[Reply]:
    """The decision in words, then what it asks of the person: the red-flag screen again, a
    clinician review, or the entry self-test (`then`: the command to carry on with after)."""
    text = explain(turn, verdict)
    if verdict.screen:
        return [
            turn.private(text + " Because it has risen this much, one safety check first."),
            safety.ask_screen(turn, then=then),
        ]
    if verdict.review or (verdict.decision is Decision.HOLD and review_pending(turn)):
        return [turn.private(text, buttons=review_buttons(turn))]
    if verdict.test is not None:
        test = next_entry_test(turn)
        if test is not None and test.id == verdict.test:
            return [turn.private(text), ask_test(turn, test, then)]
    return [turn.private(text)]


def review_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    action = Action(REVIEW, "ok", "yes", turn.person.id).encode()
    return ((Button("I've been seen by a clinician", action),),)


def reviewed(turn: Turn) -> list[Reply]:
    """The person confirms a clinician looked at their leg symptoms."""
    if not review_pending(turn):
        return [Reply("Nothing is waiting on a clinician review.", alert=True, private=True)]
    turn.person.review_cleared_on = turn.today
    return [
        turn.private(
            "Thanks, glad it has been looked at. Follow what your clinician advised; the program "
            "carries on from here, and leg symptoms from before today no longer hold you back. "
            "If they come back, tell me in your check-in.",
            edit=True,
        )
    ]


# The entry self-test ---------------------------------------------------------------------------


def ask_test(turn: Turn, test: SelfTest, then: str | None = None) -> Reply:
    turn.ask(TEST, test.id, turn.person.id, then=then)
    lines = [f"{test.name}. {test.why}", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(test.steps, start=1)]
    lines += ["", test.question]
    return turn.private(
        "\n".join(lines),
        buttons=choice_buttons(
            TEST, test.id, turn.person.id, [(test.passed, "pass"), (test.failed, "fail")]
        ),
    )


async def answer_test(turn: Turn, test_id: str, value: str) -> tuple[list[Reply], str | None]:
    """A pass moves the person up (when the rule still says they are ready); a fail holds them
    with what to practise. Also returns the command the test interrupted, to carry on with."""
    test = next_entry_test(turn)
    then = (turn.person.pending or {}).get("then")
    passed = _read_pass(value)
    turn.clear_pending()
    if test is None or test.id != test_id:
        return [turn.private("That test isn't waiting for an answer any more.")], None
    return await _record_test(turn, test, passed), then if isinstance(then, str) else None


async def _record_test(turn: Turn, test: SelfTest, passed: bool) -> list[Reply]:
    turn.uow.checkins.add_self_test(
        SelfTestResult(person_id=turn.person.id, test_id=test.id, at=turn.now, passed=passed)
    )
    await turn.uow.flush()
    if not passed:
        verdict = Verdict(
            Decision.HOLD,
            "Not quite yet, and that's fine: it is exactly what this check is for. To practise: "
            + " ".join(test.practice),
        )
        apply(turn, verdict, None)
        return [turn.private(explain(turn, verdict))]
    verdict = await _decide(turn, morning=True)
    if verdict.decision is Decision.ADVANCE:
        latest = await turn.last_session()
        apply(turn, verdict, latest)
        return [turn.private("Test passed. " + explain(turn, verdict))]
    return [turn.private("Test passed, noted. " + explain(turn, verdict))]


def _read_pass(value: str) -> bool:
    if value in {"pass", "fail"}:
        return value == "pass"
    return read_yes_no(value)


# The next-morning question -------------------------------------------------------------------


async def morning_due(turn: Turn) -> CheckIn | None:
    """The last session, if it was before today and its next morning is not known yet."""
    last = await turn.last_session()
    if last is None or not morning.morning_due(last_session(last), turn.today, MORNING_WINDOW_DAYS):
        return None
    return last


def last_session(checkin: CheckIn) -> morning.LastSession:
    counted = checkin.pain_during is not None and checkin.neutral is not None
    return morning.LastSession(checkin.local_date, checkin.morning_pain is not None, counted)


def morningquestion(local_hour: int) -> str:
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
        morningquestion(turn.now.astimezone(turn.zone).hour),
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
        if (turn.person.pending or {}).get("flow") == MORNING:
            turn.clear_pending()
        return [turn.private(f"Already noted: {checkin.morning_pain}/10 that morning.")], True
    pain = read_score(value, "pain this morning")
    # One morning answers for every session of that day (two check-ins in one day).
    for row in await turn.uow.checkins.same_day_without_morning(turn.person.id, checkin.local_date):
        row.morning_pain = pain
    checkin.morning_pain = pain
    if (turn.person.pending or {}).get("flow") == MORNING:
        turn.clear_pending()
    if safety.is_paused(turn):
        return [turn.private(f"Thanks, {pain}/10 noted.")], True
    verdict = await _decide(turn, morning=True)
    session = session_of(checkin)
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
    apply(turn, verdict, checkin)
    first, *more = follow_up(turn, verdict, then)
    replies = [turn.private(f"{noted} {first.text}", buttons=first.buttons), *more]
    return replies, not (verdict.screen or verdict.test is not None)
