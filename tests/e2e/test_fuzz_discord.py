"""Arbitrary Discord input from people at every open question: DMs, slash commands with any
option values, and presses of any "v1:..." custom_id on a forged message, sent by the loopback
fake gateway to the real discord.py client and the adapter, on the real coach (SQLite): no
exception escapes, and an input the coach must refuse changes no row."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.adapters.discord import ACTION_TEMPLATE
from bot.config import Settings
from bot.core.messages import Platform
from bot.service.coach import Coach
from tests.chat import FakeClock
from tests.e2e.fake_discord import FakeDiscord, Person
from tests.e2e.test_discord import running
from tests.fuzz_support import (
    SpyCoach,
    World,
    free_text,
    make_world,
    numbers,
    payloads,
    refusal,
    typed,
)
from tests.snapshot import snapshot

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WATCHER = Person(999_001, "wat")


@dataclass
class Discord:
    world: World
    fake: FakeDiscord
    spy: SpyCoach
    base_message: dict[str, Any]  # a message of the bot's, to forge buttons on

    def __repr__(self) -> str:
        return "Discord()"


@pytest.fixture
async def discord(
    coach: Coach, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Discord]:
    world = await make_world(coach, clock, Platform.DISCORD, first_ref=7000)
    spy = SpyCoach(coach)
    fake = FakeDiscord()
    await fake.start()
    settings_ = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/unused.sqlite3", discord_token="x"
    )
    try:
        with fake.patch():
            async with running(settings_, spy, tmp_path):
                caplog.set_level(logging.INFO)
                help_ = await fake.slash("help", user=WATCHER)
                answer = await fake.wait_for(
                    lambda call: call.token == help_.token and call.route == "followup"
                )
                assert answer.message is not None
                # The watcher's /help added a person: part of the baseline from now on.
                world.baseline = world.rows = await snapshot(coach)
                yield Discord(world, fake, spy, answer.message)
    finally:
        await fake.stop()
    errors = [
        r.getMessage()[:200] for r in caplog.get_records("call") if r.levelno >= logging.ERROR
    ]
    assert not errors


SLASH: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "checkin": st.fixed_dictionaries(
        {},
        optional={
            "pain": st.integers(min_value=-5, max_value=10**6),
            "flat": free_text,
            "comfort": st.integers(min_value=-5, max_value=10**6),
            "leg": st.booleans(),
        },
    ),
    "remind": st.fixed_dictionaries({"time": free_text}, optional={"zone": free_text}),
    "snooze": st.fixed_dictionaries({}, optional={"delay": st.one_of(free_text, numbers)}),
    "pause": st.fixed_dictionaries(
        {}, optional={"days": st.integers(min_value=-(2**53), max_value=2**53)}
    ),
    "exercise": st.fixed_dictionaries({"name": free_text}),
    "summary": st.fixed_dictionaries({}, optional={"choice": free_text, "day": free_text}),
    "teamname": st.fixed_dictionaries({"choice": free_text}),
    **{
        name: st.just({})
        for name in ("start", "routine", "progress", "resume", "privacy", "help", "link", "unlink")
    },
}


def _option(value: Any) -> Any:
    return value[:100] if isinstance(value, str) else value  # Discord's option length


@FUZZ
@given(data=st.data())
async def test_input_at_every_open_question(discord: Discord, data: st.DataObject) -> None:
    world, fake, spy = discord.world, discord.fake, discord.spy
    state = data.draw(st.sampled_from(world.states), label="state")
    person = Person(int(state.chat.user), f"p{state.chat.user}")
    kind = data.draw(st.sampled_from(["dm", "slash", "press"]), label="kind")
    seen = spy.done
    if kind == "dm":
        content = data.draw(typed, label="content")
        assume(content)  # Discord sends no empty messages
        await fake.send_dm(person, content[:2000])
        await spy.wait_until_done(seen + 1)
    elif kind == "slash":
        name = data.draw(st.sampled_from(sorted(SLASH)), label="command")
        options = {k: _option(v) for k, v in data.draw(SLASH[name], label="options").items()}
        interaction = await fake.slash(name, user=person, **options)
        response = await fake.wait_for(
            lambda call: call.token == interaction.token and call.route == "callback"
        )
        if (response.json or {}).get("type") == 5:  # deferred: the coach is asked
            await spy.wait_until_done(seen + 1)
    else:
        custom_id = data.draw(payloads(state, world.others(state)), label="custom_id")[:100]
        # Other custom_ids match no item: discord.py drops them (tests/e2e/test_discord.py).
        assume(re.fullmatch(ACTION_TEMPLATE, custom_id) is not None)
        forged = dict(discord.base_message)
        forged["components"] = [
            {
                "type": 1,
                "components": [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id}],
            }
        ]
        await fake.press(0, custom_id, user=person, message=forged)
        await spy.wait_until_done(seen + 1)
    assert not spy.errors, spy.errors
    handled = spy.seen[seen:]
    why = "the adapter passed nothing to the coach"
    if handled:
        [(incoming, replies)] = handled
        why = refusal(state, incoming, replies)
    await world.after("discord: DMs, slash commands, presses", why)
