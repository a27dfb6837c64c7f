"""One message per reply where one will do, counted where it matters: the calls the real
python-telegram-bot client makes to the loopback Bot API for two days of one person
(tests/e2e/one_day.py), turn by turn. Each turn sends exactly the messages it needs."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.telegram import RetryPolicy, TelegramSender
from bot.bootstrap import build_coach
from bot.config import Settings
from bot.core.messages import Platform
from tests.chat import FakeClock
from tests.e2e.fake_telegram import TOKEN, FakeTelegram
from tests.e2e.one_day import Person, Turn, two_days
from tests.e2e.test_telegram import ANA, running
from tests.integration.scheduler_support import scheduler

TEXT, ALBUM, EDIT = "sendMessage", "sendMediaGroup", "editMessageText"
SESSION = [
    ("press 'Done - check in'", [TEXT]),  # "Nice work." and the first question: one message
    ("press '2'", [EDIT]),
    ("press 'No'", [EDIT]),
    ("press 'Yes'", [EDIT]),
    ("press '7'", [TEXT]),
]
EXPECTED = {
    1: [
        ("/start", [TEXT]),  # the welcome and the first safety question
        ("press 'None of these'", [EDIT]),
        ("press 'None of these'", [EDIT]),
        ("press '3'", [EDIT]),
        ("press '5'", [EDIT]),
        ("press 'Skip'", [EDIT]),
        ("Berlin", [TEXT]),  # the zone understood and the reminder time asked
        ("press '07:00'", [TEXT]),
        ('press "Show today\'s routine"', [ALBUM, TEXT]),  # an album takes no buttons
        *SESSION,
    ],
    2: [
        ("the reminder", [TEXT]),
        ("press 'Start'", [TEXT]),  # the morning question
        ("the morning answer", [ALBUM, TEXT]),  # the thanks moved into the routine's text
        *SESSION,
    ],
}


@pytest.fixture
async def days(tmp_path: Path) -> AsyncIterator[list[Turn]]:
    async with FakeTelegram() as fake:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3",
            telegram_token=SecretStr(TOKEN),
            telegram_api_url=fake.base_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = FakeClock()  # Monday 2027-01-04, 09:00 in Berlin
        coach = await build_coach(settings, clock=clock)
        try:
            async with running(fake, settings, coach) as app:
                policy = RetryPolicy(attempts=2, backoff=0.01)
                sender = TelegramSender.from_application(app, policy)
                reminders = scheduler(coach.sessions, {Platform.TELEGRAM: sender})
                yield await two_days(Person(fake, ANA), reminders, clock)
        finally:
            await coach.close()


def shown(call: Any) -> str:
    return html.unescape(call.text)


def only(turns: list[Turn], day: int, name: str) -> Turn:
    [turn] = [t for t in turns if t.day == day and t.name == name]
    return turn


async def test_each_turn_of_two_days_sends_exactly_the_messages_it_needs(
    days: list[Turn],
) -> None:
    turns = days
    for day, expected in EXPECTED.items():
        assert [(t.name, t.methods) for t in turns if t.day == day] == expected
    for turn in turns:
        pressed = turn.name not in ("/start", "Berlin", "the reminder")
        assert [c.method for c in turn.calls].count("answerCallbackQuery") == int(pressed)
        assert all(c.chat_id == ANA for c in turn.messages + turn.edits)  # all private

    # What the joined messages say: both parts, in order, the buttons of the last.
    [start] = only(turns, 1, "/start").messages
    assert shown(start).index("I'm your mobility coach") < shown(start).index("safety check")
    assert [b["text"] for b in start.buttons] == ["None of these", "Yes, at least one"]
    [zone] = only(turns, 1, "Berlin").messages
    assert shown(zone).index("Europe/Berlin") < shown(zone).index("What time")
    assert "07:00" in [b["text"] for b in zone.buttons]
    for day in (1, 2):
        [question] = only(turns, day, "press 'Done - check in'").messages
        text = shown(question)
        assert text.startswith("Nice work. Four quick questions") and "DURING" in text
        assert [b["text"] for b in question.buttons] == [str(n) for n in range(11)]
    album, routine = only(turns, 2, "the morning answer").messages
    assert len(album.params["media"]) == 4 and not album.buttons
    assert shown(routine).startswith("<b>Today's routine</b>\nThanks, 2/10 noted")
    assert "Phase 1 of 3" in shown(routine)
    assert [b["text"] for b in routine.buttons] == ["Done - check in"]
