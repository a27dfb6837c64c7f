"""The whole conversation through the real service, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.core.actions import Action
from bot.service.coach import Coach
from storage.models import CheckIn, DecisionRecord, Identity, Person
from tests.chat import Chat, FakeClock


@pytest.fixture
def coach(coach_on: Coach) -> Coach:
    """Every conversation test here runs on SQLite and on PostgreSQL."""
    return coach_on


async def count(coach: Coach, model: type) -> int:
    async with coach.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def person(coach: Coach) -> Person:
    async with coach.sessions() as session:
        found = (await session.scalars(select(Person))).one()
        return found


async def checkin_by_buttons(chat: Chat, pain: int = 2, flat: str = "Yes", comfort: str = "7"):
    await chat.say("/routine")
    await chat.press("Done - check in")
    await chat.press(str(pain))
    await chat.press("No")
    await chat.press(flat)
    return await chat.press(comfort)


async def test_onboarding_routine_and_checkin(coach_on: Coach) -> None:
    chat = Chat(coach_on)
    await chat.say("/start")
    assert "not a diagnosis" in chat.text
    assert "saddle" in chat.text
    await chat.press("None of these")
    assert "cancer" in chat.text
    await chat.press("None of these")
    await chat.press("4")
    await chat.press("I don't deadlift")
    await chat.press("Skip")  # no activities of their own
    await chat.say("new york")
    assert "America/New_York" in chat.text
    await chat.say("7:30pm")
    assert "19:30" in chat.text
    saved = await person(coach_on)
    assert (saved.baseline_pain, saved.baseline_comfort, saved.timezone) == (
        4,
        None,
        "America/New_York",
    )
    assert saved.next_fire_utc is not None and saved.remind_enabled

    await chat.say("/routine")
    assert "Phase 1 of 3" in chat.text
    assert "90-90 active hamstring stretch" in chat.text
    replies = await checkin_by_buttons(chat, pain=2, flat="Yes", comfort="7")
    assert "Logged: pain 2/10" in chat.text
    assert "Staying in Phase 1" in replies[-1].text
    assert all(reply.private for reply in replies)
    assert await count(coach_on, DecisionRecord) == 1


async def test_quick_checkin(coach_on: Coach) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    await chat.say("/checkin 3 yes 7")
    assert "Logged: pain 3/10, back neutral: yes, deadlift comfort: 7" in chat.text
    async with coach_on.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert (row.pain_during, row.neutral, row.comfort, row.completed_at is not None) == (
        3,
        "yes",
        7,
        True,
    )


BAD_ANSWERS = ["11", "-1", "three", "", "x" * 5000, "\x00\x1b[2J", "7.5"]


@pytest.mark.parametrize("bad", BAD_ANSWERS)
async def test_bad_answers_re_ask_and_change_nothing(coach: Coach, bad: str) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("3")
    await chat.press("No")
    await chat.press("Yes")  # flat back; now the comfort question is open
    before = (await person(coach)).pending
    replies = await chat.say(bad)
    assert len(replies) == 1
    assert "0 to 10" in replies[0].text or "too long" in replies[0].text
    assert (await person(coach)).pending == before
    async with coach.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert row.comfort is None and row.completed_at is None
    await chat.say("6")
    assert "deadlift comfort: 6" in chat.text


async def test_quick_checkin_out_of_range_changes_nothing(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 11 yes 3")
    assert "above the scale" in chat.text
    await chat.say("/checkin 3 maybe 3")
    assert "yes, mostly or no" in chat.text
    assert await count(coach, CheckIn) == 0


async def test_unknown_command_gets_help(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/frobnicate")
    assert "don't know that command" in chat.text
    assert "/routine" in chat.text


async def test_unknown_time_zone_gets_suggestions(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("3")
    await chat.press("5")
    await chat.press("Skip")
    await chat.say("Berln")
    assert "Europe/Berlin" in chat.text and "don't know the time zone" in chat.text
    assert (await person(coach)).timezone is None
    await chat.say("Europe/Berlin")
    assert "Got it: Europe/Berlin" in chat.text


async def test_forged_and_foreign_buttons_are_refused(coach: Coach) -> None:
    alice, bob = Chat(coach, user="alice"), Chat(coach, user="bob")
    await alice.onboard()
    await bob.onboard()
    await alice.say("/checkin")
    alices_button = alice.button("3").action

    refused = await bob.press_payload(alices_button)
    assert refused[0].alert and "someone else" in refused[0].text
    for forged in ["v1:ci:pain:99:1", "garbage", "v1:ci:pain:7:" + "1" * 40, "v9:x:y:z:1"]:
        replies = await bob.press_payload(forged)
        assert replies[0].alert
    # Alice's check-in is untouched and still waits for her answer.
    async with coach.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert row.pain_during is None
    await alice.press("3")
    assert "leg" in alice.text


async def test_stale_button_is_refused(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin")
    old = chat.button("2").action
    await chat.press("2")
    replies = await chat.press_payload(old)
    assert replies[0].alert and "already been answered" in replies[0].text
    async with coach.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert row.pain_during == 2 and row.leg_symptoms is None


async def test_delete_needs_confirmation(coach_on: Coach) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    await chat.say("/checkin 3 yes 7")
    await chat.say("/delete")
    await chat.say("yes please")
    assert "Nothing was deleted" in chat.text
    assert await count(coach_on, CheckIn) == 1
    await chat.say("/delete")
    await chat.press("Delete everything")
    assert "deleted" in chat.text
    for model in (Person, Identity, CheckIn, DecisionRecord):
        assert await count(coach_on, model) == 0


async def test_export_holds_everything(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=5)
    await chat.say("/checkin 2 mostly none")
    await chat.say("/export")
    data = json.loads(chat.last[0].text)
    assert data["person"]["baseline_pain"] == 5
    assert data["accounts"][0]["user"] == "u1"
    assert data["checkins"][0]["pain_during"] == 2
    assert data["checkins"][0]["deadlift_comfort"] is None
    assert data["decisions"][0]["decision"] == "hold"


async def test_red_flag_at_onboarding_stops_until_cleared(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("Yes, at least one")
    assert "emergency department now" in chat.text
    assert (await person(coach)).safety_hold == "emergency"
    await chat.say("/routine")
    assert "on hold" in chat.text
    await chat.say("/checkin 1 yes 5")
    assert "on hold" in chat.text
    assert await count(coach, CheckIn) == 0
    await chat.press("A clinician has cleared me")
    assert (await person(coach)).safety_hold is None
    assert "back pain" in chat.text  # onboarding carries on with the baseline


async def test_clinician_flag_pauses_program(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("Yes, at least one")
    assert "GP or physiotherapist" in chat.text
    assert (await person(coach)).safety_hold == "clinician"


async def test_leg_symptoms_rescreen_and_stop(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("4")
    await chat.press("Yes")  # pain down a leg
    assert "safety check" in chat.text
    await chat.press("Yes, at least one")
    assert "emergency department" in chat.text
    saved = await person(coach)
    assert saved.safety_hold == "emergency"
    async with coach.sessions() as session:
        decision = (await session.scalars(select(DecisionRecord))).one()
    assert decision.decision == "stop"


async def test_pain_jump_rescreens_in_quick_checkin(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=1)
    await chat.say("/checkin 5 yes 7")
    assert "safety check" in chat.text
    await chat.press("None of these")
    assert "cancer" in chat.text  # the see-a-clinician list is asked again too
    await chat.press("None of these")
    assert "Logged: pain 5/10, back neutral: yes, deadlift comfort: 7" in chat.text


async def test_pain_above_five_regresses_dose(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=4)
    await chat.say("/checkin 6 yes 5")
    assert "Stepping back" in chat.text
    assert (await person(coach)).lighter_dose
    await chat.say("/routine")
    assert "Lighter dose today" in chat.text


async def test_advance_after_enough_calm_sessions(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=2)
    for day in range(6):
        if day:
            clock.advance(days=2)
            await chat.say("/progress")  # the morning question comes first
            assert "this morning" in chat.text
            await chat.press("2")
        await chat.say("/checkin 2 yes 7")
    assert "I'll ask tomorrow" in chat.text  # the step up waits for a settled morning
    assert (await person(coach)).phase_index == 0
    clock.advance(days=1)
    await chat.say("/routine")
    await chat.press("2")
    # Everything is met: the standing self-test comes before standing work.
    assert "Standing neutral-spine test" in chat.text
    assert (await person(coach)).phase_index == 0
    await chat.press("Yes, all 5")
    assert "Moving up!" in chat.text
    assert "Phase 2 of 3" in chat.text  # the routine the person asked for carries on
    saved = await person(coach)
    assert saved.phase_index == 1
    await chat.say("/routine")
    assert "Phase 2 of 3" in chat.text


async def test_unsettled_morning_holds_with_lighter_dose(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=2)
    await chat.say("/checkin 3 yes 7")
    clock.advance(days=1)
    await chat.say("/routine")
    assert "this morning" in chat.text
    await chat.press("5")
    assert "was above where it was before the session" in chat.text
    assert "Lighter dose today" in chat.text  # the routine asked for follows, lighter
    assert (await person(coach)).lighter_dose


async def test_pause_freezes_progression(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=4)
    await chat.say("/pause 5")
    assert "Paused until" in chat.text
    assert (await person(coach)).paused_until is not None
    await chat.say("/checkin 6 yes 5")
    assert "paused" in chat.text and "Stepping back" not in chat.text
    assert not (await person(coach)).lighter_dose
    await chat.say("/pause 0")
    assert "1 to 90" in chat.text
    await chat.say("/resume")
    assert "Welcome back" in chat.text


async def test_remind_settings(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/remind 06:45 Asia/Kolkata mon,wed,fri")
    assert "06:45 (Asia/Kolkata), Mon, Wed, Fri" in chat.text
    await chat.say("/remind 24:00")
    assert "Example" in chat.text
    await chat.say("/remind 07:00 Atlantis")
    assert "don't know the time zone" in chat.text
    assert (await person(coach)).timezone == "Asia/Kolkata"
    await chat.say("/remind off")
    saved = await person(coach)
    assert not saved.remind_enabled and saved.next_fire_utc is None


async def test_toe_touch_question_gets_the_avoid_entry(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("should I touch my toes to stretch?")
    assert "Skip the" in chat.text and "90-90" in chat.text
    [avoid] = chat.last
    assert [p.path.name.startswith("standing-toe-touch-") for p in avoid.pictures] == [True]
    await chat.say("/exercise aslr")
    still, animation = chat.last
    assert still.title == "Active straight leg raise" and "Stop if" not in chat.text
    assert "Lift only as high as the pelvis stays still" in still.text
    assert [p.kind for p in still.pictures + animation.pictures] == ["still", "animation"]
    await chat.press("More")  # the full text: setup, steps, faults, when to stop
    assert "Active straight leg raise" in chat.text and "Stop if" in chat.text
    await chat.say("/exercise toe touch")
    assert "Skip the" in chat.text and chat.last[0].pictures == avoid.pictures


async def test_group_chat_replies_with_health_data_are_private(coach: Coach) -> None:
    chat = Chat(coach, chat="group-1", private=False)
    await chat.say("/routine")
    assert not chat.last[-1].private  # the routine may be shown to the group...
    await chat.say("/checkin 3 yes 7")
    assert all(reply.private for reply in chat.last)  # ...pain never is
    await chat.say("/progress")
    assert all(reply.private for reply in chat.last)


async def test_restart_in_the_middle_of_a_checkin(database_url: str, clock: FakeClock) -> None:
    settings = Settings(database_url=database_url, content_dir=SOURCE_CONTENT)
    first = await build_coach(settings, clock=clock)
    chat = Chat(first)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("3")
    leg_no = chat.button("No").action
    await first.close()

    second = await build_coach(settings, clock=clock)
    try:
        again = Chat(second)
        await again.press_payload(leg_no)
        assert "flat" in again.text
        await again.say("yes")
        await again.say("none")
        assert "Logged: pain 3/10" in again.text
    finally:
        await second.close()


async def test_routine_done_button_is_not_owned(coach: Coach) -> None:
    owner, other = Chat(coach, user="a"), Chat(coach, user="b")
    await owner.onboard()
    await other.onboard()
    await owner.say("/routine")
    done = owner.button("Done - check in").action
    assert done == Action("rt", "done", "1", 0).encode()
    await other.press_payload(done)  # anyone's press opens their own check-in
    assert "DURING the routine" in other.text


async def test_time_zone_by_button(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("3")
    await chat.press("5")
    await chat.press("Skip")
    await chat.press("America/Los_Angeles")
    assert "Got it: America/Los_Angeles" in chat.text
    assert (await person(coach)).timezone == "America/Los_Angeles"


async def test_progress_chart_for_zero_one_and_many_checkins(
    coach: Coach, clock: FakeClock, tmp_path
) -> None:
    coach.charts_dir = tmp_path
    chat = Chat(coach)
    await chat.onboard(pain=3)
    await chat.say("/progress")
    assert len(chat.last) == 1 and chat.last[0].image is None
    assert "No check-ins in the last 8 weeks" in chat.last[0].text

    await chat.say("/checkin 3 yes 6")
    await chat.say("/progress")
    picture = chat.last[-1].image
    assert picture is not None and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chat.last[-1].private

    for _ in range(59):
        clock.advance(hours=22)
        await chat.say("/checkin 2 yes 7")
        if "this morning" in chat.text:
            await chat.press("2")
        if "self-test" in chat.text:
            await chat.press("Yes, all 5")
    await chat.say("/progress")
    assert "Phase 2" in chat.last[0].text or "Phase 3" in chat.last[0].text
    many = chat.last[-1].image
    assert many is not None
    width, height = (
        int.from_bytes(many.read_bytes()[16:20]),
        int.from_bytes(many.read_bytes()[20:24]),
    )
    assert (width, height) == (1080, 1350)


async def test_group_routine_shows_no_personal_state(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=4)
    await chat.say("/checkin 6 yes 5")  # regress: a lighter dose from now on
    assert (await person(coach)).lighter_dose
    group = Chat(coach, user="u1", chat="group-9", private=False)
    await group.say("/routine")
    public = [reply for reply in group.last if not reply.private]
    assert public and all("Lighter" not in reply.text for reply in public)
    await chat.say("/routine")
    assert "Lighter dose today" in chat.text


async def test_done_button_asks_the_morning_question_first(coach: Coach, clock: FakeClock) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=2)
    await chat.say("/checkin 2 yes 7")
    await chat.say("/routine")
    done = chat.button("Done - check in").action
    clock.advance(days=1)
    await chat.press_payload(done)
    assert "this morning" in chat.text
    await chat.press("2")
    assert "DURING the routine" in chat.text  # then the check-in it was pressed for


async def test_abandoned_checkin_expires_at_the_end_of_its_day(
    coach: Coach, clock: FakeClock
) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("3")
    clock.advance(days=3)
    await chat.say("no")
    assert "never finished" in chat.text
    async with coach.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert row.completed_at is None and row.leg_symptoms is None
    assert (await person(coach)).pending is None


async def test_cleared_after_emergency_asks_the_clinician_list(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("Yes, at least one")
    await chat.press("A clinician has cleared me")
    assert "cancer" in chat.text


async def test_stopped_checkin_is_not_a_session(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 4 yes 5 leg")
    await chat.press("Yes, at least one")
    assert "emergency department" in chat.text
    async with coach.sessions() as session:
        row = (await session.scalars(select(CheckIn))).one()
    assert row.completed_at is None


async def test_red_flag_and_pause_cancel_queued_reminders(coach: Coach, clock: FakeClock) -> None:
    from storage.models import OutboxMessage

    chat = Chat(coach)
    await chat.onboard()
    saved = await person(coach)
    async with coach.sessions() as session, session.begin():
        for kind in ("reminder", "evening"):
            session.add(
                OutboxMessage(
                    target=f"person:{saved.id}",
                    kind=kind,
                    local_date=clock.now.date(),
                    platform="console",
                    ref="u1",
                    person_id=saved.id,
                    fire_at=clock.now,
                    created_at=clock.now,
                    next_attempt_at=clock.now,
                    payload=[],
                )
            )
    await chat.say("/pause 3")
    async with coach.sessions() as session:
        states = set((await session.scalars(select(OutboxMessage.state))).all())
    assert states == {"dropped"}

    # A red flag does the same: queue one more, then report a warning sign.
    await chat.say("/resume")
    async with coach.sessions() as session, session.begin():
        session.add(
            OutboxMessage(
                target=f"person:{saved.id}",
                kind="snooze-0900",
                local_date=clock.now.date(),
                platform="console",
                ref="u1",
                person_id=saved.id,
                fire_at=clock.now,
                created_at=clock.now,
                next_attempt_at=clock.now,
                payload=[],
            )
        )
    await chat.say("/checkin 4 yes 5 leg")
    await chat.press("Yes, at least one")
    async with coach.sessions() as session:
        states = set((await session.scalars(select(OutboxMessage.state))).all())
    assert states == {"dropped"}


async def test_delete_removes_every_row_and_the_charts(coach: Coach, tmp_path) -> None:
    from storage.models import LinkCode, OutboxMessage, TeamMember

    coach.charts_dir = tmp_path
    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin 3 yes 7")
    await chat.say("/progress")
    assert (tmp_path / f"{(await person(coach)).id}.png").exists()
    await chat.say("/link")
    await chat.say("/delete")
    await chat.press("Delete everything")
    for model in (Person, Identity, CheckIn, DecisionRecord, LinkCode, OutboxMessage, TeamMember):
        assert await count(coach, model) == 0
    assert list(tmp_path.glob("*.png")) == []


async def test_a_double_press_completes_the_checkin_once(coach: Coach) -> None:
    import asyncio

    chat = Chat(coach)
    await chat.onboard()
    await chat.say("/checkin")
    await chat.press("3")
    await chat.press("No")
    await chat.press("Yes")
    last = chat.button("7").action
    twin = Chat(coach)
    first, second = await asyncio.gather(chat.press_payload(last), twin.press_payload(last))
    texts = [first[0].text, second[0].text]
    assert sum("Logged" in text for text in texts) == 1
    assert await count(coach, DecisionRecord) == 1
