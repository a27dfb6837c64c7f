"""Words people type instead of commands, and the loose ends of the daily loop a user hits:
red flags named in free words at any point, "done" and bare numbers after a routine, a bad day,
replies that say what to type, a second /start without reminders, the morning question asked in
the evening, /remind on hold, the button to the first routine, maintenance, the clinician
review, and /export of what the loop stores."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.core.actions import Action
from bot.service.coach import Coach
from storage.models import CheckIn, OutboxMessage, Person
from tests.chat import Chat, FakeClock


async def person(coach: Coach) -> Person:
    async with coach.sessions() as session:
        found = (await session.scalars(select(Person))).first()
        assert found is not None
        return found


async def count(coach: Coach, model: type[CheckIn] | type[OutboxMessage]) -> int:
    async with coach.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("I can't feel my inner thighs", "urgent"),
        ("i peed myself a bit", "urgent"),
        ("I couldn't hold it in this morning", "urgent"),
        ("my leg is numb", "leg"),
        ("I have a history of cancer", "clinician"),
    ],
)
async def test_red_flag_words_in_the_middle_of_a_check_in(
    coach_on: Coach, clock: FakeClock, words: str, kind: str
) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("2")  # pain during; the leg question is open
    await chat.say(words)
    if kind == "urgent":
        assert "emergency department" in chat.text
        assert (await person(coach_on)).safety_hold == "emergency"
        await chat.say("/routine")
        assert "on hold after a safety answer" in chat.text
        assert await count(coach_on, OutboxMessage) == 0
        return
    # Not an emergency on its own: the screen, then the question it interrupted.
    assert "safety check" in chat.text and (await person(coach_on)).safety_hold is None
    # Leg symptoms get both lists; a clinician-first sign gets its own list.
    for _ in range(2 if kind == "leg" else 1):
        await chat.press("None of these")
    assert "nothing there that needs urgent care" in chat.text
    assert "go down a leg today" in chat.text  # back where the person was
    await chat.press("Yes")
    assert "safety check" in chat.text  # leg symptoms in the check-in screen as always


async def test_red_flag_words_during_onboarding_and_a_yes_in_the_screen(
    coach_on: Coach,
) -> None:
    chat = Chat(coach_on)
    await chat.say("/start")
    await chat.say("my bum is numb")
    assert "emergency department" in chat.text
    held = await person(coach_on)
    assert held.safety_hold == "emergency" and not held.onboarded

    other = Chat(coach_on, user="u2")
    await other.onboard()
    await other.say("tingling down my left leg")
    await other.press("Yes, at least one")
    assert "emergency department" in other.text


@pytest.mark.parametrize(
    "words",
    ["my hamstrings feel tight", "I feel great today", "numbers are hard", "no numbness at all"],
)
async def test_ordinary_words_are_not_red_flags_and_say_what_to_type(
    coach: Coach, words: str
) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say(words)
    assert (await person(coach)).safety_hold is None
    assert "safety check" not in chat.text and "emergency" not in chat.text
    assert "/routine" in chat.text and "/help" in chat.text


async def test_done_and_a_bare_number_after_the_routine_open_the_check_in(
    coach: Coach, clock: FakeClock
) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("4")  # no routine yet: not taken as a pain score
    assert "not sure what 4 refers to" in chat.text
    await chat.say("/routine")
    await chat.say("3")
    assert "logged 3/10 as your pain during the routine" in chat.text
    assert "down a leg today" in chat.text
    await chat.press("No")
    await chat.press("Yes")
    await chat.press("Didn't lift")
    assert "Logged: pain 3/10" in chat.text
    await chat.say("done")
    assert "already checked in today" in chat.text
    assert await count(coach, CheckIn) == 1

    clock.advance(days=1)
    await chat.say("I did it")  # the morning question comes first, then the check-in
    assert "this morning" in chat.text
    await chat.press("2")
    assert "DURING the routine" in chat.text


async def test_a_bad_day_offers_a_lighter_routine_a_pause_or_a_check_in(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("my back hurts today")
    assert "Flare-ups" in chat.text
    assert [b.label for r in chat.last for b in r.all_buttons()] == [
        "Lighter routine today",
        "Pause 3 days",
        "Check in",
    ]
    await chat.press("Lighter routine today")
    assert "Lighter dose today" in chat.text and (await person(coach)).lighter_dose
    await chat.say("bad day")
    await chat.press("Pause 3 days")
    assert "Paused until" in chat.text


async def test_a_second_start_with_no_reminders_turns_them_off(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    assert (await person(coach)).remind_enabled
    await chat.say("/start")
    for _ in range(2):
        await chat.press("None of these")
    await chat.press("3")
    await chat.say("6")
    await chat.say("done")  # no activities of their own
    await chat.say("Berlin")
    await chat.press("No reminders")
    assert "Settings updated" in chat.text and "reminders are off" in chat.text
    saved = await person(coach)
    assert not saved.remind_enabled and saved.next_fire_utc is None


async def test_onboarding_ends_with_a_button_to_the_first_routine(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.press("Show today's routine")
    assert "Phase 1 of 3" in chat.text
    forged = Action("rt", "open", "1", (await person(coach)).id + 1).encode()
    await chat.press_payload(forged)
    assert "someone else's" in chat.text


async def test_the_morning_question_fits_the_time_of_day(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 2 yes 7")
    clock.advance(hours=34)  # from Monday 08:00 UTC to Tuesday 18:00 UTC = 19:00 Berlin
    await chat.say("/routine")
    assert "Good morning" not in chat.text
    assert "when you got up this morning" in chat.text and "Good evening" in chat.text


async def test_remind_during_a_hold_says_nothing_will_be_sent(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("I wet myself")
    await chat.say("/remind 08:00")
    assert "Nothing will be sent while your program is on hold" in chat.text
    other = Chat(coach, user="u2")
    await other.onboard()
    await other.say("/pause 5")
    await other.say("/remind 08:00")
    assert "Nothing will be sent while you're paused" in other.text


async def test_clinician_review_button_only_when_one_is_waiting(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    me = (await person(coach)).id
    await chat.press_payload(Action("rv", "ok", "yes", me).encode())
    assert "Nothing is waiting" in chat.text
    await chat.press_payload(Action("rv", "ok", "yes", me + 7).encode())
    assert "someone else's" in chat.text


async def test_export_has_what_the_daily_loop_stores(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/pause 2")
    await chat.say("/checkin 2 yes 7")
    assert "does not move your phase" in chat.text
    await chat.say("/progress")
    assert "1 logged while paused, not counted" in chat.text
    await chat.say("/export")
    data = json.loads(chat.last[0].text)
    assert data["checkins"][0]["logged_while_paused"] is True
    assert data["pauses"][0]["kind"] == "pause" and data["pauses"][0]["until"]
    assert data["self_tests"] == []
