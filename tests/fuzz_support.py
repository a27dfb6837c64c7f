"""Shared parts of the property-based tests that throw arbitrary input at the coach.

- `prepare_states` drives one person per open question (every onboarding and check-in step, the
  next morning's question) through the real coach, so an example picks a state and a person
  already waiting there; the database after that is the baseline.
- `refusal` says, from the state and what the adapter handed the coach, whether the coach must
  refuse the input; a refused input must leave every row as it was.
- `restore` puts the baseline back after an example that was accepted (and so changed rows), so
  the next example starts from the same states: one database per test function, not per example.
- `SpyCoach` stands between an adapter and the real coach and keeps any exception, because the
  adapters catch them (and answer "something went wrong").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import delete, insert

from bot.core.answers import (
    MAX_TEXT,
    BadAnswer,
    clean_text,
    read_comfort,
    read_neutral,
    read_score,
    read_yes_no,
)
from bot.core.commands import COMMANDS
from bot.core.messages import Incoming, Platform, Reply
from bot.core.schedule import parse_hhmm
from bot.core.timezones import UnknownZone, parse_zone
from bot.service.coach import Coach
from bot.service.onboarding import OFF_WORDS
from storage.models import Base
from tests.chat import Chat, FakeClock
from tests.snapshot import Snapshot, changed, snapshot

# ------------------------------------------------------------------------------- the states


@dataclass
class State:
    name: str  # "ob:pain", "ci:flat", "am:pain", "idle"
    chat: Chat  # the person waiting there; `chat.last` holds the question and its buttons

    def __repr__(self) -> str:
        return f"State({self.name}, user {self.chat.user})"

    @property
    def flow_step(self) -> tuple[str, str] | None:
        if self.name == "idle":
            return None
        flow, step = self.name.split(":")
        return flow, step


ONBOARDING = ["rfe", "rfc", "pain", "comfort", "zone", "time"]
CHECKIN = ["pain", "leg", "rf", "rfc", "flat", "comfort"]


async def _comfort_and_no_activities(chat: Chat) -> None:
    await chat.say("5")
    await chat.say("done")  # no activities of their own


async def prepare_states(
    coach: Coach, clock: FakeClock, platform: Platform, first_ref: int
) -> list[State]:
    """One person per open question; user refs `first_ref`, `first_ref + 1`, ..."""
    refs = iter(range(first_ref, first_ref + 100))

    def person() -> Chat:
        return Chat(coach, user=str(next(refs)), platform=platform)

    states: list[State] = []
    # The morning question needs yesterday's session: made first, then the clock moves on.
    morning = person()
    await morning.onboard()
    await morning.say("/checkin 2 yes 6")
    clock.advance(days=1)
    await morning.say("/routine")
    assert "this morning" in morning.text, morning.text
    states.append(State("am:pain", morning))

    steps: list[tuple[str, Callable[[Chat], Awaitable[Any]]]] = [
        ("rfe", lambda c: c.say("/start")),
        ("rfc", lambda c: c.press("None of these")),
        ("pain", lambda c: c.press("None of these")),
        ("comfort", lambda c: c.press("3")),
        ("zone", _comfort_and_no_activities),
        ("time", lambda c: c.say("Berlin")),
    ]
    for index, (step, _) in enumerate(steps):
        chat = person()
        for _, move in steps[: index + 1]:
            await move(chat)
        states.append(State(f"ob:{step}", chat))

    ways: dict[str, list[str]] = {
        "pain": [],
        "leg": ["3"],
        "rf": ["3", "Yes"],
        "rfc": ["3", "Yes", "None of these"],
        "flat": ["3", "No"],
        "comfort": ["3", "No", "Yes"],
    }
    for step, presses in ways.items():
        chat = person()
        await chat.onboard()
        await chat.say("/checkin")
        for label in presses:
            await chat.press(label)
        states.append(State(f"ci:{step}", chat))

    idle = person()
    await idle.onboard()
    states.append(State("idle", idle))
    for state in states:
        pending = await _pending(coach, state.chat)
        expected = None if state.flow_step is None else list(state.flow_step)
        assert ([pending["flow"], pending["step"]] if pending else None) == expected, state.name
    return states


async def _pending(coach: Coach, chat: Chat) -> dict[str, Any] | None:
    from storage.repositories.people import SqlPeople

    async with coach.sessions() as session:
        identity = await SqlPeople(session).identity(chat.platform.value, chat.user)
        assert identity is not None
        return identity.person.pending


# ------------------------------------------------------------------------------- refusals

Reader = Callable[[str], object]


def _zone(text: str) -> object:
    try:
        return parse_zone(text)
    except UnknownZone as unknown:
        raise BadAnswer(str(unknown)) from None


def _time(text: str) -> object:
    value = clean_text(text).lower()
    if value in OFF_WORDS:
        return None
    try:
        return parse_hhmm(value)
    except ValueError as error:
        raise BadAnswer(str(error)) from None


READERS: dict[tuple[str, str], Reader] = {
    ("ob", "rfe"): read_yes_no,
    ("ob", "rfc"): read_yes_no,
    ("ob", "pain"): lambda t: read_score(t, "pain"),
    ("ob", "comfort"): read_comfort,
    ("ob", "zone"): _zone,
    ("ob", "time"): _time,
    ("ci", "pain"): lambda t: read_score(t, "pain"),
    ("ci", "leg"): read_yes_no,
    ("ci", "rf"): read_yes_no,
    ("ci", "rfc"): read_yes_no,
    ("ci", "flat"): read_neutral,
    ("ci", "comfort"): read_comfort,
    ("am", "pain"): lambda t: read_score(t, "pain"),
}


def refusal(state: State, incoming: Incoming, replies: list[Reply]) -> str | None:
    """Why the coach had to refuse this input (so no row may change), or None."""
    if incoming.action is not None:
        # A press the coach turns away is shown as an alert (not valid, not yours, answered).
        if len(replies) == 1 and replies[0].alert:
            return "an alert for a press"
        return _refused_value(state, incoming.action)
    raw = incoming.text or ""
    if len(raw) > MAX_TEXT:
        return "too long"
    text = clean_text(raw)
    if text.startswith("/") or state.flow_step is None:
        return None
    reader = READERS[state.flow_step]
    try:
        reader(text)
    except BadAnswer:
        return f"{state.name} refuses {text[:40]!r}"
    return None


_PAYLOAD = re.compile(r"^v1:([a-z]+):([a-z]+):([a-z0-9_.+-]+):([0-9]+)$")


def _refused_value(state: State, payload: str) -> str | None:
    """A press of the open question's own button with a value its reader refuses."""
    found = _PAYLOAD.match(payload)
    if found is None or state.flow_step != (found[1], found[2]):
        return None
    if state.flow_step == ("ob", "zone"):
        return None  # a pressed zone is read differently ("europe.berlin")
    try:
        READERS[state.flow_step](found[3])
    except BadAnswer:
        return f"{state.name} refuses the pressed value {found[3]!r}"
    return None


