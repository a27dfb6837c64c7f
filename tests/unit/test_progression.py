"""The progression rule, driven by tables of check-in sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.content import Gates
from bot.core.progression import Decision, Neutral, Session, Watch, decide, red_flag_pain_jump

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


# Rules 3a, 3b, the entry test and unknown mornings ---------------------------------------------

READY = calm([0, 2, 4, 6, 8, 9])  # everything met for the next phase


@pytest.mark.parametrize(
    ("name", "history", "watch", "expected", "lower", "screen", "review", "test", "words"),
    [
        (
            "an unanswered morning in the window is not settled",
            calm([0, 2, 4, 6]) + sessions((8, 2, Y, 6, None, 2), (9, 2, Y, 6, 2, 2)),
            Watch(),
            Decision.HOLD,
            False,
            False,
            False,
            None,
            "I never got an answer",
        ),
        (
            "creeping morning pain 2 above the baseline holds with a lighter dose",
            READY,
            Watch(references=(2,), latest_morning=4),
            Decision.HOLD,
            True,
            False,
            False,
            None,
            "creeping up",
        ),
        (
            "3 above the phase start asks the screen again",
            READY,
            Watch(references=(3, 1), latest_morning=4),
            Decision.HOLD,
            True,
            True,
            False,
            None,
            "3 points above",
        ),
        (
            "1 above does not hold",
            READY,
            Watch(references=(2,), latest_morning=3),
            Decision.ADVANCE,
            False,
            False,
            False,
            None,
            "ready",
        ),
        (
            "leg symptoms on one of the last 3 sessions hold",
            calm([0, 2, 4, 6, 8]) + [replace(calm([9])[0], leg=True)],
            Watch(leg_sessions=1),
            Decision.HOLD,
            False,
            False,
            False,
            None,
            "down a leg",
        ),
        (
            "leg symptoms on 3 sessions within 14 days advise a clinician review",
            READY,
            Watch(leg_sessions=3),
            Decision.HOLD,
            False,
            False,
            True,
            None,
            "GP or physiotherapist",
        ),
        (
            "a review not yet confirmed holds",
            READY,
            Watch(review_pending=True),
            Decision.HOLD,
            False,
            False,
            False,
            None,
            "until you tell me you were seen",
        ),
        (
            "the entry test is offered when all else is met",
            READY,
            Watch(entry_test="standing-neutral"),
            Decision.HOLD,
            False,
            False,
            False,
            "standing-neutral",
            "self-test",
        ),
        (
            "a test failed after the latest session waits for the next one",
            READY,
            Watch(entry_test="standing-neutral", test_failed_recently=True),
            Decision.HOLD,
            False,
            False,
            False,
            None,
            "after your next session",
        ),
        (
            "an entry test is not offered before the gates are met",
            calm([0, 2]),
            Watch(entry_test="standing-neutral"),
            Decision.HOLD,
            False,
            False,
            False,
            None,
            "more sessions",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_watch_rules(
    name: str,
    history: list[Session],
    watch: Watch,
    expected: Decision,
    lower: bool,
    screen: bool,
    review: bool,
    test: str | None,
    words: str,
) -> None:
    verdict = decide(sessions=history, gates=Gates(), phase_start_comfort=6, watch=watch)
    assert verdict.decision is expected, verdict
    assert (verdict.lower_dose, verdict.screen, verdict.review, verdict.test) == (
        lower,
        screen,
        review,
        test,
    )
    assert words in verdict.reason


def test_creep_thresholds_come_from_the_gates() -> None:
    watch = Watch(references=(2,), latest_morning=4)
    lenient = Gates(creep_to_hold=3, creep_to_screen=4)
    assert decide(sessions=READY, gates=lenient, phase_start_comfort=6, watch=watch).decision is (
        Decision.ADVANCE
    )


def test_the_morning_decision_does_not_regress_twice() -> None:
    """Rule 2 is applied when the check-in is logged; the next morning does not step back again."""
    history = calm([0, 2]) + sessions((4, 6, Y, 6, 2, 2))
    at_checkin = decide(sessions=history, gates=Gates(), phase_start_comfort=6)
    next_morning = decide(sessions=history, gates=Gates(), phase_start_comfort=6, morning=True)
    assert at_checkin.decision is Decision.REGRESS
    assert next_morning.decision is Decision.HOLD


def test_the_last_phase_completes_the_program() -> None:
    verdict = decide(sessions=READY, gates=Gates(), phase_start_comfort=6, has_next_phase=False)
    assert verdict.finished and "program is complete" in verdict.reason
    short = decide(sessions=calm([0]), gates=Gates(), phase_start_comfort=6, has_next_phase=False)
    assert not short.finished and "to complete the program" in short.reason
