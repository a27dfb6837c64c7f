"""Red flags, holds, pauses and bad days on fakes of the storage port."""

from __future__ import annotations

from datetime import timedelta

from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import Tables


async def test_a_red_flag_at_onboarding_holds_until_a_clinician_clears(
    chat: Chat, tables: Tables
) -> None:
    await chat.say("/start")
    await chat.press("Yes, at least one")
    assert "emergency department now" in chat.text
    person = tables.people[0]
    assert person.safety_hold == "emergency"
    [hold] = tables.pauses
    assert hold.kind == "emergency" and hold.ended_at is None
    await chat.say("/checkin 1 yes 5")
    assert "on hold" in chat.text and tables.checkins == []
    await chat.press("A clinician has cleared me")
    assert person.safety_hold is None and hold.ended_at is not None
    assert "back pain" in chat.text  # onboarding carries on


async def test_emergency_words_stop_at_once_and_drop_queued_reminders(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    person = tables.people[0]
    tables.outbox.append(
        {"person_id": person.id, "kind": "reminder", "state": "pending", "to_channel": False}
    )
    await chat.say("I peed myself a bit")
    assert "emergency department" in chat.text
    assert person.safety_hold == "emergency"
    assert [d.decision for d in tables.decisions] == ["stop"]
    assert "described in a message" in tables.decisions[0].reason
    assert tables.outbox[0]["state"] == "dropped"


async def test_leg_words_in_a_checkin_ask_the_screen_then_return(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("3")
    await chat.say("my leg is numb")
    assert "safety check" in chat.text and tables.people[0].safety_hold is None
    await chat.press("None of these")
    await chat.press("None of these")
    assert "nothing there that needs urgent care" in chat.text
    assert "go down a leg today" in chat.text  # the check-in's question again


async def test_leg_symptoms_in_a_checkin_rescreen_and_a_yes_stops(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("4")
    await chat.press("Yes")
    await chat.press("Yes, at least one")
    assert tables.people[0].safety_hold == "emergency"
    assert tables.checkins[0].completed_at is None  # a stopped session is not a session done


async def test_pause_and_resume(chat: Chat, tables: Tables, clock: FakeClock) -> None:
    await chat.onboard()
    person = tables.people[0]
    await chat.say("/pause 3")
    assert "Paused until" in chat.text
    assert person.paused_until == clock.now + timedelta(days=3)
    [pause] = tables.pauses
    assert pause.kind == "pause" and pause.ended_at == person.paused_until
    await chat.say("/checkin 2 yes 7")
    assert tables.checkins[0].paused  # logged while paused: never counted
    await chat.say("/resume")
    assert "Welcome back" in chat.text
    assert person.paused_until is None and pause.ended_at == clock.now


async def test_pause_out_of_range_changes_nothing(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/pause 91")
    assert "A number from 1 to 90" in chat.text
    assert tables.people[0].paused_until is None and tables.pauses == []


async def test_bad_day_words_offer_a_lighter_routine(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("my back hurts today")
    assert "Flare-ups" in chat.text
    await chat.press("Lighter routine today")
    assert tables.people[0].lighter_dose
    assert "Lighter dose today" in chat.text
