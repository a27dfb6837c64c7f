"""The progression rule of coaching-rules.md: advance, hold, regress or stop after a check-in.

Pure: it sees the check-ins of the current phase and the phase's gates and returns a verdict with
its reason in plain words. The first rule that applies decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.core.content import Gates


class Decision(StrEnum):
    ADVANCE = "advance"
    HOLD = "hold"
    REGRESS = "regress"
    STOP = "stop"
    PAUSE = "pause"


class Neutral(StrEnum):
    YES = "yes"
    MOSTLY = "mostly"
    NO = "no"


@dataclass(frozen=True, slots=True)
class Session:
    """One completed check-in, as the rule sees it (check-ins logged while paused are not
    sessions: they never reach the rule)."""

    day: date
    pain_during: int
    neutral: Neutral
    comfort: int | None  # None: did not lift
    morning_pain: int | None = None  # None: not answered (yet)
    pre_pain: int | None = None  # pain level before the session, for the morning comparison
    leg: bool = False  # pain or tingling went down a leg


@dataclass(frozen=True, slots=True)
class Watch:
    """What the rule knows beyond the phase's sessions (defaults: nothing to watch)."""

    # Morning pain levels the latest morning is compared with (rule 3a): the level at the start
    # of the phase and the onboarding baseline.
    references: tuple[int, ...] = ()
    # The latest morning answer, whichever session it belongs to.
    latest_morning: int | None = None
    # Sessions with leg symptoms within `gates.leg_review_days` (rule 3b).
    leg_sessions: int = 0
    # A clinician review was advised and the person has not yet said they were seen.
    review_pending: bool = False
    # The next phase's entry test: None when there is none or it was passed.
    entry_test: str | None = None
    # The entry test was failed after the latest session: practise before trying again.
    test_failed_recently: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    lower_dose: bool = False
    screen: bool = False  # re-ask the red-flag screen before anything else
    review: bool = False  # advise a clinician review (not an emergency)
    test: str | None = None  # ask this entry test; a pass is what moves the person up
    finished: bool = False  # the last phase's goals are met: maintenance


def morning_unsettled(session: Session, gates: Gates) -> bool:
    """Pain the next morning rose above the pre-session level by the gate (default 2 points)."""
    if session.morning_pain is None or session.pre_pain is None:
        return False
    return session.morning_pain - session.pre_pain >= gates.morning_rise_to_hold


def settled(session: Session) -> bool:
    """Pain the next morning is known and not above the level before the session."""
    if session.morning_pain is None:
        return False
    return session.pre_pain is None or session.morning_pain <= session.pre_pain


def creep(watch: Watch) -> int:
    """How far the latest morning sits above the lowest reference level (rule 3a): pain that
    creeps up a point a day never trips the day-to-day comparison, but it trips this one."""
    if watch.latest_morning is None or not watch.references:
        return 0
    return watch.latest_morning - min(watch.references)


def red_flag_pain_jump(pain: int, previous: int | None, gates: Gates) -> bool:
    """A jump this big re-asks the red-flag screen (coaching-rules: 3+ points)."""
    return previous is not None and pain - previous >= gates.red_flag_pain_jump


