"""/link and /unlink: two chat identities become one person with one history."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.core.messages import Platform
from bot.service.coach import Coach
from storage.models import CheckIn, DecisionRecord, Identity, LinkCode, Person
from tests.chat import Chat, FakeClock


@pytest.fixture
def coach(coach_on: Coach) -> Coach:
    return coach_on


async def rows(coach: Coach, model: type) -> int:
    async with coach.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def code_in(text: str) -> str:
    found = re.search(r"/link ([A-Z0-9]{4}-[A-Z0-9]{4})", text)
    assert found, text
    return found.group(1)


def two_platforms(coach: Coach) -> tuple[Chat, Chat]:
    return (
        Chat(coach, user="111", platform=Platform.TELEGRAM),
        Chat(coach, user="222", platform=Platform.DISCORD),
    )


async def test_link_merges_two_histories(coach: Coach, clock: FakeClock) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard(pain=3)
    await telegram.say("/checkin 3 yes 6")
    await discord.onboard(pain=4)
    await discord.say("/checkin 2 mostly 5")
    await discord.say("/checkin 1 yes none")
    assert await rows(coach, Person) == 2

    await telegram.say("/link")
    code = code_in(telegram.text)
    await discord.say(f"/link {code}")
    assert "Linked!" in discord.text
    assert await rows(coach, Person) == 1
    assert await rows(coach, Identity) == 2
    assert await rows(coach, CheckIn) == 3  # nothing lost
    assert await rows(coach, DecisionRecord) == 3

    await discord.say("/progress")
    assert "Sessions: 3 in all" in discord.text
    await telegram.say("/progress")
    assert "Sessions: 3 in all" in telegram.text
    # The kept profile is the one that issued the code.
    async with coach.sessions() as session:
        person = (await session.scalars(select(Person))).one()
    assert person.baseline_pain == 3


async def test_code_is_single_use_and_expires(coach: Coach, clock: FakeClock) -> None:
    telegram, discord = two_platforms(coach)
    console = Chat(coach, user="me")
    await telegram.onboard()
    await telegram.say("/link")
    code = code_in(telegram.text)
    clock.advance(minutes=11)
    await discord.say(f"/link {code}")
    assert "wrong or has expired" in discord.text
    assert await rows(coach, Person) == 2

    await telegram.say("/link")
    fresh = code_in(telegram.text)
    assert await rows(coach, LinkCode) == 1  # the new code replaced the old one
    await discord.say(f"/link {fresh}")
    assert "Linked!" in discord.text
    await console.say(f"/link {fresh}")
    assert "wrong or has expired" in console.text
    assert await rows(coach, Identity) == 3 and await rows(coach, Person) == 2


async def test_wrong_code_changes_nothing(coach: Coach) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard()
    await discord.onboard()
    for wrong in ["ABCD-EFGH", "x" * 300, "'; DROP TABLE people; --", "\x00AB\x07"]:
        await discord.say(f"/link {wrong}")
        assert "wrong or has expired" in discord.text
    assert await rows(coach, Person) == 2


async def test_own_code_is_refused(coach: Coach) -> None:
    telegram, _ = two_platforms(coach)
    await telegram.onboard()
    await telegram.say("/link")
    await telegram.say(f"/link {code_in(telegram.text)}")
    assert "already linked" in telegram.text


async def test_unlink_keeps_history_with_the_other_account(coach: Coach) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard()
    await telegram.say("/checkin 3 yes 6")
    await discord.say("/link")
    assert "Let's get you set up" not in discord.text
    await telegram.say("/link")
    await discord.say(f"/link {code_in(telegram.text)}")
    await discord.say("/unlink")
    assert "Unlinked" in discord.text
    assert await rows(coach, Person) == 2
    await discord.say("/progress")
    assert "Sessions: 0 in all" in discord.text
    await telegram.say("/progress")
    assert "Sessions: 1 in all" in telegram.text
    await discord.say("/unlink")
    assert "not linked" in discord.text


async def test_linking_from_a_fresh_account_keeps_every_setting(coach: Coach) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard(pain=4)
    await telegram.say("/remind 06:15 Asia/Kolkata mon,wed,fri")
    await telegram.say("/checkin 6 yes 5")  # pain above 5: lighter dose from now on
    await telegram.say("/pause 5")
    await discord.say("/help")  # a fresh account that never finished /start
    await discord.say("/link")
    await telegram.say(f"/link {code_in(discord.text)}")
    assert "Linked!" in telegram.text
    async with coach.sessions() as session:
        person = (await session.scalars(select(Person))).one()
    assert person.onboarded and person.timezone == "Asia/Kolkata"
    assert (person.remind_time, person.remind_enabled, person.remind_days) == (
        "06:15",
        True,
        0b10101,
    )
    assert person.lighter_dose and person.paused_until is not None
    assert person.baseline_pain == 4
