"""Arbitrary text and button payloads at every open question, through the console adapter's own
mapping (numbered choices, labels) and the coach's press path: nothing escapes as an exception,
and an input the coach must refuse changes no row. One SQLite database per test function."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleChat
from bot.core.messages import Incoming, Platform
from bot.service.coach import Coach
from tests.chat import FakeClock
from tests.fuzz_support import SpyCoach, World, make_world, payloads, refusal, typed

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def world(coach: Coach, clock: FakeClock) -> World:
    return await make_world(coach, clock, Platform.CONSOLE, first_ref=1000)


@FUZZ
@given(data=st.data(), line=typed)
async def test_typed_lines_at_every_open_question(
    world: World, data: st.DataObject, line: str
) -> None:
    state = data.draw(st.sampled_from(world.states), label="state")
    spy = SpyCoach(world.coach)
    console = ConsoleChat(spy, user=state.chat.user, out=io.StringIO())  # type: ignore[arg-type]
    console.show(state.chat.last)  # the question and its numbered choices
    await console.say(line)
    assert not spy.errors
    [(incoming, replies)] = spy.seen
    assert replies, "every message gets an answer"
    await world.after("console: typed lines", refusal(state, incoming, replies))


@FUZZ
@given(data=st.data())
async def test_button_payloads_at_every_open_question(world: World, data: st.DataObject) -> None:
    state = data.draw(st.sampled_from(world.states), label="state")
    payload = data.draw(payloads(state, world.others(state)), label="payload")
    incoming = Incoming(
        platform=Platform.CONSOLE,
        user_ref=state.chat.user,
        chat_ref=state.chat.user,
        is_private=True,
        display_name=state.chat.user,
        action=payload,
    )
    replies = await world.coach.handle(incoming)
    assert replies
    await world.after("service: button payloads", refusal(state, incoming, replies))
