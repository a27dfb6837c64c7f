"""`/delete` wins over delivery: a reminder already claimed, or already leased for sending, is
not sent once the person is deleted, and an old button pressed afterwards stores nothing until
they start again. The real coach and the scheduler on one database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import Platform, Reply
from bot.ports import Delivery
from bot.service.coach import UNKNOWN_PRESS, Coach
from storage.models import Identity, OutboxMessage, Person
from tests.chat import Chat
from tests.integration.scheduler_support import PersonSpec, add_people, scheduler

PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
DAY = timedelta(days=1)


class Sender:
    """Records each send; `during` runs inside the send of the given ref (after the lease)."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Reply]]] = []
        self.during: dict[str, Chat] = {}

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        self.sent.append((user_ref, list(replies)))
        leaver = self.during.pop(user_ref, None)
        if leaver is not None:
            await leaver.say("/delete")
            await leaver.say("DELETE")
            assert "everything about you is deleted" in leaver.text
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        return Delivery.FAILED

    def refs(self) -> list[str]:
        return [ref for ref, _ in self.sent]


async def stored(sessions: async_sessionmaker[AsyncSession], person_id: int, ref: str) -> int:
    """Rows about a person: their person row, identities with their chat, outbox rows."""
    async with sessions() as session:
        found = 0
        for statement in (
            select(func.count()).select_from(Person).where(Person.id == person_id),
            select(func.count()).select_from(Identity).where(Identity.user_ref == ref),
            select(func.count())
            .select_from(OutboxMessage)
            .where((OutboxMessage.person_id == person_id) | (OutboxMessage.ref == ref)),
        ):
            found += int(await session.scalar(statement) or 0)
        return found


async def test_delete_during_a_fan_out_stops_the_leased_reminder(coach_on: Coach) -> None:
    sessions = coach_on.sessions
    # Ids the database's own sequence does not reach (/start adds a person below).
    first, leaving = await add_people(
        sessions, [PersonSpec(), PersonSpec()], PLANNED, first_id=1000
    )
    ref = str(leaving)
    leaver = Chat(coach_on, user=ref, platform=Platform.TELEGRAM, name="Sam Leaver")
    sender = Sender()
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender}, concurrency=1)

    assert (await reminders.tick(DUE)).sent == 2
    [old_reminder] = [replies for sent_to, replies in sender.sent if sent_to == ref]
    old_buttons = {button.label: button.action for button in old_reminder[0].all_buttons()}
    assert {"Start", "Later"} <= set(old_buttons)

    # The next day both reminders are leased in one batch; while the first one is being sent,
    # the second person deletes everything. Their reminder, leased already, is not sent.
    sender.sent.clear()
    sender.during[str(first)] = leaver
    result = await reminders.tick(DUE + DAY)
    assert sender.refs() == [str(first)]
    assert (result.sent, result.gone) == (1, 1)
    assert await stored(sessions, leaving, ref) == 0

    # Yesterday's buttons, pressed now: a clear answer, and nothing stored.
    for label in ("Start", "Later"):
        replies = await leaver.press_payload(old_buttons[label])
        assert [reply.text for reply in replies] == [UNKNOWN_PRESS]
    assert await stored(sessions, leaving, ref) == 0
    async with sessions() as session:
        names = await session.scalars(select(Identity.display_name))
        assert "Sam Leaver" not in set(names.all())

    # Nothing more is sent to them; starting again is what brings them back.
    assert not (await reminders.tick(DUE + 2 * DAY + timedelta(minutes=1))).gone
    assert sender.refs().count(ref) == 0
    await leaver.say("/start")
    async with sessions() as session:
        assert await session.scalar(
            select(func.count()).select_from(Identity).where(Identity.user_ref == ref)
        )


async def test_delete_after_the_claim_leaves_nothing_to_send(coach_on: Coach) -> None:
    sessions = coach_on.sessions
    [leaving] = await add_people(sessions, [PersonSpec()], PLANNED)
    ref = str(leaving)
    sender = Sender()
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender})
    assert (await reminders.claim(DUE)).enqueued == 1
    leaver = Chat(coach_on, user=ref, platform=Platform.TELEGRAM)
    await leaver.say("/delete")
    await leaver.say("DELETE")
    result = await reminders.deliver(DUE)
    assert not sender.sent and result.sent == 0
    assert await stored(sessions, leaving, ref) == 0
