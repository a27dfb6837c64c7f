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
    """One completed check-in, as the rule sees it."""

    day: date
    pain_during: int
    neutral: Neutral
    comfort: int | None  # None: did not lift
    morning_pain: int | None = None  # None: not asked yet
    pre_pain: int | None = None  # pain level before the session, for the morning comparison


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    lower_dose: bool = False


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
) -> Verdict:
    """Decide after the latest session in `sessions` (oldest first, current phase only).

    `sessions` may be just the tail of the phase (at least `gates.window` sessions) when
    `total` and `first_day` describe the whole phase, so a long phase costs no more to decide.
    Rule 1 (a red flag: stop) is applied by the check-in itself before anything is decided.
    """
    if paused:
        return Verdict(
            Decision.PAUSE,
            "Your program is paused, so this session is logged but does not move your phase.",
        )
    if not sessions:
        return Verdict(Decision.HOLD, "No session logged in this phase yet.")
    latest = sessions[-1]
    if latest.pain_during > gates.regress_pain_above:
        return Verdict(
            Decision.REGRESS,
            f"Pain during the routine reached {latest.pain_during}/10, above the "
            f"{gates.regress_pain_above}/10 limit, so we step back to easier work.",
            lower_dose=True,
        )
    if morning_unsettled(latest, gates):
        return Verdict(
            Decision.HOLD,
            f"Your pain the next morning ({latest.morning_pain}/10) was above where it was "
            f"before the session ({latest.pre_pain}/10): we stay here with a lighter dose.",
            lower_dose=True,
        )
    count = len(sessions) if total is None else total
    span = (latest.day - (first_day or sessions[0].day)).days + 1
    missing = _missing_for_advance(sessions, gates, phase_start_comfort, count, span)
    if not missing:
        if has_next_phase:
            return Verdict(
                Decision.ADVANCE,
                f"{count} sessions over {span} days, and the last "
                f"{gates.window} were calm with a flat back: you are ready for the next phase.",
            )
        return Verdict(
            Decision.HOLD,
            "You have reached the last phase and meet all its goals: keep it up as maintenance.",
        )
    return Verdict(Decision.HOLD, "Still needed before the next phase: " + "; ".join(missing) + ".")


def _calm_and_flat(session: Session, gates: Gates) -> bool:
    # A morning never asked (two sessions in a day, a long gap) does not count against it.
    return (
        session.pain_during <= gates.max_pain_to_advance
        and session.neutral is Neutral.YES
        and (session.morning_pain is None or settled(session))
    )


def calm_run(sessions: Sequence[Session], gates: Gates) -> int:
    """How many of the latest sessions in a row were calm (pain at most the gate), with a flat
    back and a settled morning: the run a person must extend to `gates.window` to advance."""
    run = 0
    for s in reversed(sessions):
        if not _calm_and_flat(s, gates):
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
    # The trailing run of calm, flat-back sessions is what the person must extend.
    run = calm_run(sessions, gates)
    if run < gates.window:
        more = gates.window - run
        missing.append(
            f"{more} more session{'s' if more != 1 else ''} in a row with a flat back and pain "
            f"at {gates.max_pain_to_advance}/10 or less"
        )
    if not missing and not settled(sessions[-1]):
        # The rule asks for a settled next morning, so the step up waits for that answer.
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
