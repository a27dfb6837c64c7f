"""/progress, /export, /delete and the weekly summary, on fakes of the storage port."""

from __future__ import annotations

import json
from pathlib import Path

from bot.service import weekly
from bot.service.coach import Coach
from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import FakeStorage, Tables, library


async def test_progress_counts_sessions_and_draws_the_chart(
    chat: Chat, coach: Coach, tmp_path: Path
) -> None:
    await chat.onboard()
    await chat.say("/checkin 2 yes 7")
    await chat.say("/progress")
    assert "Phase 1 of 3" in chat.text and "Sessions: 1 in all, 1 in this phase" in chat.text
    assert "Latest decision (hold)" in chat.text
    picture = chat.last[-1].image
    assert picture is not None and Path(picture).parent == coach.charts_dir


async def test_export_holds_everything_about_the_person(chat: Chat) -> None:
    await chat.onboard(pain=5)
    await chat.say("/checkin 2 mostly none")
    await chat.say("/pause 2")
    await chat.say("/export")
    data = json.loads(chat.last[0].text)
    assert data["person"]["baseline_pain"] == 5
    assert data["accounts"] == [{"platform": "console", "user": "u1", "name": "u1"}]
    assert data["checkins"][0]["pain_during"] == 2 and data["checkins"][0]["lifted"] is False
    assert data["decisions"][0]["decision"] == "hold"
    assert data["pauses"][0]["kind"] == "pause"
    assert data["teams"] == []


async def test_delete_needs_confirmation_then_removes_every_row(
    chat: Chat, tables: Tables, coach: Coach
) -> None:
    await chat.onboard()
    await chat.say("/checkin 2 yes 7")
    await chat.say("/progress")
    chart = coach.charts_dir / f"{tables.people[0].id}.png"
    assert chart.exists()
    await chat.say("/delete")
    await chat.say("yes please")
    assert "Nothing was deleted" in chat.text and len(tables.checkins) == 1
    await chat.say("/delete")
    await chat.press("Delete everything")
    assert "everything about you is deleted" in chat.text
    assert (tables.people, tables.identities, tables.checkins, tables.decisions) == ([], [], [], [])
    assert not chart.exists()


async def test_an_old_button_after_delete_stores_nothing(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/checkin")
    old = chat.button("3").action  # the open check-in's pain question
    await chat.say("/delete")
    await chat.say("DELETE")
    assert old is not None
    replies = await chat.press_payload(old)
    assert replies[0].alert and "send /start" in replies[0].text
    assert tables.people == [] and tables.checkins == []


async def test_summary_setting(chat: Chat, tables: Tables) -> None:
    await chat.onboard()
    await chat.say("/summary on sun")
    assert "Sundays" in chat.text and tables.people[0].summary_day == 6
    await chat.say("/summary on someday")
    assert "not a day" in chat.text and tables.people[0].summary_day == 6
    await chat.say("/summary off")
    assert tables.people[0].summary_day is None


async def test_weekly_summary_rendered_from_the_fakes(
    chat: Chat, storage: FakeStorage, tables: Tables, clock: FakeClock, tmp_path: Path
) -> None:
    await chat.onboard()
    await chat.say("/summary on")
    await chat.say("/checkin 2 yes 7")
    person_id = tables.people[0].id
    replies = await weekly.weekly_replies(storage, library(), person_id, clock.now, tmp_path)
    assert "This week: 1 session in the last 7 days" in replies[0].text
    assert "Phase 1 of 3" in replies[0].text and "Next week:" in replies[0].text
    assert replies[1].image is not None and all(reply.private for reply in replies)
    await chat.say("/pause 2")
    assert await weekly.weekly_replies(storage, library(), person_id, clock.now, tmp_path) == []
