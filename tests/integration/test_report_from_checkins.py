"""The report from a real conversation on SQLite and PostgreSQL: two weeks of check-ins and
morning answers typed to the coach (fake clock), activities and a reassessment stored, then the
report built from the stored rows, drawn, and its PDF read back against what was typed. /delete
through the coach removes the outcome rows."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import func, select

from bot.reports.build import build_report
from bot.reports.page import render_report
from bot.service.coach import Coach
from storage import outcomes
from storage.models import OUTCOME_TABLES
from storage.repositories.checkins import SqlCheckIns
from storage.repositories.people import SqlPeople
from tests.chat import Chat, FakeClock

DURING = [5, 5, 4, None, 5, 4, 4, 5, 4, None, 4, 4, 4, 4]  # None: no session that day
MORNING = [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3]  # the mornings after the 12 sessions
ZONE = ZoneInfo("Europe/Berlin")


async def _two_weeks(chat: Chat, clock: FakeClock) -> None:
    await chat.onboard(pain=6)
    mornings = iter(MORNING)
    for day, pain in enumerate([*DURING, None]):
        if day:
            clock.advance(days=1)
            await chat.say("/progress")
            if "this morning" in chat.text:
                await chat.say(str(next(mornings)))
        if pain is not None:
            await chat.say(f"/checkin {pain} yes 6")
            assert f"Logged: pain {pain}/10" in chat.text
    assert next(mornings, None) is None  # every session's morning was answered


async def test_report_figures_match_the_stored_checkins(
    coach_on: Coach, clock: FakeClock, tmp_path: Path
) -> None:
    chat = Chat(coach_on)
    await _two_weeks(chat, clock)
    today = clock.now.astimezone(ZONE).date()
    async with coach_on.sessions() as session, session.begin():
        identity = await SqlPeople(session).identity("console", "u1")
        assert identity is not None
        person = identity.person
        acts = await outcomes.add_activities(
            session,
            person.id,
            [
                outcomes.NewActivity("Deadlifting at my working weight", 4, "deadlift"),
                outcomes.NewActivity("Getting out of the car", 5),
            ],
            clock.now,
        )
        await outcomes.add_reassessment(
            session, person.id, week=4, local_date=today, now=clock.now, usual_pain=4,
            global_rating=1, scores={acts[0].id: 7, acts[1].id: 6}, review_suggested=False,
        )  # fmt: skip
    async with coach_on.sessions() as session:
        repo = SqlCheckIns(session)
        program = coach_on.library.default_program()
        data = build_report(
            person=person,
            program=program.name,
            phase_names=[phase.name for phase in program.phases],
            zone=ZONE,
            today=today,
            checkins=await repo.completed(person.id),
            decisions=await repo.decisions(person.id),
            pauses=await repo.pauses(person.id),
            activities=await outcomes.activities(session, person.id),
            reassessments=await outcomes.reassessments(session, person.id),
            rules=coach_on.library.outcomes.meaningful_change,
        )
    files = render_report(data, tmp_path, person.id)

    reader = PdfReader(files.pdf)
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    # Every figure below is worked out from what the chat typed, not from the report's code.
    assert "started 4 Jan 2027 · made 18 Jan 2027 (week 3)" in text
    assert "Usual back pain (0-10) 6 → 4: 2 points better, a meaningful change" in text
    assert (
        "Pain during the routine: 12 sessions, first 5, latest 4; "
        "morning back pain: 12 mornings, first 5, latest 3."
    ) in text
    assert "1. Deadlifting at my working weight 4 → 7: 3 points better, a meaningful change." in (
        text
    )
    assert "2. Getting out of the car 5 → 6: 1 point better, not yet a meaningful change." in text
    assert "Mean of the activities 4.5 → 6.5: 2 points better, a meaningful change." in text
    # Every day is a reminder day: 15 planned days (4-18 Jan), 12 with a session.
    assert "Overall: 12 of 15 planned days done (80%)." in text
    for bar in ("6/7", "6/7", "0/1"):
        assert bar in text
    assert f"4 Jan 2027 · Phase 1: {program.phases[0].name} · start" in text
    assert "Red flags and clinician reviews None recorded." in text

    await chat.say("/delete")
    await chat.press("Delete everything")
    async with coach_on.sessions() as session:
        for table in OUTCOME_TABLES:
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.person_id == person.id)
            )
            assert count == 0, table.__tablename__