# ------------------------------------------------------------------------------- the database

# Examples run per test, and how many of them the coach had to refuse (shown after the run).
CASES: dict[str, int] = {}
REFUSED: dict[str, int] = {}


@dataclass
class World:
    """The coach with one person per open question, and the rows as they are now."""

    coach: Coach
    states: list[State]
    baseline: Snapshot
    rows: Snapshot

    def __repr__(self) -> str:
        return f"World({len(self.states)} states)"

    def others(self, state: State) -> list[State]:
        return [other for other in self.states if other is not state]

    async def after(self, test: str, why: str | None) -> None:
        """One example done: a refused input changed nothing; then back to the baseline."""
        CASES[test] = CASES.get(test, 0) + 1
        after = await snapshot(self.coach)
        if why is not None:
            REFUSED[test] = REFUSED.get(test, 0) + 1
            assert changed(self.rows, after) == {}, why
        if after != self.baseline:
            await restore(self.coach, self.baseline)
        self.rows = self.baseline


async def make_world(coach: Coach, clock: FakeClock, platform: Platform, first_ref: int) -> World:
    states = await prepare_states(coach, clock, platform, first_ref)
    baseline = await snapshot(coach)
    return World(coach, states, baseline, baseline)


async def restore(coach: Coach, baseline: Snapshot) -> None:
    """Every table back to the baseline rows."""
    async with coach.sessions() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            rows = baseline[table.name]
            if rows:
                names = list(table.columns.keys())
                await session.execute(
                    insert(table), [dict(zip(names, row, strict=True)) for row in rows]
                )


