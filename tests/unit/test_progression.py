"""The progression rule, driven by tables of check-in sequences."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.core.content import Gates
from bot.core.progression import Decision, Neutral, Session, decide, red_flag_pain_jump

START = date(2027, 1, 4)
Y, M, N = Neutral.YES, Neutral.MOSTLY, Neutral.NO


def sessions(*rows: tuple[int, int, Neutral, int | None, int | None, int | None]) -> list[Session]:
    """(day offset, pain during, flat back, comfort, morning pain, pre pain)"""
    return [
        Session(START + timedelta(days=d), pain, flat, comfort, morning, pre)
        for d, pain, flat, comfort, morning, pre in rows
    ]


def calm(days: list[int], comfort: int = 6) -> list[Session]:
    return sessions(*[(d, 2, Y, comfort, 2, 2) for d in days])


CASES = [
    # name, sessions, phase start comfort, paused, has next, decision, lower dose, words
    ("first session holds", calm([0]), 6, False, True, Decision.HOLD, False, "5 more sessions"),
    (
        "six calm over ten days advance",
        calm([0, 2, 4, 6, 8, 9]),
        6,
        False,
        True,
        Decision.ADVANCE,
        False,
        "ready",
    ),
    (
        "six calm over five days hold for days",
        calm([0, 1, 2, 3, 4, 5]),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "4 more days",
    ),
    (
        "enough sessions but last not flat",
        calm([0, 2, 4, 6, 8]) + sessions((9, 2, M, 6, None, 2)),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "3 more sessions in a row",
    ),
    (
        "pain 4 breaks the calm run",
        calm([0, 2, 4, 6, 8]) + sessions((9, 4, Y, 6, None, 2)),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "neutral back and pain at 3/10",
    ),
    (
        "pain above 5 regresses",
        calm([0, 2]) + sessions((4, 6, Y, 6, None, 2)),
        6,
        False,
        True,
        Decision.REGRESS,
        True,
        "6/10",
    ),
    (
        "pain exactly 5 is acceptable, holds",
        calm([0, 2]) + sessions((4, 5, Y, 6, None, 2)),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "Still needed",
    ),
    (
        "morning rise of 2 holds with lower dose",
        calm([0, 2]) + sessions((4, 2, Y, 6, 5, 3)),
        6,
        False,
        True,
        Decision.HOLD,
        True,
        "morning",
    ),
    (
        "comfort down 2 from phase start blocks advance",
        calm([0, 2, 4, 6, 8, 9], comfort=4),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "deadlift comfort",
    ),
    (
        "comfort down 1 does not block",
        calm([0, 2, 4, 6, 8, 9], comfort=5),
        6,
        False,
        True,
        Decision.ADVANCE,
        False,
        "ready",
    ),
    (
        "did not lift does not block",
        sessions(*[(d, 2, Y, None, 2, 2) for d in [0, 2, 4, 6, 8, 9]]),
        6,
        False,
        True,
        Decision.ADVANCE,
        False,
        "ready",
    ),
    (
        "pause freezes progression",
        calm([0, 2, 4, 6, 8, 9]),
        6,
        True,
        True,
        Decision.PAUSE,
        False,
        "paused",
    ),
    (
        "last phase holds as maintenance",
        calm([0, 2, 4, 6, 8, 9]),
        6,
        False,
        False,
        Decision.HOLD,
        False,
        "last phase",
    ),
    (
        "morning rise of 1 is not settled: no advance, no lighter dose",
        calm([0, 2, 4, 6, 8]) + sessions((9, 2, Y, 6, 4, 3)),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "in a row",
    ),
    (
        "latest morning not known yet: advance waits for it",
        calm([0, 2, 4, 6, 8]) + sessions((9, 2, Y, 6, None, 2)),
        6,
        False,
        True,
        Decision.HOLD,
        False,
        "I'll ask tomorrow",
    ),
    (
        "an earlier morning never asked does not block",
        sessions((0, 2, Y, 6, None, 2)) + calm([2, 4, 6, 8, 9]),
        6,
        False,
        True,
        Decision.ADVANCE,
        False,
        "ready",
    ),
]


@pytest.mark.parametrize(
    ("history", "start_comfort", "paused", "has_next", "expected", "lower", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision(
    history: list[Session],
    start_comfort: int | None,
    paused: bool,
    has_next: bool,
    expected: Decision,
    lower: bool,
    words: str,
) -> None:
    verdict = decide(
        sessions=history,
        gates=Gates(),
        phase_start_comfort=start_comfort,
        paused=paused,
        has_next_phase=has_next,
    )
    assert verdict.decision is expected
    assert verdict.lower_dose is lower
    assert words in verdict.reason


def test_gates_from_content_change_the_outcome() -> None:
    history = calm([0, 1, 2])
    strict = decide(sessions=history, gates=Gates(), phase_start_comfort=6)
    lenient = decide(
        sessions=history, gates=Gates(min_sessions=3, min_days=3), phase_start_comfort=6
    )
    assert strict.decision is Decision.HOLD
    assert lenient.decision is Decision.ADVANCE


def test_regress_threshold_is_tunable() -> None:
    history = sessions((0, 4, Y, 6, None, 2))
    gates = Gates(max_pain_to_advance=2, regress_pain_above=3)
    assert decide(sessions=history, gates=gates, phase_start_comfort=6).decision is Decision.REGRESS


@pytest.mark.parametrize(
    ("pain", "previous", "jump"),
    [(6, 3, True), (5, 3, False), (9, None, False), (3, 0, True), (0, 10, False)],
)
def test_red_flag_pain_jump(pain: int, previous: int | None, jump: bool) -> None:
    assert red_flag_pain_jump(pain, previous, Gates()) is jump
