"""The reminder scheduler's life: one APScheduler interval job ("tick") per process, and the
tick itself: claim the people and team channels due, then deliver the outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.core.clock import Clock, utc_now
from bot.core.content import Library
from bot.core.messages import Platform
from bot.logs import failure
from bot.pacing import Monotonic, Pacer, SharedPacer, Sleep, limits_for
from bot.ports import Sender
from bot.scheduler.claims import PeopleClaims
from bot.scheduler.delivery import Courier
from bot.scheduler.result import TickResult
from bot.scheduler.team_posts import claim_teams
from storage import outbox
from storage.send_budget import shared_budget

log = logging.getLogger(__name__)


class SchedulerSettings(Protocol):
    """The part of `bot.config.Settings` the scheduler reads."""

    tick_seconds: float
    reminder_grace_minutes: int


def default_pacer(
    sessions: async_sessionmaker[AsyncSession],
    platform: Platform,
    sender: Sender,
    monotonic: Monotonic,
    wall: Monotonic,
    sleep: Sleep,
) -> Pacer:
    """The platform's pacer: shared by the replicas on PostgreSQL, this process's on SQLite."""
    limits = limits_for(platform, paid_broadcast=getattr(sender, "paid_broadcast", False) is True)
    book = shared_budget(sessions)
    if book is None:
        return Pacer(limits, clock=monotonic, sleep=sleep)
    return SharedPacer(limits, book, platform, clock=wall, sleep=sleep)


class ReminderScheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: Library,
        senders: Mapping[Platform, Sender],
        settings: SchedulerSettings,
        clock: Clock = utc_now,
        *,
        pacers: Mapping[Platform, Pacer] | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall: Monotonic = time.time,
        only_refs: Mapping[Platform, frozenset[str]] | None = None,
        batch: int = 2000,
        concurrency: int = 4,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        retry_after: timedelta = timedelta(seconds=30),
        delivery_budget: float | None = -1.0,
        keep: timedelta = timedelta(days=14),
        charts_dir: Path | None = None,
    ) -> None:
        """`only_refs` limits a platform to some chats (the console serves one person).
        `concurrency` is how many sends are in flight per platform: a process killed mid-send
        may repeat at most that many. `delivery_budget` (seconds) ends a tick's sending so the
        next tick can claim; -1 means 90 % of the tick interval, None sends until done.
        Finished outbox rows are deleted after `keep`. Weekly summary charts go to
        `charts_dir` (default: the coach's chart folder). Without `pacers`, each platform is
        paced to its limits (`limits_for`; a sender with `paid_broadcast` set pays for
        Telegram's higher one): on PostgreSQL with the budget every replica shares (`wall` is
        its clock), on SQLite by this process alone (`monotonic`)."""
        self.sessions = sessions
        self.library = library
        self.tick_seconds = float(settings.tick_seconds)
        self.grace = timedelta(minutes=settings.reminder_grace_minutes)
        self.clock = clock
        self.monotonic = monotonic
        self.batch = batch
        self.audience = outbox.Audience(
            tuple(platform.value for platform in senders),
            {p.value: refs for p, refs in (only_refs or {}).items()} or None,
        )
        self.people = PeopleClaims(sessions, library, self.audience, self.grace, batch)
        self.courier = Courier(
            sessions=sessions,
            library=library,
            senders=dict(senders),
            pacers={
                platform: (pacers or {}).get(platform)
                or default_pacer(sessions, platform, sender, monotonic, wall, sleep)
                for platform, sender in senders.items()
            },
            audience=self.audience,
            grace=self.grace,
            lease=lease,
            concurrency=max(1, concurrency),
            max_attempts=max_attempts,
            retry_after=retry_after,
            budget=0.9 * self.tick_seconds if delivery_budget == -1.0 else delivery_budget,
            keep=keep,
            charts_dir=charts_dir,
            monotonic=monotonic,
            stopping=self._is_stopping,
        )
        self._scheduler: Any = None
        self._running: asyncio.Task[Any] | None = None
        self._stopping = False
        self.last_tick: datetime | None = None  # for /healthz: is the tick still running?

    def _is_stopping(self) -> bool:
        return self._stopping

    def ticking(self) -> bool:
        """Healthy when a tick finished within three tick intervals."""
        if self.last_tick is None:
            return False
        return self.clock() - self.last_tick < timedelta(seconds=3 * self.tick_seconds + 5)

    # Life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Add the one interval job to an AsyncIOScheduler on the running loop and start it.
        The first tick runs at once, so a restart resumes the outbox without waiting."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._stopping = False
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._job,
            "interval",
            seconds=self.tick_seconds,
            id="reminders-tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler

    async def shutdown(self, wait_seconds: float = 10.0) -> None:
        """Stop ticking; a tick in progress finishes the send in hand and gives back the rest."""
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.pause()  # no new tick; APScheduler's shutdown would cancel a running one
        running = self._running
        if running is not None and not running.done():
            try:
                await asyncio.wait_for(asyncio.shield(running), wait_seconds)
            except TimeoutError:
                log.warning("reminders: tick still running at shutdown; cancelled")
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    async def _job(self) -> None:
        if self._stopping:
            return
        self._running = asyncio.current_task()
        try:
            result = await self.tick(self.clock())
            if result:
                log.info("reminders: %s", result)
        except Exception as exc:  # a failed tick must not stop the next one
            log.error("reminders: tick failed: %s", failure(exc))
        finally:
            self._running = None

    # The tick ---------------------------------------------------------------------------------

    async def tick(self, now: datetime) -> TickResult:
        """Claim, render and enqueue every reminder due at `now`, then send the outbox."""
        started = self.monotonic()
        result = TickResult()
        await self.claim(now, result)
        await self.deliver(now, started, result)
        self.last_tick = now
        metrics.REMINDERS_CLAIMED.inc(result.claimed)
        metrics.REMINDERS_SENT.inc(result.sent)
        metrics.REMINDERS_FAILED.inc(result.failed + result.unreachable + result.dropped)
        return result

    async def claim(self, now: datetime, result: TickResult | None = None) -> TickResult:
        """People, then team channels: claim → render → enqueue until nothing is due (no
        sending)."""
        result = result if result is not None else TickResult()
        await self.people.run(now, result, self._is_stopping)
        found = await claim_teams(
            self.sessions,
            self.library,
            self.audience,
            now,
            grace=self.grace,
            batch=self.batch,
            stopping=self._is_stopping,
        )
        result.claimed += found.claimed
        result.enqueued += found.enqueued
        result.dropped += found.dropped
        result.lost += found.lost
        return result

    async def deliver(
        self, now: datetime, started: float | None = None, result: TickResult | None = None
    ) -> TickResult:
        """Send the due outbox rows of every platform this process serves."""
        result = result if result is not None else TickResult()
        await self.courier.deliver(now, self.monotonic() if started is None else started, result)
        return result
