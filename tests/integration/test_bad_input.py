"""Inputs that used to crash the coach or get an unclear answer, on SQLite and PostgreSQL:
each gets a clear answer and changes no row."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from bot.core.actions import Action
from bot.service import repeats
from bot.service.coach import Coach
from storage.models import CheckIn, DecisionRecord, Person
from tests.chat import Chat, FakeClock
from tests.snapshot import changed, snapshot

# Each passed str.isdigit() and then crashed int() or timedelta() ("something went wrong").
CRASHED = [
    ("/pause ²", "1 to 90"),
    ("/pause " + "9" * 20, "1 to 90"),
    ("/pause " + "٩" * 20, "1 to 90"),
    ("/snooze ²", "Snooze for how long"),
    ("/snooze " + "9" * 20, "5 minutes to 12 hours"),
    ("/snooze " + "٩" * 20, "5 minutes to 12 hours"),
    ("/remind ²:30", "not a time of day"),
    ("/remind evening ¹⁹:00", "not a time of day"),
    ("/checkin ² yes 7", "whole number from 0 to 10"),
    ("/checkin 3 yes " + "9" * 20, "whole number from 0 to 10"),
]


async def count(coach: Coach, model: type) -> int:
    async with coach.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(("typed", "answer"), CRASHED)
async def test_numbers_that_crashed_get_a_clear_answer(
    coach_on: Coach, typed: str, answer: str
) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    before = await snapshot(coach_on)
    replies = await chat.say(typed)
    assert [answer in reply.text for reply in replies] == [True], chat.text
    assert "invalid literal" not in chat.text
    assert changed(before, await snapshot(coach_on)) == {}


@pytest.mark.parametrize("typed", ["²", "12", "٣٣", "9" * 20, "٩" * 20, "1/10²"])
async def test_odd_numbers_at_a_score_question_re_ask(coach: Coach, typed: str) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")  # now: baseline back pain 0-10
    before = await snapshot(coach)
    await chat.say(typed)
    assert "0 to 10" in chat.text
    assert changed(before, await snapshot(coach)) == {}
    await chat.say("٣")  # a digit in another script is the number
    assert (await _person(coach)).baseline_pain == 3


@pytest.mark.parametrize(
    "payload",
    [
        "v1:rt:done:t99999999999999999999999:0",  # a team id beyond any database id
        "v1:ci:pain:3:4294967296",  # a ref beyond a 32-bit id
        "v1:rm:later:99999999999999999999:1",  # a snooze of 10^20 minutes
    ],
)
async def test_tampered_numbers_in_buttons_do_not_crash(coach_on: Coach, payload: str) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    replies = await chat.press_payload(payload)
    assert replies and "something went wrong" not in chat.text.lower()
    saved = await _person(coach_on)
    assert "team" not in (saved.pending or {})


async def test_an_unknown_exercise_lists_the_known_ones(coach: Coach) -> None:
    chat = Chat(coach)
    for typed in ("/exercise ../../etc/passwd", "/exercise 🦵🦵", "/exercise ²"):
        await chat.say(typed)
        assert "Did you mean: ?" not in chat.text
        assert "I know: " in chat.text and "Active straight leg raise" in chat.text
    await chat.say("/exercise bridg")
    assert "Did you mean: Glute bridge?" in chat.text


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/remind 07:30 funday", "'funday' is not a day"),
        ("/remind 07:30 mon,wen", "'wen' is not a day"),
        ("/remind 07:30 Europe/Berlin funday", "'funday' is not a day"),
        ("/remind 07:30 Berlim", "don't know the time zone"),  # a mistyped zone stays one
    ],
)
async def test_a_bad_day_list_is_called_a_day_problem(
    coach: Coach, typed: str, answer: str
) -> None:
    chat = Chat(coach)
    await chat.onboard()
    before = await snapshot(coach)
    await chat.say(typed)
    assert answer in chat.text
    assert changed(before, await snapshot(coach)) == {}


# ---------------------------------------------------------------- a quick check-in sent twice


async def test_a_quick_checkin_sent_twice_at_once_is_one_session(coach_on: Coach) -> None:
    chat, again = Chat(coach_on), Chat(coach_on)
    await chat.onboard()
    first, second = await asyncio.gather(
        chat.say("/checkin 3 yes 7"), again.say("/checkin 3 yes 7")
    )
    texts = sorted(reply.text for reply in first + second)
    assert sum("Logged: pain 3/10" in text for text in texts) == 1, texts
    assert sum("a moment ago" in text for text in texts) == 1, texts
    assert await count(coach_on, CheckIn) == 1
    assert await count(coach_on, DecisionRecord) == 1


async def test_a_repeat_counts_once_only_within_the_window(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 3 yes 7")
    clock.advance(seconds=90)
    before = await snapshot(coach)
    await chat.say("/checkin 3 yes 7")
    assert "a moment ago" in chat.text
    assert changed(before, await snapshot(coach)) == {}
    await chat.say("/checkin 3 yes 6")  # other answers: another session
    assert "Logged: pain 3/10" in chat.text
    clock.advance(minutes=3)
    await chat.say("/checkin 3 yes 6")  # same answers, later on: a second session that day
    assert "Logged: pain 3/10" in chat.text
    assert await count(coach, CheckIn) == 3


async def test_a_repeat_of_a_quick_checkin_waiting_for_its_safety_answer(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 3 yes 7 leg")
    assert "safety check" in chat.text
    pending = (await _person(coach)).pending
    before = await snapshot(coach)
    await chat.say("/checkin 3 yes 7 leg")
    assert "Do you have any of these right now" in chat.text  # the same question again
    assert changed(before, await snapshot(coach)) == {}
    assert (await _person(coach)).pending == pending
    await chat.press("None of these")
    await chat.press("None of these")
    assert "Logged: pain 3/10" in chat.text
    assert await count(coach, CheckIn) == 1


async def test_on_postgres_the_second_copy_waits_for_the_first(
    postgres_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Really concurrent: the first copy holds its transaction open while the second starts;
    the second waits on the person's row lock, then sees the first copy's check-in."""
    from bot.bootstrap import build_coach
    from bot.config import SOURCE_CONTENT, Settings

    coach = await build_coach(
        Settings(database_url=postgres_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    try:
        chat, again = Chat(coach), Chat(coach)
        await chat.onboard()
        gate = asyncio.Event()
        entered = asyncio.Event()
        original = repeats.earlier_copy
        calls = 0

        async def held_open(turn, values):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            found = await original(turn, values)
            if calls == 1:
                entered.set()
                await gate.wait()  # the first copy's transaction stays open, its lock held
            return found

        monkeypatch.setattr(repeats, "earlier_copy", held_open)
        first = asyncio.create_task(chat.say("/checkin 3 yes 7"))
        await asyncio.wait_for(entered.wait(), timeout=30)  # a deadline, not a measurement
        second = asyncio.create_task(again.say("/checkin 3 yes 7"))
        assert await _waiting_on_a_lock(coach), "the second copy did not wait for the first"
        assert calls == 1
        gate.set()
        texts = [reply.text for reply in await first + await second]
        assert calls == 2
        assert sum("Logged: pain 3/10" in text for text in texts) == 1, texts
        assert sum("a moment ago" in text for text in texts) == 1, texts
        assert await count(coach, CheckIn) == 1
    finally:
        await coach.close()


async def _waiting_on_a_lock(coach: Coach) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    assert coach.engine is not None
    for _ in range(500):
        async with coach.engine.connect() as connection:
            if await connection.scalar(query):
                return True
        await asyncio.sleep(0.01)
    return False


async def _person(coach: Coach) -> Person:
    async with coach.sessions() as session:
        return (await session.scalars(select(Person))).one()


def test_the_button_payload_for_a_ref_stays_in_range() -> None:
    with pytest.raises(ValueError):
        Action("ci", "pain", "3", 2**31).encode()
