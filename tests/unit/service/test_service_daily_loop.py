"""Onboarding, the routine, the check-in, the quick check-in and the next morning's question,
through the real coach on fakes of the storage port (no database)."""

from __future__ import annotations

from bot.core.messages import Platform
from bot.service.coach import Coach
from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import FakeStorage, Tables


async def test_onboarding_stores_the_baseline_and_the_reminder(chat: Chat, tables: Tables) -> None:
    await chat.say("/start")
    assert "not a diagnosis" in chat.text
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("4")
    await chat.press("I don't deadlift")
    await chat.press("Skip")  # no activities of their own
    await chat.say("new york")
    assert "America/New_York" in chat.text
    await chat.say("7:30pm")
    [person] = tables.people
    assert person.onboarded and person.baseline_pain == 4 and person.baseline_comfort is None
    assert (person.timezone, person.remind_time, person.remind_enabled) == (
        "America/New_York",
        "19:30",
        True,
    )
    assert person.next_fire_utc is not None
    [identity] = tables.identities
    assert (identity.platform, identity.user_ref, identity.person_id) == (
        "console",
        "u1",
        person.id,
    )


async def test_each_message_runs_in_one_committed_unit_of_work(
    chat: Chat, storage: FakeStorage
) -> None:
    await chat.say("/help")
    await chat.say("/privacy")
    assert len(storage.units) == 2 and all(unit.committed for unit in storage.units)


async def test_a_commands_before_start_asks_to_set_up_first(chat: Chat, tables: Tables) -> None:
    await chat.say("/routine")
    assert "set up first" in chat.text
    assert tables.checkins == []


async def test_routine_shows_the_phase_and_remembers_it_was_shown(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    await chat.say("/routine")
    assert "Phase 1 of 3" in chat.text and "90-90 active hamstring stretch" in chat.text
    assert tables.people[0].pending is not None
    assert tables.people[0].pending["flow"] == "rt"


async def test_the_routine_in_a_group_is_the_starter_one(coach: Coach) -> None:
    group = Chat(coach, user="u2", chat="g1", private=False, group="g1")
    await group.say("/routine")
    assert "Phase 1" in group.text and "Your own phase and dose" in group.text
    assert not group.last[0].private


async def test_checkin_by_buttons_logs_it_and_decides(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/routine")
    await chat.press("Done - check in")
    await chat.press("2")
    await chat.press("No")
    await chat.press("Yes")
    await chat.press("7")
    assert "Logged: pain 2/10" in chat.text and "Staying in Phase 1" in chat.text
    [checkin] = tables.checkins
    assert (checkin.pain_during, checkin.leg_symptoms, checkin.neutral, checkin.comfort) == (
        2,
        False,
        "yes",
        7,
    )
    assert checkin.completed_at is not None and not checkin.paused
    assert [d.decision for d in tables.decisions] == ["hold"]
    assert tables.people[0].pending is None


async def test_a_bare_number_after_the_routine_is_the_pain_score(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    await chat.say("/routine")
    await chat.say("3")
    assert "logged 3/10" in chat.text
    assert tables.checkins[0].pain_during == 3


async def test_quick_checkin_counts_once_when_sent_twice(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/checkin 3 yes 7")
    assert "Logged: pain 3/10, back neutral: yes, deadlift comfort: 7" in chat.text
    await chat.say("/checkin 3 yes 7")
    assert "counts once" in chat.text
    assert len(tables.checkins) == 1 and len(tables.decisions) == 1


async def test_bad_quick_checkin_changes_nothing(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/checkin 11 yes 3")
    assert "above the scale" in chat.text
    assert tables.checkins == []


async def test_checkin_cancels_todays_unsent_reminder_but_not_the_weekly_summary(
    chat: Chat, tables: Tables
) -> None:
    await chat.onboard()
    person_id = tables.people[0].id
    for kind in ("reminder", "weekly"):
        tables.outbox.append(
            {"person_id": person_id, "kind": kind, "state": "pending", "to_channel": False}
        )
    await chat.say("/checkin 2 yes 7")
    assert [row["state"] for row in tables.outbox] == ["dropped", "pending"]


async def test_the_morning_question_comes_first_the_next_day(
    chat: Chat, tables: Tables, clock: FakeClock
) -> None:
    await chat.onboard(pain=3)
    await chat.say("/checkin 2 yes 7")
    clock.advance(days=1)
    await chat.say("/routine")
    assert "this morning" in chat.text
    assert tables.people[0].morning_asked_on is not None
    await chat.press("2")
    assert "2/10 noted" in chat.text
    assert "90-90 active hamstring stretch" in chat.text  # the routine carries on
    assert tables.checkins[0].morning_pain == 2


async def test_two_platforms_are_two_people_until_linked(coach: Coach, tables: Tables) -> None:
    await Chat(coach, user="1", platform=Platform.TELEGRAM).say("/help")
    await Chat(coach, user="1", platform=Platform.DISCORD).say("/help")
    assert len(tables.people) == 2
