"""/link and /unlink: two chat identities become one person with one history."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from bot.core.messages import Platform
from bot.service import link_guard
from bot.service.coach import Coach
from storage.models import CheckIn, DecisionRecord, Identity, LinkCode, LinkTry, Person
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


async def test_a_new_accounts_first_message_can_be_link_code(coach: Coach) -> None:
    """The account is created by the very message that links it (through `Coach.handle`)."""
    telegram, _ = two_platforms(coach)
    await telegram.onboard()
    await telegram.say("/checkin 3 yes 6")
    await telegram.say("/link")
    newcomer = Chat(coach, user="333", platform=Platform.DISCORD)
    await newcomer.say(f"/link {code_in(telegram.text)}")
    assert "Linked!" in newcomer.text
    assert await rows(coach, Person) == 1 and await rows(coach, Identity) == 2
    await newcomer.say("/progress")
    assert "Sessions: 1 in all" in newcomer.text
    await newcomer.say("/link XXXX-XXXX")  # the same account again: an ordinary wrong code
    assert "wrong or has expired" in newcomer.text
    assert await rows(coach, Person) == 1


async def test_one_code_sent_by_two_accounts_at_once_links_one(coach: Coach) -> None:
    """20 rounds of two accounts racing with the same code: exactly one is linked each time
    (on PostgreSQL the two messages run side by side on two connections)."""
    linked_total = 0
    for round_ in range(20):
        keeper = Chat(coach, user=f"k{round_}", platform=Platform.TELEGRAM)
        racers = [Chat(coach, user=f"r{round_}-{n}", platform=Platform.DISCORD) for n in range(2)]
        for chat in (keeper, *racers):
            await chat.say("/help")  # each account exists before the race
        await keeper.say("/link")
        code = code_in(keeper.text)
        await asyncio.gather(*(chat.say(f"/link {code}") for chat in racers))
        linked = [chat for chat in racers if "Linked!" in chat.text]
        assert len(linked) == 1, [chat.text for chat in racers]
        linked_total += len(linked)
        async with coach.sessions() as session:
            keeper_id = await session.scalar(
                select(Identity.person_id).where(Identity.user_ref == keeper.user)
            )
            accounts = await session.scalar(
                select(func.count()).where(Identity.person_id == keeper_id)
            )
        assert accounts == 2
    print(f"link race: 20 rounds, {linked_total} links (one per round)")


async def test_wrong_codes_are_limited_per_account(coach: Coach, clock: FakeClock) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard()
    await telegram.say("/link")
    code = code_in(telegram.text)
    tried = looked_at = 0
    for n in range(50):
        await discord.say(f"/link WRNG-{n:04d}")
        tried += 1
        looked_at += "wrong or has expired" in discord.text
    assert looked_at == link_guard.ACCOUNT_TRIES
    assert "Too many tries" in discord.text and "Wait 15 minutes" in discord.text
    assert await rows(coach, LinkTry) == link_guard.ACCOUNT_TRIES  # refused tries add nothing
    print(f"wrong link codes from one account: {tried} sent, {looked_at} looked at")
    # Even the right code waits; another account is not held up.
    await discord.say(f"/link {code}")
    assert "Too many tries" in discord.text and await rows(coach, Person) == 2
    clock.advance(minutes=7)
    await discord.say(f"/link {code}")
    assert "Wait 8 minutes" in discord.text
    console = Chat(coach, user="me")
    await console.say("/link ABCD-EFGH")
    assert "wrong or has expired" in console.text
    clock.advance(minutes=8, seconds=1)
    await telegram.say("/link")  # the first code has expired by now
    await discord.say(f"/link {code_in(telegram.text)}")
    assert "Linked!" in discord.text


async def test_wrong_codes_from_all_accounts_together_are_limited(
    coach: Coach, clock: FakeClock
) -> None:
    telegram, discord = two_platforms(coach)
    await telegram.onboard()
    await telegram.say("/link")
    code = code_in(telegram.text)
    async with coach.sessions() as session, session.begin():
        at = clock.now - timedelta(minutes=3)
        await session.execute(
            insert(LinkTry), [{"identity_id": None, "at": at}] * link_guard.ALL_TRIES
        )
    await discord.say(f"/link {code}")
    assert "Linking is paused" in discord.text and "7 minutes" in discord.text
    assert await rows(coach, Person) == 2
    clock.advance(minutes=7, seconds=1)
    await discord.say(f"/link {code}")
    assert "Linked!" in discord.text


async def test_delete_unties_wrong_codes_from_the_account(coach: Coach) -> None:
    telegram, _ = two_platforms(coach)
    await telegram.onboard()
    for _ in range(3):
        await telegram.say("/link ABCD-EFGH")
    await telegram.say("/delete")
    await telegram.say("DELETE")
    assert await rows(coach, Identity) == 0
    async with coach.sessions() as session:
        left = (await session.scalars(select(LinkTry.identity_id))).all()
    assert left == [None, None, None]  # bare times, still counted for everyone