# ------------------------------------------------------------------------------- the coach


@dataclass
class SpyCoach:
    """The real coach, with any exception kept for the test (the adapters swallow them)."""

    coach: Coach
    errors: list[BaseException] = field(default_factory=list)
    seen: list[tuple[Incoming, list[Reply]]] = field(default_factory=list)
    done: int = 0
    _finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_until_done(self, count: int) -> None:
        """Until `count` messages have been handled in all (an adapter answers on its own time)."""
        while self.done < count:
            self._finished.clear()
            await asyncio.wait_for(self._finished.wait(), timeout=10)  # a deadline only

    async def handle(self, incoming: Incoming) -> list[Reply]:
        try:
            replies = await self.coach.handle(incoming)
        except BaseException as error:
            self.errors.append(error)
            raise
        finally:
            self.done += 1
            self._finished.set()
        self.seen.append((incoming, replies))
        return replies

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        await self.coach.mark_unreachable(platform, user_ref)


# ------------------------------------------------------------------------------- strategies

COMMAND_NAMES = [command.name for command in COMMANDS]
WORDS = ["yes", "no", "mostly", "none", "didn't lift", "skip", "off", "DELETE", "leg", "evening"]
DIGITS = st.characters(categories=["Nd", "No", "Nl"])  # every script's digits, ², ½, Ⅻ ...

numbers = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(DIGITS, min_size=1, max_size=25),
    st.sampled_from(["²", "٣", "١٠", "۱۱", "１２", "9" * 20, "٩" * 20, "3/10", "07:30", "1h30m"]),
)

free_text = st.one_of(
    st.text(max_size=40),
    st.text(max_size=MAX_TEXT + 40),
    numbers,
    st.sampled_from(WORDS),
    st.lists(st.one_of(numbers, st.sampled_from(WORDS), st.text(max_size=8)), max_size=5).map(
        " ".join
    ),
)

# The commands that read numbers come up more often, with numbers more often.
NUMERIC_COMMANDS = ["pause", "snooze", "checkin", "remind", "remind evening", "exercise"]
commands = st.builds(
    lambda name, args: f"/{name} {args}".rstrip(),
    st.one_of(
        st.sampled_from(NUMERIC_COMMANDS),
        st.sampled_from(COMMAND_NAMES + ["nope", "checkin@OtherBot", "START"]),
    ),
    st.one_of(numbers, free_text),
)

typed = st.one_of(free_text, commands)

_PART = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.+-", min_size=1, max_size=24)


@st.composite
def payloads(draw: st.DrawFn, state: State, others: list[State]) -> str:
    """A button payload: valid (one the coach showed), tampered, foreign or garbage."""
    own = [b.action for reply in state.chat.last for b in reply.all_buttons()]
    foreign = [
        b.action for other in others for reply in other.chat.last for b in reply.all_buttons()
    ]
    kind = draw(st.sampled_from(["valid", "tampered", "foreign", "garbage"]))
    if kind == "valid" and own:
        return draw(st.sampled_from(own))
    if kind == "foreign" and foreign:
        return draw(st.sampled_from(foreign))
    if kind == "garbage":
        return draw(st.text(max_size=80))
    base = draw(st.sampled_from(own or foreign or ["v1:ci:pain:3:1"])).split(":")
    index = draw(st.integers(min_value=0, max_value=4))
    replacement = draw(
        st.one_of(
            _PART,
            st.integers(min_value=0, max_value=10**21).map(str),
            numbers,
            st.text(max_size=10),
        )
    )
    base[index] = replacement
    return ":".join(base)
