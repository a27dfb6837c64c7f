"""Helpers for the scheduler tests: people written straight into the database, recording fake
senders, and a fake monotonic clock whose sleep only moves time."""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import SOURCE_CONTENT, Settings
from bot.core.content import Library, load_library
from bot.core.messages import Platform, Reply
from bot.core.reminder_plan import plan_next
from bot.pacing import Pacer
from bot.ports import Delivery
from bot.scheduler import ReminderScheduler
from bot.service import reminders
from storage.models import CheckIn, Identity, Person

T = TypeVar("T")

START = datetime(2027, 1, 4, 5, 0, tzinfo=UTC)  # a Monday

_library: Library | None = None


def library() -> Library:
    global _library
    if _library is None:
        _library = load_library(SOURCE_CONTENT)
    return _library


@dataclass
class FakeTime:
    """A monotonic clock for the pacer; sleeping moves it on at once."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class VirtualTime:
    """Virtual time for concurrent sleepers: `run` lets every task go as far as it can, then
    moves the clock to the earliest wake-up and wakes those sleepers, until `main` is done."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), self._seq, future))
        await future

    async def run(self, main: Awaitable[T]) -> T:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(20):  # let everything runnable reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        return task.result()


@dataclass
class Sent:
    ref: str
    replies: list[Reply]
    at: datetime | None
    to_channel: bool = False

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)


Script = Callable[[str, int], Delivery]  # (ref, attempt number for that ref) -> outcome


class RecordingSender:
    """A `Sender` that records what it was asked to send; `script` decides each outcome."""

    def __init__(
        self,
        platform: Platform = Platform.TELEGRAM,
        script: Script | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.script = script
        self.clock = clock
        self.sent: list[Sent] = []  # successful sends only
        self.calls: Counter[str] = Counter()

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        return self._deliver(user_ref, replies, to_channel=False)

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        return self._deliver(channel_ref, replies, to_channel=True)

    def _deliver(self, ref: str, replies: Sequence[Reply], *, to_channel: bool) -> Delivery:
        self.calls[ref] += 1
        outcome = self.script(ref, self.calls[ref]) if self.script else Delivery.SENT
        if outcome is Delivery.SENT:
            at = self.clock() if self.clock else None
            self.sent.append(Sent(ref, list(replies), at, to_channel))
        return outcome

    def per_ref(self) -> Counter[str]:
        return Counter(item.ref for item in self.sent)


def settings(url: str = "sqlite+aiosqlite:///:memory:", **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "content_dir": SOURCE_CONTENT,
        "tick_seconds": 30.0,
        "reminder_grace_minutes": 120,
    }
    values.update(extra)
    return Settings(**values)


def scheduler(
    sessions: async_sessionmaker[AsyncSession],
    senders: dict[Platform, Any],
    *,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> ReminderScheduler:
    fake = FakeTime()
    options.setdefault("pacers", {p: Pacer() for p in senders})
    options.setdefault("delivery_budget", None)
    return ReminderScheduler(
        sessions,
        library(),
        senders,
        settings(),
        clock or (lambda: START),
        monotonic=fake,
        sleep=fake.sleep,
        **options,
    )


@dataclass
class PersonSpec:
    zone: str = "Europe/Berlin"
    at: str = "07:30"
    days: int = reminders.EVERY_DAY
    platform: Platform = Platform.TELEGRAM
    user_ref: str | None = None
    evening: str | None = None
    enabled: bool = True


async def add_people(
    sessions: async_sessionmaker[AsyncSession],
    specs: Sequence[PersonSpec],
    now: datetime,
    *,
    first_id: int | None = None,
) -> list[int]:
    """Onboarded people with reminders planned from `now`, written in bulk."""
    async with sessions() as session, session.begin():
        start = first_id
        if start is None:
            start = int((await session.scalar(select(func.max(Person.id)))) or 0) + 1
        people: list[dict[str, Any]] = []
        identities: list[dict[str, Any]] = []
        for offset, spec in enumerate(specs):
            person_id = start + offset
            state = reminders.person_state(
                SimpleNamespace(
                    timezone=spec.zone,
                    remind_enabled=spec.enabled,
                    remind_time=spec.at,
                    remind_days=spec.days,
                    evening_time=spec.evening,
                    snoozed_until=None,
                    reminded_on=None,
                    skip_date=None,
                )
            )
            fire = plan_next(state, now)
            people.append(
                {
                    "id": person_id,
                    "created_at": now,
                    "onboarded": True,
                    "timezone": spec.zone,
                    "remind_time": spec.at,
                    "remind_days": spec.days,
                    "remind_enabled": spec.enabled,
                    "evening_time": spec.evening,
                    "next_fire_utc": fire.at if fire else None,
                    "next_fire_kind": fire.kind.value if fire else None,
                }
            )
            identities.append(
                {
                    "person_id": person_id,
                    "platform": spec.platform.value,
                    "user_ref": spec.user_ref or str(person_id),
                    "display_name": "",
                    "last_seen": now,
                }
            )
        await session.execute(insert(Person), people)
        await session.execute(insert(Identity), identities)
    return [start + offset for offset in range(len(specs))]


async def person(sessions: async_sessionmaker[AsyncSession], person_id: int) -> Person:
    async with sessions() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


async def add_checkin(
    sessions: async_sessionmaker[AsyncSession],
    person_id: int,
    local_date: date,
    at: datetime,
) -> None:
    async with sessions() as session, session.begin():
        session.add(
            CheckIn(
                person_id=person_id,
                started_at=at,
                completed_at=at,
                local_date=local_date,
                phase_index=0,
                pain_during=2,
                leg_symptoms=False,
                neutral="yes",
                comfort=6,
                lifted=True,
                pre_pain=3,
            )
        )


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")