def decide(
    *,
    sessions: Sequence[Session],
    gates: Gates,
    phase_start_comfort: int | None,
    paused: bool = False,
    has_next_phase: bool = True,
    total: int | None = None,
    first_day: date | None = None,
    watch: Watch = Watch(),
    morning: bool = False,
) -> Verdict:
    """Decide after the latest session in `sessions` (oldest first, current phase only), or,
    with `morning`, after the next morning's answer (rule 2 was applied at the check-in).

    `sessions` may be just the tail of the phase (at least `gates.window` sessions) when
    `total` and `first_day` describe the whole phase, so a long phase costs no more to decide.
    Rule 1 (a red flag: stop) is applied by the check-in itself before anything is decided.
    """
    if paused:
        return Verdict(
            Decision.PAUSE,
            "Your program is paused, so this session is logged but does not move your phase.",
        )
    latest = sessions[-1] if sessions else None
    if latest is not None and not morning and latest.pain_during > gates.regress_pain_above:
        return Verdict(
            Decision.REGRESS,
            f"Pain during the routine reached {latest.pain_during}/10, above the "
            f"{gates.regress_pain_above}/10 limit, so we step back to easier work.",
            lower_dose=True,
        )
    if latest is not None and morning_unsettled(latest, gates):
        return Verdict(
            Decision.HOLD,
            f"Your pain the next morning ({latest.morning_pain}/10) was above where it was "
            f"before the session ({latest.pre_pain}/10): we stay here with a lighter dose.",
            lower_dose=True,
        )
    rise = creep(watch)
    if rise >= gates.creep_to_hold:
        return Verdict(
            Decision.HOLD,
            f"Your back has been creeping up: {watch.latest_morning}/10 this morning, "
            f"{rise} points above where it was when this phase began "
            f"({min(watch.references)}/10). We stay here with a lighter dose until it settles.",
            lower_dose=True,
            screen=rise >= gates.creep_to_screen,
        )
    if watch.review_pending:
        return Verdict(
            Decision.HOLD,
            "Pain or tingling went down a leg on several recent sessions, so I've asked you to "
            "have a clinician look at it. We stay in this phase until you tell me you were seen.",
        )
    if watch.leg_sessions >= gates.leg_review_sessions:
        return Verdict(
            Decision.HOLD,
            f"Pain or tingling went down a leg on {watch.leg_sessions} sessions within "
            f"{gates.leg_review_days} days. That is not an emergency, but please have a GP or "
            "physiotherapist look at it; we stay in this phase until you tell me you were seen.",
            review=True,
        )
    if latest is None:
        return Verdict(Decision.HOLD, "No session logged in this phase yet.")
    count = len(sessions) if total is None else total
    span = (latest.day - (first_day or sessions[0].day)).days + 1
    missing = _missing_for_advance(sessions, gates, phase_start_comfort, count, span)
    if not missing and watch.entry_test is not None:
        if watch.test_failed_recently:
            missing.append("the standing self-test passed (I'll offer it after your next session)")
        else:
            return Verdict(
                Decision.HOLD,
                f"{count} sessions over {span} days, and the last {gates.window} were calm "
                "with a neutral back. One check before the next phase: a short self-test.",
                test=watch.entry_test,
            )
    if not missing:
        if has_next_phase:
            return Verdict(
                Decision.ADVANCE,
                f"{count} sessions over {span} days, and the last "
                f"{gates.window} were calm with a neutral back: you are ready for the next phase.",
            )
        return Verdict(
            Decision.HOLD,
            "You have met every goal of the last phase: the program is complete. Keep it up "
            "as maintenance.",
            finished=True,
        )
    goal = "before the next phase" if has_next_phase else "to complete the program"
    return Verdict(Decision.HOLD, f"Still needed {goal}: " + "; ".join(missing) + ".")


def _calm_and_neutral(session: Session, gates: Gates) -> bool:
    return session.pain_during <= gates.max_pain_to_advance and session.neutral is Neutral.YES


def calm_run(sessions: Sequence[Session], gates: Gates) -> int:
    """How many of the latest sessions in a row were calm (pain at most the gate), with a
    neutral back, no leg symptoms and no morning that failed to settle: the run a person must
    extend to `gates.window` to advance. A morning not answered yet does not break the run; it
    is asked for separately (see `_missing_for_advance`)."""
    run = 0
    for s in reversed(sessions):
        unsettled = s.morning_pain is not None and not settled(s)
        if not _calm_and_neutral(s, gates) or s.leg or unsettled:
            break
        run += 1
    return run


def _missing_for_advance(
    sessions: Sequence[Session],
    gates: Gates,
    phase_start_comfort: int | None,
    count: int,
    span: int,
) -> list[str]:
    missing: list[str] = []
    if count < gates.min_sessions:
        more = gates.min_sessions - count
        missing.append(f"{more} more session{'s' if more != 1 else ''}")
    if span < gates.min_days:
        more = gates.min_days - span
        missing.append(f"{more} more day{'s' if more != 1 else ''} in this phase")
    recent = sessions[-gates.window :]
    if any(s.leg for s in recent):
        missing.append(
            f"{gates.window} sessions in a row without pain or tingling down a leg (leg "
            "symptoms hold you here, so we don't add load on an irritated nerve)"
        )
    # The trailing run of calm, neutral sessions is what the person must extend.
    run = calm_run(sessions, gates)
    if run < gates.window and not any(s.leg for s in recent):
        more = gates.window - run
        missing.append(
            f"{more} more session{'s' if more != 1 else ''} in a row with a neutral back and "
            f"pain at {gates.max_pain_to_advance}/10 or less"
        )
    if not missing:
        # The rule asks for a known, settled next morning after each of the last sessions.
        unknown = [s for s in recent[:-1] if s.morning_pain is None]
        if unknown:
            days = ", ".join(f"{s.day:%a %d %b}" for s in unknown)
            missing.append(
                "how your back felt the morning after "
                + ("your session" if len(unknown) == 1 else "your sessions")
                + f" on {days}: I never got an answer, so I can't tell it settled. Answer the "
                "morning question when it comes (with your reminder or your first message of "
                "the day) and a few more sessions will make up for it"
            )
        elif not settled(recent[-1]):
            missing.append("your back settled the morning after this session (I'll ask tomorrow)")
    if phase_start_comfort is not None:
        dropped = [
            s.comfort
            for s in recent
            if s.comfort is not None
            and phase_start_comfort - s.comfort >= gates.comfort_drop_blocks
        ]
        if dropped:
            missing.append(
                f"deadlift comfort back near where this phase started ({phase_start_comfort}/10)"
            )
    return missing
