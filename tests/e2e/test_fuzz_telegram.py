"""Arbitrary Telegram updates from people at every open question, parsed by python-telegram-bot
(`Update.de_json`) and handled by the adapter's own handler, on the real coach (SQLite) and the
loopback fake Bot API: no exception escapes, and an input the coach must refuse changes no row.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application

from bot.adapters.telegram import RetryPolicy, build_application
from bot.config import Settings
from bot.core.messages import Platform
from bot.service.coach import Coach
from tests.chat import FakeClock
from tests.e2e.fake_telegram import TOKEN, FakeTelegram
from tests.fuzz_support import SpyCoach, World, make_world, payloads, refusal, typed

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = RetryPolicy(attempts=2, backoff=0.01)
GROUP = -100_777


@dataclass
class Telegram:
    world: World
    fake: FakeTelegram
    app: Application[Any, Any, Any, Any, Any, Any]
    spy: SpyCoach
    update_ids: itertools.count[int]

    def __repr__(self) -> str:
        return "Telegram()"


@pytest.fixture
async def telegram(
    coach: Coach, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Telegram]:
    world = await make_world(coach, clock, Platform.TELEGRAM, first_ref=5000)
    spy = SpyCoach(coach)
    async with FakeTelegram() as fake:
        settings_ = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/unused.sqlite3",
            telegram_token=SecretStr(TOKEN),
            telegram_api_url=fake.base_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = build_application(settings_, spy, retry=FAST, rate_limit=False)
        async with app:  # getMe: the bot knows its name, as in production
            caplog.set_level(logging.INFO)
            yield Telegram(world, fake, app, spy, itertools.count(1))
    errors = [
        r.getMessage()[:200] for r in caplog.get_records("call") if r.levelno >= logging.ERROR
    ]
    assert not errors


@st.composite
def updates(draw: st.DrawFn, telegram: Telegram) -> tuple[Any, dict[str, Any]]:
    """A state, and an update from its person: a private message, an edited one, a group
    command or reply, a sticker, or a button press with any callback data."""
    world, fake = telegram.world, telegram.fake
    state = draw(st.sampled_from(world.states), label="state")
    user = int(state.chat.user)
    kind = draw(
        st.sampled_from(["private", "private", "edited", "group", "reply", "sticker", "press"])
    )
    if kind == "press":
        data = draw(payloads(state, world.others(state)), label="callback data")
        update = fake.callback(user, data, chat_id=user)
    elif kind == "sticker":
        update = fake.message(
            user,
            sticker={
                "file_id": "x",
                "file_unique_id": "y",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    else:
        text = draw(typed, label="text")
        if not text:
            text = " "  # Telegram has no empty text messages
        if kind in ("group", "reply"):
            update = fake.message(user, text, chat_id=GROUP)
            if kind == "reply":
                update["message"]["reply_to_message"] = {
                    "message_id": 1,
                    "date": 0,
                    "chat": fake.chat(GROUP, "supergroup"),
                    "from": fake._bot_user(),
                    "text": "question",
                }
        else:
            update = fake.message(user, text, edited=kind == "edited")
    update["update_id"] = next(telegram.update_ids)
    return state, update


@FUZZ
@given(data=st.data())
async def test_updates_at_every_open_question(telegram: Telegram, data: st.DataObject) -> None:
    state, raw = data.draw(updates(telegram))
    spy = telegram.spy
    seen = len(spy.seen)
    update = Update.de_json(raw, telegram.app.bot)
    await telegram.app.process_update(update)
    assert not spy.errors, spy.errors
    handled = spy.seen[seen:]
    if handled:
        [(incoming, replies)] = handled
        why = refusal(state, incoming, replies)
    else:
        why = "the adapter passed nothing to the coach"
    await telegram.world.after("telegram: updates", why)
