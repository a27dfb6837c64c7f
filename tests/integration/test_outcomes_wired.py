"""Outcomes the way a person reaches them (fake clock, real SQLite and PostgreSQL): activities at
onboarding in their own words, the question asked once after a check-in for people who started
before, the 4-week check riding in the reminder at weeks 4, 8 and 12 only, the meaningful-change
wording and the clinician-review suggestion in its answer, one lesson a week in order, /learn,
/report (a one-page PDF and a PNG whose figures are the stored check-ins), /export and /delete.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.bootstrap import DatabaseCoach, build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.core.messages import Platform, Reply
from bot.core.outcomes import lessons_in_order
from bot.reports.page import PNG_SIZE
from bot.scheduler import ReminderScheduler
from bot.service.coach import Coach
from storage import outcomes
from storage.models import OUTCOME_TABLES, Person
from tests.chat import Chat, FakeClock
from tests.integration.scheduler_support import RecordingSender, scheduler

BERLIN = ZoneInfo("Europe/Berlin")
CHECK = "Answer the {}-week check (1 min)"


async def _person(coach: Coach) -> Person:
    assert isinstance(coach, DatabaseCoach)
    async with coach.sessions() as session:
        found = (await session.scalars(select(Person))).first()
        assert found is not None
        return found


async def _activities(coach: Coach, person_id: int) -> list[tuple[str, int | None, str | None]]:
    assert isinstance(coach, DatabaseCoach)
    async with coach.sessions() as session:
        rows = await outcomes.activities(session, person_id)
        return [(row.label, row.baseline_score, row.offer_id) for row in rows]


# --- onboarding --------------------------------------------------------------------------------


async def test_onboarding_with_custom_activities(coach_on: Coach) -> None:
    chat = Chat(coach_on)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("5")
    await chat.press("6")  # deadlift comfort, as before
    assert "Which activities" in chat.text
    first = chat.last[-1].buttons[0][0]
    assert first.label == "Deadlifting at my working weight"  # offered first to someone who lifts
    await chat.press("Deadlifting at my working weight")
    assert "6/10, as you just told me" in chat.text  # not asked twice
    await chat.say("!!!")  # nothing left after cleaning: asked again, nothing stored
    assert "in a few words" in chat.text
    await chat.say("Getting out of the <b>car</b>")
    assert "How able are you" in chat.text
    await chat.say("11")  # out of range: asked again
    assert "0 to 10" in chat.text
    await chat.say("4")
    shoes = chat.button("Tying my shoes")
    await chat.say("deadlifting at my WORKING weight")  # already on the list
    assert "already on your list" in chat.text
    await chat.press_payload(shoes.action)
    await chat.press("3")
    # Three chosen: the list is full and onboarding carries on.
    assert "Which time zone" in chat.text
    await chat.say("Berlin")
    await chat.say("07:30")
    assert "all set" in chat.text
    person = await _person(coach_on)
    chosen = await _activities(coach_on, person.id)
    assert [(score, offer) for _, score, offer in chosen] == [
        (6, "deadlift"),
        (4, None),
        (3, "tying-shoes"),
    ]
    assert chosen[0][0] == "Deadlifting at my working weight"
    assert "Getting out of the" in chosen[1][0] and "<" not in chosen[1][0]
    assert person.activities_asked_on is not None

    # A second /start changes the settings and does not ask again.
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("5")
    await chat.press("6")
    assert "Which time zone" in chat.text and "Which activities" not in chat.text


async def test_someone_who_does_not_lift_sees_everyday_activities_first(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.say("/start")
    await chat.press("None of these")
    await chat.press("None of these")
    await chat.press("5")
    await chat.press("I don't deadlift")
    labels = [row[0].label for row in chat.last[-1].buttons]
    assert labels[0] == "Tying my shoes" and labels[-1] == "Skip"
    await chat.press("Picking up a child")
    assert "How able are you" in chat.text  # the lifting shortcut is for lifters only
    await chat.press("2")
    await chat.press("Done")
    assert "Picking up a child 2/10" in chat.text and "Which time zone" in chat.text


async def test_people_who_started_before_are_asked_once_after_a_checkin(
    coach_on: Coach, clock: FakeClock
) -> None:
    chat = Chat(coach_on)
    await chat.onboard()
    assert isinstance(coach_on, DatabaseCoach)
    async with coach_on.sessions() as session, session.begin():
        person = (await session.scalars(select(Person))).one()
        person.activities_asked_on = None  # as everyone onboarded before activities existed
    await chat.say("/checkin 3 yes 6")
    assert "Logged: pain 3/10" in chat.text
    assert "only this once" in chat.last[-1].text
    await chat.press("Skip")
    assert "No activities" in chat.text
    assert (await _person(coach_on)).activities_asked_on is not None
    clock.advance(days=1)
    await chat.say("/progress")
    await chat.say("2")  # the morning question first
    await chat.say("/checkin 2 yes 6")
    assert "Logged: pain 2/10" in chat.text and "Which activities" not in chat.text


# --- the 4-week check and the weekly lesson, through the scheduler ------------------------------


@dataclass
class Person13:
    coach: DatabaseCoach
    clock: FakeClock
    sender: RecordingSender
    ticks: ReminderScheduler
    chat: Chat


@pytest.fixture
async def thirteen(database_url: str) -> AsyncIterator[Person13]:
    clock = FakeClock()  # Monday 2027-01-04, 09:00 in Berlin: day 0 of the person
    coach = await build_coach(
        Settings(database_url=database_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    sender = RecordingSender(Platform.CONSOLE, clock=clock)
    chat = Chat(coach)
    await chat.onboard(pain=5, activities=[("Tying my shoes", 3), ("Carrying shopping", 4)])
    ticks = scheduler(coach.sessions, {Platform.CONSOLE: sender})
    yield Person13(coach, clock, sender, ticks, chat)
    await coach.close()


# What the person answers at each check: usual pain, the two activities, the global rating.
ANSWERS = {
    4: (2, 7, 5, "Better"),
    8: (4, 6, 5, "A little worse"),
    12: (7, 8, 4, "About the same"),
}


async def _answer_check(world: Person13, reminder: Reply, week: int) -> str:
    pain, shoes, shopping, rating = ANSWERS[week]
    [button] = [b for b in reminder.all_buttons() if b.label == CHECK.format(week)]
    await world.chat.press_payload(button.action)
    assert "how bad has your back pain usually been" in world.chat.text
    await world.chat.press(str(pain))
    assert "Tying my shoes: How able" in world.chat.text
    await world.chat.press(str(shoes))
    assert "Carrying shopping: How able" in world.chat.text
    await world.chat.say(str(shopping))  # typed works too
    assert "Compared with when you started" in world.chat.text
    await world.chat.press(rating)
    return world.chat.text


async def test_checks_at_weeks_4_8_12_and_a_lesson_a_week(thirteen: Person13) -> None:
    """91 days of reminders at 07:30 Berlin (daylight saving included); the person never
    trains, and answers each check the day it arrives."""
    world = thirteen
    start_day = datetime(2027, 1, 4, 7, 31, tzinfo=BERLIN)
    check_days: list[int] = []
    lesson_days: list[tuple[int, str]] = []
    answers: dict[int, str] = {}
    for day in range(1, 92):
        world.clock.now = (start_day + timedelta(days=day)).astimezone(ZoneInfo("UTC"))
        await world.ticks.tick(world.clock.now)
        sent = [s for s in world.sender.sent if s.at == world.clock.now]
        assert len(sent) == 1, day  # a reminder every day
        reminder = sent[0].replies[0]
        labels = [b.label for b in reminder.all_buttons()]
        checks = [label for label in labels if "-week check" in label]
        found = re.search(r"This week's lesson: (.+?)\. ", reminder.text)
        if found:
            lesson_days.append((day, found.group(1)))
        if checks:
            check_days.append(day)
            week = day // 7
            assert checks == [CHECK.format(week)]
            answers[week] = await _answer_check(world, reminder, week)

    # Weeks 4, 8, 12 from the first day (4 Jan): 1 Feb, 1 Mar, 29 Mar; and only then.
    assert check_days == [28, 56, 84]
    # One lesson a week, in the content's order, until all seven have been sent.
    lessons = lessons_in_order(world.coach.library.lessons)
    assert lesson_days == [(1 + 7 * n, lesson.title) for n, lesson in enumerate(lessons)]

    # The meaningful-change wording (baseline pain 5; shoes 3, shopping 4).
    assert "Usual back pain 5 → 2: 3 points better, a meaningful change." in answers[4]
    assert "Tying my shoes 3 → 7: 4 points better, a meaningful change." in answers[4]
    assert "Carrying shopping 4 → 5: 1 point better, not yet a meaningful change." in answers[4]
    assert (
        "Your activities on average 3.5 → 6: 2.5 points better, a meaningful change."
        in (answers[4])
    )
    assert "clinician review" not in answers[4]
    # The clinician-review trigger: a worse global rating (week 8), pain up 2 (week 12).
    assert "I'd suggest a clinician review" in answers[8]
    assert "“A little worse” compared with the start" in answers[8]
    assert "Usual back pain 5 → 7: 2 points worse, a meaningful change." in answers[12]
    assert "your usual pain is 7/10, 2 points above the 5/10 you started with" in answers[12]

    person = await _person(world.coach)
    async with world.coach.sessions() as session:
        stored = await outcomes.reassessments(session, person.id)
        seen = await outcomes.lessons_seen(session, person.id)
    assert [(row.week, row.usual_pain, row.review_suggested) for row, _ in stored] == [
        (4, 2, False),
        (8, 4, True),
        (12, 7, True),
    ]
    assert [sorted(scores.values()) for _, scores in stored] == [[5, 7], [5, 6], [4, 8]]
    assert set(seen) == {lesson.id for lesson in lessons}

    # A pressed check of a week already answered stores nothing more.
    old = [b for s in world.sender.sent for r in s.replies for b in r.all_buttons()]
    [again] = [b for b in old if b.label == CHECK.format(4)]
    await world.chat.press_payload(again.action)
    assert "isn't open any more" in world.chat.text


async def test_without_reminders_the_check_comes_after_a_checkin(
    coach: Coach, clock: FakeClock
) -> None:
    chat = Chat(coach)
    await chat.onboard(pain=4, at="off", activities=[("Sitting for an hour", 5)])
    clock.advance(days=27)  # 31 Jan: week 4 not reached yet
    await chat.say("/checkin 3 yes 6")
    assert "-week check" not in chat.text and "usually been" not in chat.text
    clock.advance(days=1)  # 1 Feb
    await chat.say("/checkin 3 yes 6")
    if "this morning" in chat.text:
        await chat.say("3")
    assert "Your 4-week check" in chat.last[-1].text
    await chat.say("4")
    await chat.say("8")
    await chat.press("Much better")
    assert "Sitting for an hour 5 → 8: 3 points better, a meaningful change." in chat.text


async def test_learn_lists_the_lessons_and_shows_one(coach: Coach) -> None:
    chat = Chat(coach)
    await chat.onboard()
    lessons = lessons_in_order(coach.library.lessons)
    await chat.say("/learn")
    for number, lesson in enumerate(lessons, start=1):
        assert f"{number}. {lesson.title}\n" in chat.text + "\n"
    await chat.say("/learn 2")
    assert chat.last[0].title == lessons[1].title and chat.text == lessons[1].text
    await chat.say("/learn")
    assert f"2. {lessons[1].title} (read)" in chat.text
    await chat.say("/learn 99")
    assert f"a number from 1 to {len(lessons)}" in chat.text


# --- /report, /export, /delete -----------------------------------------------------------------

DURING = [5, 4, None, 4, 3, 3, 2]  # None: no session that day
MORNING = [4, 4, 3, 3, 2]  # the mornings after the first five sessions


async def test_report_export_and_delete(coach_on: Coach, clock: FakeClock, tmp_path: Path) -> None:
    chat = Chat(coach_on)
    await chat.onboard(pain=6, activities=[("Tying my shoes", 3)])
    mornings = iter(MORNING)
    for day, pain in enumerate(DURING):
        if day:
            clock.advance(days=1)
            await chat.say("/progress")
            if "this morning" in chat.text:
                await chat.say(str(next(mornings)))
        if pain is not None:
            await chat.say(f"/checkin {pain} yes 6")
            assert f"Logged: pain {pain}/10" in chat.text
    await chat.say("/learn 1")

    # In a group it is said there and the report itself is private.
    group = Chat(coach_on, private=False, chat="g1", group="g1")
    replies = await group.say("/report")
    assert replies[0].text == "I'll send your report privately." and not replies[0].private
    pictures = [r for r in replies if r.image is not None]
    documents = [r for r in replies if r.document is not None]
    assert len(pictures) == 1 and len(documents) == 1
    assert all(r.private and r.keep for r in pictures + documents)  # to the DM on Discord

    png, pdf = pictures[0].image, documents[0].document
    assert png is not None and pdf is not None
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] == PNG_SIZE[0]
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    # Worked out from what was typed: 6 sessions (4, 5, 4, 3, 3, 2), 5 mornings answered.
    assert "Pain during the routine: 6 sessions, first 5, latest 2" in text
    assert "morning back pain: 5 mornings, first 4, latest 2" in text
    assert "Usual back pain: 6/10 at the start; not reassessed yet" in text
    assert "1. Tying my shoes: 3 at the start, not rated again yet." in text
    assert "Overall: 6 of 7 planned days done (86%)." in text

    await chat.say("/export")
    exported = json.loads(chat.text[chat.text.index("{") :])
    assert exported["activities"][0]["activity"] == "Tying my shoes"
    assert exported["activities"][0]["baseline"] == 3
    assert exported["reassessments"] == []
    assert [item["lesson"] for item in exported["lessons_seen"]] == [
        lessons_in_order(coach_on.library.lessons)[0].id
    ]

    await chat.say("/delete")
    await chat.press("Delete everything")
    assert not png.exists() and not pdf.exists()
    assert isinstance(coach_on, DatabaseCoach)
    async with coach_on.sessions() as session:
        for table in OUTCOME_TABLES:
            count = await session.scalar(select(func.count()).select_from(table))
            assert count == 0, table.__tablename__
