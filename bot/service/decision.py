"""The progression decision on a person: the rule's inputs gathered from storage (the phase's
sessions and the signals beyond them), the verdict stored and applied, and what it asks of the
person next: the red-flag screen again, a clinician review, or the entry self-test."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import flows, progression
from bot.core.actions import Action
from bot.core.answers import (
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
)
from bot.core.texts import (
    choice_buttons,
)
from bot.service import safety
from bot.service.turn import Turn
from bot.storage_port import LoggedSession, MorningPain, PhaseFacts
from storage.models import CheckIn, DecisionRecord, SelfTestResult

TEST = flows.SELF_TEST  # Action(TEST, test id, "pass"|"fail", person id)
REVIEW = flows.REVIEW  # Action(REVIEW, "ok", "yes", person id)
# Creeping pain and leg symptoms are looked for over this many days of check-ins.
WATCH_DAYS = 14


def session_of(checkin: LoggedSession, leg_cleared_on: date | None = None) -> Session:
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


def _watch(turn: Turn, facts: PhaseFacts, latest_session: LoggedSession | None) -> Watch:
    """The signals beyond the phase's own sessions (rules 3a and 3b, the entry test)."""
    person = turn.person
    gates = turn.phase.gates
    recent = facts.recent
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
    test_id, failed = _entry_test_state(turn, facts, latest_session)
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


def _entry_test_state(
    turn: Turn, facts: PhaseFacts, latest: LoggedSession | None
) -> tuple[str | None, bool]:
    """The next phase's entry test if it still has to be passed, and whether it was failed
    since the latest session (then the person practises before trying again)."""
    test = next_entry_test(turn)
    if test is None or facts.test_passed:
        return None, False
    last_failed = facts.test_last_at  # never passed: every result is a fail
    done_at = latest.completed_at if latest is not None else None
    failed = last_failed is not None and (done_at is None or last_failed > done_at)
    return test.id, failed


async def decide(
    turn: Turn, *, morning: bool = False, noting: MorningPain | None = None
) -> Verdict:
    """The progression rule on the person's current phase, as stored (one read), after the
    morning answer `noting` is kept."""
    return verdict_on(turn, await read_facts(turn, noting), morning=morning)


async def read_facts(turn: Turn, noting: MorningPain | None = None) -> PhaseFacts:
    """What the rule reads about the person's current phase, in one statement (with the
    morning answer `noting` kept first: `CheckIns.phase_facts`)."""
    person = turn.person
    gates = turn.phase.gates
    test = next_entry_test(turn)
    return await turn.uow.checkins.phase_facts(
        person.id,
        person.phase_index,
        person.phase_started_on,
        gates.window,
        recent_since=turn.today - timedelta(days=max(WATCH_DAYS, gates.leg_review_days)),
        test_id=test.id if test is not None else None,
        noting=noting,
    )


def verdict_on(turn: Turn, facts: PhaseFacts, *, morning: bool = False) -> Verdict:
    """The progression rule on facts read by `read_facts`."""
    person = turn.person
    tail = facts.tail
    cleared = person.review_cleared_on
    return progression.decide(
        sessions=[session_of(c, cleared) for c in tail],
        total=facts.total,
        first_day=facts.first_day,
        gates=turn.phase.gates,
        phase_start_comfort=person.phase_start_comfort,
        paused=safety.is_paused(turn),
        has_next_phase=person.phase_index + 1 < len(turn.program.phases),
        watch=_watch(turn, facts, tail[-1] if tail else None),
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
    elif verdict.decision is Decision.HOLD and person.lighter_dose and _calm(turn, checkin):
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
    verdict = await decide(turn, morning=True)
    if verdict.decision is Decision.ADVANCE:
        latest = await turn.last_session()
        apply(turn, verdict, latest)
        return [turn.private("Test passed. " + explain(turn, verdict))]
    return [turn.private("Test passed, noted. " + explain(turn, verdict))]


def _read_pass(value: str) -> bool:
    if value in {"pass", "fail"}:
        return value == "pass"
    return read_yes_no(value)
