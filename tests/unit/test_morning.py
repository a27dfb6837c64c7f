"""When the next morning's pain question is due (pure), and how the scheduler uses the same
rule for the reminder's question (`bot.scheduler.decide.settle`, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from bot.core.morning import LastSession, morning_due
from bot.core.reminder_plan import Fire, Kind
from bot.scheduler.decide import DONE, SEND, Claim, settle
from bot.service.morning_question import MORNING_WINDOW_DAYS
from storage.claims import RecentCheckins

TODAY = date(2027, 1, 5)


def session(days_ago: int, *, known: bool = False, counted: bool = True) -> LastSession:
    return LastSession(TODAY - timedelta(days=days_ago), morning_known=known, counted=counted)


def test_due_the_day_after_a_session() -> None:
    assert morning_due(session(1), TODAY, MORNING_WINDOW_DAYS)


def test_not_due_without_a_session_or_on_its_own_day() -> None:
    assert not morning_due(None, TODAY, MORNING_WINDOW_DAYS)
    assert not morning_due(session(0), TODAY, MORNING_WINDOW_DAYS)
    assert not morning_due(session(-1), TODAY, MORNING_WINDOW_DAYS)  # a later local date


def test_not_due_once_answered_or_for_a_check_in_stopped_by_a_red_flag() -> None:
    assert not morning_due(session(1, known=True), TODAY, MORNING_WINDOW_DAYS)
    assert not morning_due(session(1, counted=False), TODAY, MORNING_WINDOW_DAYS)


def test_the_window_ends_the_question() -> None:
    assert morning_due(session(7), TODAY, 7)
    assert not morning_due(session(8), TODAY, 7)
    assert morning_due(session(2), TODAY, 2)
    assert not morning_due(session(3), TODAY, 2)


@given(
    days_ago=st.integers(-3, 20),
    known=st.booleans(),
    counted=st.booleans(),
    window=st.integers(1, 10),
)
def test_due_exactly_for_an_unanswered_session_inside_the_window(
    days_ago: int, known: bool, counted: bool, window: int
) -> None:
    last = session(days_ago, known=known, counted=counted)
    expected = counted and not known and 1 <= days_ago <= window
    assert morning_due(last, TODAY, window) is expected


# The reminder's question: the same rule over two days, and only in place of itself or the
# routine's marker, never in an evening nudge.

AT = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)


def claim(
    person_id: int, kind: Kind = Kind.REMINDER, pending: dict[str, object] | None = None
) -> Claim:
    row = SimpleNamespace(id=person_id, pending=pending)
    return Claim(row, Fire(AT, kind, TODAY), {}, SEND, ("console", "sam"))


def recent(last_days_ago: int, *, known: bool = False, checkin_id: int = 41) -> RecentCheckins:
    day = TODAY - timedelta(days=last_days_ago)
    return RecentCheckins(frozenset({day}), checkin_id, day, known, True)


def test_a_reminder_asks_about_yesterday_and_names_the_check_in() -> None:
    claims = [claim(1)]
    settle(claims, {1: recent(1, checkin_id=41)})
    assert (claims[0].outcome, claims[0].morning) == (SEND, 41)


def test_a_reminder_does_not_ask_past_two_days_or_once_answered() -> None:
    claims = [claim(1), claim(2), claim(3)]
    settle(claims, {1: recent(3), 2: recent(1, known=True)})
    assert [c.morning for c in claims] == [None, None, None]
    assert all(c.outcome == SEND for c in claims)


def test_a_check_in_today_means_no_reminder() -> None:
    claims = [claim(1)]
    settle(claims, {1: recent(0)})
    assert (claims[0].outcome, claims[0].morning) == (DONE, None)


def test_the_evening_nudge_and_an_open_question_keep_the_morning_question_out() -> None:
    open_checkin = {"flow": "ci", "step": "pain", "ref": 9}
    claims = [
        claim(1, Kind.EVENING),
        claim(2, pending=open_checkin),
        claim(3, pending={"flow": "rt", "step": "done", "ref": 0}),
        claim(4, pending={"flow": "am", "step": "pain", "ref": 40}),
    ]
    settle(claims, {n: recent(1) for n in (1, 2, 3, 4)})
    assert [c.morning for c in claims] == [None, None, 41, 41]
