"""Two first messages of a brand-new person at the same moment (a double tap, or two replicas
each getting one) both get an answer, and the person is created once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.core.messages import Incoming, Platform
from bot.service.coach import Coach
from storage.models import Identity, Person


async def test_two_first_messages_at_once_create_one_person(coach_on: Coach) -> None:
    for round_ in range(10):
        user = f"new{round_}"
        first = Incoming(Platform.TELEGRAM, user, user, is_private=True, text="/start")
        again = Incoming(Platform.TELEGRAM, user, user, is_private=True, text="/help")
        answers = await asyncio.gather(coach_on.handle(first), coach_on.handle(again))
        assert all(replies for replies in answers)
    async with coach_on.sessions() as session:
        people = await session.scalar(select(func.count()).select_from(Person))
        identities = await session.scalar(select(func.count()).select_from(Identity))
    assert (people, identities) == (10, 10)
