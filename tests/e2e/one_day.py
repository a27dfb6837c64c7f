"""Two days of one person through the real Telegram client and the loopback fake, turn by turn:
what the bot sent for each (for tests/e2e/test_one_message.py and bench/bench_messages.py).

Day one: onboarding, the routine from "Show today's routine", "Done - check in", the four
answers. Day two: the 07:00 reminder (the scheduler's tick), "Start", the morning answer, "Done -
check in", the four answers. A turn's calls are those between its update and a "/help" sent
right after it: the adapter serves one person's updates strictly in order, so nothing of the
turn can come after the "/help"'s answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.e2e.fake_telegram import Call, FakeTelegram

# New messages in a chat (an album counts once here: see `Turn.album_items`).
SENT = ("sendMessage", "sendPhoto", "sendAnimation", "sendMediaGroup", "sendDocument")
EDITS = ("editMessageText", "editMessageReplyMarkup")
ANSWERS = ("answerCallbackQuery",)
HELP = "Here is what I can do"
DAY_TWO_REMINDER = datetime(2027, 1, 5, 6, 0, 10, tzinfo=UTC)  # 07:00:10 in Berlin


@dataclass
class Turn:
    name: str
    day: int
    calls: list[Call]

    @property
    def messages(self) -> list[Call]:
        return [c for c in self.calls if c.method in SENT]

    @property
    def edits(self) -> list[Call]:
        return [c for c in self.calls if c.method in EDITS]

    @property
    def album_items(self) -> int:
        """Pictures sent in albums (Telegram counts each item of a media group)."""
        return sum(len(c.params.get("media") or []) for c in self.calls if c.method in SENT)

    @property
    def methods(self) -> list[str]:
        return [c.method for c in self.calls if c.method not in ANSWERS]

    def with_button(self, label: str) -> Call:
        for call in reversed(self.messages + self.edits):
            if any(b["text"] == label for b in call.buttons):
                return call
        raise AssertionError(f"no button {label!r} in turn {self.name!r}")


def callback_data(call: Call, label: str) -> str:
    for b in call.buttons:
        if b["text"] == label:
            return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} among {[b['text'] for b in call.buttons]}")


class Person:
    """One person in a private chat; each step returns the turn it made."""

    def __init__(self, fake: FakeTelegram, user: int) -> None:
        self.fake, self.user = fake, user
        self.turns: list[Turn] = []
        self.day = 1

    async def say(self, text: str) -> Turn:
        mark = self.fake.mark()
        self.fake.inject_update(self.fake.message(self.user, text))
        return await self._turn(text, mark)

    async def press(self, on: Turn, label: str, name: str = "") -> Turn:
        call = on.with_button(label)
        mark = self.fake.mark()
        self.fake.inject_update(self.fake.callback(self.user, callback_data(call, label), on=call))
        return await self._turn(name or f"press {label!r}", mark)

    async def reminder(self, reminders: Any, now: datetime) -> Turn:
        mark = self.fake.mark()
        result = await reminders.tick(now)
        assert result.sent == 1, result
        return await self._turn("the reminder", mark)

    async def _turn(self, name: str, mark: int) -> Turn:
        help_mark = self.fake.mark()
        self.fake.inject_update(self.fake.message(self.user, "/help"))
        answer = await self.fake.wait_for(
            "sendMessage", lambda p: p["text"].startswith(HELP), since=help_mark, timeout=20
        )
        end = self.fake.calls.index(answer)
        methods = SENT + EDITS + ANSWERS
        calls = [c for c in self.fake.calls[mark:end] if c.ok and c.method in methods]
        turn = Turn(name, self.day, calls)
        self.turns.append(turn)
        return turn


async def two_days(person: Person, reminders: Any, clock: Any) -> list[Turn]:
    """Onboarding and a session on day one; reminder, morning answer and session on day two."""
    started = await person.say("/start")
    step = await person.press(started, "None of these")
    step = await person.press(step, "None of these")
    step = await person.press(step, "3")
    step = await person.press(step, "5")
    step = await person.press(step, "Skip")
    step = await person.say("Berlin")
    ready = await person.press(step, "07:00")
    routine = await person.press(ready, "Show today's routine")
    await session(person, routine)

    person.day = 2
    clock.now = DAY_TWO_REMINDER
    reminder = await person.reminder(reminders, DAY_TWO_REMINDER)
    asked = await person.press(reminder, "Start")
    routine = await person.press(asked, "2", "the morning answer")
    await session(person, routine)
    return person.turns


async def session(person: Person, routine: Turn) -> None:
    step = await person.press(routine, "Done - check in")
    for label in ("2", "No", "Yes", "7"):  # pain, leg, neutral, deadlift comfort
        step = await person.press(step, label)
    assert "Logged" in step.messages[-1].text, step.messages[-1].text
