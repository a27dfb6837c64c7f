"""The daily loop over four simulated weeks, the way people really use it: the scheduler sends
the reminder, the person presses its buttons (or types), and the next morning's answer comes in.
Each persona is a table of days; each day asserts the phase, the decisions taken that day and
the dose of the routine shown. Runs on SQLite and PostgreSQL.

Decisions per day, in order: A advance, H hold, R regress, S stop, P pause ("-" none).
Dose: N normal, L lighter, "-" no routine shown that day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.core.actions import Action
from bot.core.messages import Platform, Reply
from bot.scheduler import ReminderScheduler
from bot.service.coach import Coach
from storage.models import CheckIn, DecisionRecord, Person
from tests.chat import Chat, FakeClock
from tests.integration.scheduler_support import RecordingSender, scheduler

# Onboarding on Monday 2027-01-04 at 09:00 Berlin; day 0 is Tuesday 5 January.
DAY0_0730 = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 Berlin
DAY = timedelta(days=1)
LETTER = {"advance": "A", "hold": "H", "regress": "R", "stop": "S", "pause": "P"}


@dataclass
class Day:
    """What a persona does on one day (None: the default of the persona's plan)."""

    morning: int | None = 2  # the answer to the morning question (None: never answers)
    pain: int = 2
    leg: bool = False
    neutral: str = "Yes"
    comfort: str = "7"
    test: str = "Yes, all 5"  # the answer to the standing self-test when it is offered
    way: str = "reminder"  # "reminder": answer in the reminder, then Start; see `live`
    say: str = ""  # typed first thing (free words)
    train: bool = True


@dataclass
class World:
    coach: Coach
    clock: FakeClock
    sender: RecordingSender
    reminders: ReminderScheduler
    chat: Chat
    seen: list[str] = field(default_factory=list)  # every reply text of the day

    async def person(self) -> Person:
        async with self.coach.sessions() as session:
            found = (await session.scalars(select(Person))).first()
            assert found is not None
            return found

    async def decisions_on(self, since: datetime) -> str:
        async with self.coach.sessions() as session:
            rows = await session.scalars(
                select(DecisionRecord)
                .where(DecisionRecord.at >= since)
                .order_by(DecisionRecord.at, DecisionRecord.id)
            )
            return "".join(LETTER[row.decision] for row in rows) or "-"

    async def checkins(self) -> list[CheckIn]:
        async with self.coach.sessions() as session:
            return list((await session.scalars(select(CheckIn).order_by(CheckIn.id))).all())

    async def send(self, text: str) -> list[Reply]:
        replies = await self.chat.say(text)
        self.seen += [r.text for r in replies]
        return replies

    async def press(self, label: str) -> list[Reply]:
        replies = await self.chat.press(label)
        self.seen += [r.text for r in replies]
        return replies

    async def press_in(self, reply: Reply, label: str) -> list[Reply]:
        [button] = [b for b in reply.all_buttons() if b.label == label]
        replies = await self.chat.press_payload(button.action)
        self.seen += [r.text for r in replies]
        return replies

    def asked(self, words: str) -> bool:
        return any(words in reply.text for reply in self.chat.last)

    def open_flows(self) -> set[str]:
        """The questions the last replies ask, by their buttons: {"ci:pain", "am:pain", ...}."""
        return {
            ":".join(button.action.split(":")[1:3])
            for reply in self.chat.last
            for button in reply.all_buttons()
        }


async def answer_open_questions(world: World, plan: Day) -> None:
    """Answer whatever the coach asks next, by its buttons, until nothing is open."""
    for _ in range(12):
        open_ = world.open_flows()
        if "am:pain" in open_ and plan.morning is not None:
            await world.press(str(plan.morning))
        elif open_ & {"scr:rf", "scr:rfc", "ci:rf", "ci:rfc"}:
            await world.press("None of these")
        elif any(flow.startswith("st:") for flow in open_):
            await world.press(plan.test)
        elif "ci:pain" in open_:
            await world.press(str(plan.pain))
        elif "ci:leg" in open_:
            await world.press("Yes" if plan.leg else "No")
        elif "ci:flat" in open_:
            await world.press(plan.neutral)
        elif "ci:comfort" in open_:
            await world.press("Didn't lift" if plan.comfort == "none" else plan.comfort)
        elif "rt:done" in open_:
            await world.press("Done - check in")
        else:
            return


async def live(world: World, day: int, plan: Day) -> None:
    """One day: the reminder at 07:30, then the person at 07:35."""
    world.clock.now = DAY0_0730 + day * DAY
    await world.reminders.tick(world.clock.now)
    world.clock.now = DAY0_0730 + day * DAY + timedelta(minutes=5)
    sent = [s for s in world.sender.sent if s.at == DAY0_0730 + day * DAY]
    reminder = sent[0].replies[0] if sent else None
    if plan.say:
        await world.send(plan.say)
        await answer_open_questions(world, plan)
    if not plan.train:
        return
    if plan.way == "typed":  # no reminders used: /routine, then the buttons
        await world.send("/routine")
    elif plan.way == "quick":
        await world.send(f"/checkin {plan.pain} {plan.neutral.lower()} {plan.comfort}")
    elif reminder is None:
        return  # nothing arrived (paused, on hold): nothing to press
    elif plan.way == "reminder":
        # The morning question rides in the reminder: answered there first, then Start.
        if plan.morning is not None and "v1:am:" in str(reminder.buttons):
            await world.press_in(reminder, str(plan.morning))
            await answer_open_questions(world, plan)
        await world.press_in(reminder, "Start")
    elif plan.way == "start":  # straight to Start, past the question in the reminder
        await world.press_in(reminder, "Start")
    elif plan.way == "ignore":  # Start, then Start again instead of answering the question
        await world.press_in(reminder, "Start")
        if "am:pain" in world.open_flows():
            await world.press_in(reminder, "Start")
    await answer_open_questions(world, plan)


@dataclass
class Persona:
    name: str
    plan: Callable[[int], Day]
    # One entry per day: "phase decisions dose", e.g. "1 AH N".
    expected: list[str]
    setup: Callable[[World], Awaitable[None]] | None = None
    also: Callable[[World, int], Awaitable[None]] | None = None  # extra checks or actions


def days(spec: str) -> list[str]:
    """'0 H N x3, 1 AH N' -> ['0 H N', '0 H N', '0 H N', '1 AH N']"""
    out: list[str] = []
    for part in spec.split(","):
        words = part.split()
        count = 1
        if words[-1].startswith("x"):
            count = int(words[-1][1:])
            words = words[:-1]
        out += [" ".join(words)] * count
    return out


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    clock = FakeClock()  # Monday 2027-01-04 08:00 UTC
    coach = await build_coach(
        Settings(database_url=database_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    sender = RecordingSender(Platform.CONSOLE, clock=clock)
    chat = Chat(coach)
    await chat.onboard(pain=2)  # Berlin, 07:30 every day
    yield World(coach, clock, sender, scheduler(coach.sessions, {Platform.CONSOLE: sender}), chat)
    await coach.close()


async def run(world: World, persona: Persona) -> None:
    if persona.setup is not None:
        await persona.setup(world)
    got: list[str] = []
    for day in range(len(persona.expected)):
        world.seen = []
        start = DAY0_0730 + day * DAY - timedelta(hours=1)
        await live(world, day, persona.plan(day))
        if persona.also is not None:
            await persona.also(world, day)
        person = await world.person()
        routines = [t for t in world.seen if "(about " in t and "Phase " in t]
        dose = "-" if not routines else ("L" if "Lighter dose today" in routines[-1] else "N")
        got.append(f"{person.phase_index} {await world.decisions_on(start)} {dose}")
        assert got == persona.expected[: day + 1], (persona.name, day, world.seen)


# 10 sessions over 10 days; the 11th morning settles the last one: the standing self-test is
# offered (a hold, stored with its reason), passed, and the person moves up (A), then trains
# (H). Ten days later the same, without a test before the loaded phase.
STEADY = "0 H N x10, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x7"

IDEAL = Persona("ideal", lambda day: Day(), days(STEADY))


async def _ideal_checks(world: World, day: int) -> None:
    # Each morning answer (in the reminder) says how yesterday's calm session settled: the
    # check-in it was asked about takes the stored answer at once.
    if day >= 1:
        assert any("your back settled well" in t for t in world.seen), (day, world.seen)


IDEAL.also = _ideal_checks

REMINDER_ONLY = Persona(
    "reminder only: Start, then the morning question comes first",
    lambda day: Day(way="start"),
    days(STEADY),
)

PLUS_TWO_MORNING = Persona(
    "a +2 morning gives a lighter dose and restarts the calm run",
    lambda day: Day(morning=4 if day == 5 else 2),
    # Day 5: the morning (4, up 2 from before the session and from the baseline) holds with a
    # lighter dose, and so does that day's check-in (rule 3a sees the same morning); day 6's
    # calm session lifts it. The run of settled sessions restarts after day 4's session and is
    # long enough again by day 10.
    days("0 H N x5, 0 HH L, 0 H L, 0 H N x3, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x7"),
)

CREEPING = Persona(
    "creeping morning pain: one point a day",
    lambda day: Day(morning=min(2 + day, 9) if day <= 6 else 2),
    # Baseline 2. Mornings 3 (day 1), 4 (day 2: +2 holds lighter), 5 (day 3: +3, the red-flag
    # screen again), ... each held with a lighter dose, though no day rose by 2; from day 7 the
    # mornings are back to 2 and day 7's calm session lifts the lighter dose.
    days("0 H N x2, 0 HH L x5, 0 H L, 0 H N x2, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x7"),
)

NEVER_ANSWERS = Persona(
    "never answers the morning question",
    lambda day: Day(morning=None, way="ignore"),
    days("0 H N x28"),
)

STANDING_TEST = Persona(
    "fails the standing test once, passes it the next day",
    lambda day: Day(test="Not yet" if day == 10 else "Yes, all 5"),
    # Day 10: the test is offered and failed: hold with what to practise; after that day's
    # session, the next morning offers it again and the pass moves the person up.
    days("0 H N x10, 0 HHH N, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x6"),
)


def _pause_plan(day: int) -> Day:
    if day == 4:
        return Day(say="/pause 7", way="quick")  # paused, and still checks in
    if day in (5, 6):
        return Day(way="quick")
    if day in (7, 8):
        return Day(train=False)
    if day == 9:
        return Day(say="/resume", way="typed")  # cut short: no reminder came this morning
    return Day()


PAUSE = Persona(
    "a pause with check-ins, then /resume",
    _pause_plan,
    # 4 sessions, then 3 check-ins while paused (logged, decision "pause", never counted), so
    # the 6 sessions come only on day 10 and its morning on day 11.
    days("0 H N x4, 0 P - x3, 0 - - x2, 0 H N x2, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x6"),
)


async def _leg_checks(world: World, day: int) -> None:
    if day == 2:
        assert any("without pain or tingling down a leg" in t for t in world.seen)
    if day == 8:
        assert any("GP or physiotherapist" in t for t in world.seen)
    if day == 9:
        assert any("until you tell me you were seen" in t for t in world.seen)
    if day == 11:  # seen by a clinician: the button under the advice
        person = await world.person()
        await world.chat.press_payload(Action("rv", "ok", "yes", person.id).encode())
        assert "glad it has been looked at" in world.chat.text


LEG = Persona(
    "leg symptoms: hold, then a clinician review on the third",
    lambda day: Day(leg=day in (2, 5, 8)),
    # Each leg session holds; the third within 14 days advises a review and holds until the
    # person says they were seen (day 11). Day 12's morning then completes the calm run.
    days("0 H N x12, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x5"),
    also=_leg_checks,
)


async def _red_flag_checks(world: World, day: int) -> None:
    if day == 3:
        assert any("emergency department" in t for t in world.seen)
        assert (await world.person()).safety_hold == "emergency"
    if day in (4, 5, 6):  # no reminder while held
        assert not [s for s in world.sender.sent if s.at == DAY0_0730 + day * DAY]
    if day == 6:
        person = await world.person()
        await world.chat.press_payload(Action("clr", "ok", "yes", person.id).encode())
        assert "glad you've been checked" in world.chat.text


RED_FLAG_WORDS = Persona(
    "a red flag in free words",
    lambda day: Day(say="I can't feel my inner thighs" if day == 3 else ""),
    # Day 3: the words stop everything (S), no reminders until cleared (end of day 6).
    days("0 H N x3, 0 S -, 0 - - x3, 0 H N x3, 1 HAH N, 1 H N x9, 2 AH N, 2 H N x7"),
    also=_red_flag_checks,
)


async def _creeping_checks(world: World, day: int) -> None:
    screened = any("Because it has risen this much, one safety check" in t for t in world.seen)
    assert screened is (3 <= day <= 6), (day, world.seen)  # +3 and more: the screen again
    if day == 2:
        assert any("creeping up" in t for t in world.seen)


CREEPING.also = _creeping_checks


async def _never_answers_checks(world: World, day: int) -> None:
    if day >= 10:
        assert any("I never got an answer" in t for t in world.seen), world.seen


NEVER_ANSWERS.also = _never_answers_checks


@pytest.mark.parametrize(
    "persona",
    [
        IDEAL,
        REMINDER_ONLY,
        PLUS_TWO_MORNING,
        CREEPING,
        NEVER_ANSWERS,
        STANDING_TEST,
        PAUSE,
        LEG,
        RED_FLAG_WORDS,
    ],
    ids=lambda p: p.name.split(":")[0],
)
async def test_four_weeks(world: World, persona: Persona) -> None:
    await run(world, persona)
