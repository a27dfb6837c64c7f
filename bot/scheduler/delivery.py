"""The tick's sending step: lease the due outbox rows of each platform, mark each SENDING just
before its pacing slot and send, push its lease on while the send lasts, and record every
outcome as it comes.

Each row is marked SENDING in a short transaction that also checks the lease is still this
process's and the person still exists (`/delete` wins over a leased row), and its lease is
pushed on while the send lasts. A restart resumes the outbox: rows a killed process had leased
are taken again when the lease ends, and only its SENDING rows (at most `concurrency` per
platform) can go out twice. Rows past the grace period are dropped, not sent at night. A weekly
summary row holds only a marker: its chart is drawn here, when it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.core.clock import Clock
from bot.core.content import Library
from bot.core.messages import Platform, Reply
from bot.logs import failure
from bot.pacing import Monotonic, Pacer, is_group
from bot.ports import Delivery, Sender
from bot.scheduler.result import TickResult
from bot.service import reminder_message, weekly
from storage import outbox
from storage.unit_of_work import SqlStorage

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


@dataclass
class Courier:
    """Sends the outbox of the platforms this process serves. `concurrency` is how many sends
    are in flight per platform; `budget` (seconds, None: until done) ends a tick's sending so
    the next tick can claim; finished rows are deleted after `keep`."""

    sessions: async_sessionmaker[AsyncSession]
    library: Library
    senders: Mapping[Platform, Sender]
    pacers: Mapping[Platform, Pacer]
    audience: outbox.Audience
    grace: timedelta
    lease: timedelta
    concurrency: int
    max_attempts: int
    retry_after: timedelta
    budget: float | None
    keep: timedelta
    charts_dir: Path | None
    monotonic: Monotonic
    stopping: Callable[[], bool]
    _pruned_at: datetime | None = field(default=None, init=False)

    async def deliver(self, now: datetime, started: float, result: TickResult) -> None:
        """Send the due outbox rows of every platform this process serves."""

        def current() -> datetime:
            return now + timedelta(seconds=max(0.0, self.monotonic() - started))

        async with self.sessions() as session, session.begin():
            result.dropped += await outbox.drop_late(session, now, self.grace, self.audience)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                await outbox.prune(session, now - self.keep)
                self._pruned_at = now
                active = await outbox.active_people(session, now - timedelta(days=7))
                metrics.ACTIVE_PEOPLE.set(active)
        await asyncio.gather(*(self._platform(p, current, started, result) for p in self.senders))

    def _lease_size(self, pacer: Pacer) -> int:
        # About two seconds of sending at the platform's pace, so little waits under a lease.
        rate = pacer.limits.per_second
        return max(self.concurrency, int(rate * 2)) if rate else max(self.concurrency, 500)

    async def _platform(
        self, platform: Platform, current: Clock, started: float, result: TickResult
    ) -> None:
        size = self._lease_size(self.pacers[platform])
        while not self.stopping():
            at = current()
            async with self.sessions() as session, session.begin():
                leased = await outbox.lease(
                    session, self.audience, platform.value, at, at + self.lease, size
                )
            if not leased:
                return
            queue = deque(leased)
            workers = min(self.concurrency, len(queue))
            await asyncio.gather(
                *(self._worker(platform, queue, current, result) for _ in range(workers))
            )
            if len(leased) < size:
                return  # that was all that was due
            if self.budget is not None and self.monotonic() - started >= self.budget:
                return

    async def _worker(
        self, platform: Platform, queue: deque[outbox.Leased], current: Clock, result: TickResult
    ) -> None:
        while queue:
            if self.stopping():
                back = [row.id for row in queue]
                token = queue[0].until
                queue.clear()
                async with self.sessions() as session, session.begin():
                    await outbox.release(session, back, token, current())
                return
            await self._send(platform, queue.popleft(), current, result)

    async def _send(
        self, platform: Platform, row: outbox.Leased, current: Clock, result: TickResult
    ) -> None:
        if row.fire_at + self.grace < current():
            await self._finish(row.id, outbox.DROPPED, current(), error="late", token=row.until)
            result.dropped += 1
            return
        replies = await self._render(platform, row, current, result)
        if replies is None:
            return
        at = current()
        async with self.sessions() as session, session.begin():
            attempt = await outbox.start(session, row.id, row.until, at + self.lease)
        if attempt is None:  # deleted since the lease (/delete), or taken over: send nothing
            result.gone += 1
            return
        # Marked first, then the pacing slot, then at once the send: a transaction between slot
        # and send adds its varying delay (tens of ms under load) and bunches sends up past the
        # limit (bench_delivery, two replicas: 27 429s in 1,000 sends that way, 0 this way).
        await self.pacers[platform].acquire(
            row.ref, group=is_group(platform, row.ref), messages=max(1, len(replies))
        )
        sender = self.senders[platform]
        error: str | None = None
        try:
            if row.to_channel:
                send = sender.send_to_channel(row.ref, replies)
            else:
                send = sender.send_to_person(row.ref, replies)
            outcome = await self._in_flight(row.id, at + self.lease, send, current)
        except Exception as exc:  # a sender that raises is treated as a transient failure
            outcome, error = Delivery.RETRY, type(exc).__name__[:64]
        result.count(await self._outcome(platform, row, attempt, outcome, error, current))

    async def _render(
        self, platform: Platform, row: outbox.Leased, current: Clock, result: TickResult
    ) -> list[Reply] | None:
        """The row's replies; None when there is nothing to send (counted and recorded here)."""
        summary_of = weekly.marked_person(row.payload)
        if summary_of is None:
            return [reminder_message.reply_from_json(item) for item in row.payload]
        try:
            replies = await weekly.weekly_replies(
                SqlStorage(self.sessions),
                self.library,
                summary_of,
                row.fire_at,
                self.charts_dir or weekly.default_charts_dir(),
            )
        except Exception as exc:  # e.g. the chart could not be drawn: try again later
            log.warning("reminders: outbox row %s not rendered (%s)", row.id, type(exc))
            counted = await self._outcome(
                platform,
                row,
                row.attempts + 1,
                Delivery.RETRY,
                type(exc).__name__[:64],
                current,
                unstarted=row.until,
            )
            result.count(counted)
            return None
        if not replies:  # paused, held, turned off or gone since
            await self._finish(
                row.id, outbox.DROPPED, current(), error="not wanted", token=row.until
            )
            result.skipped += 1
            return None
        return replies

    async def _in_flight(
        self, row_id: int, token: datetime, send: Awaitable[Delivery], current: Clock
    ) -> Delivery:
        """Await a send, pushing its row's lease on every third of the lease while it lasts
        (a flood wait may outlast the lease, and another process must not send it again).
        This waits on the event loop's clock: a send in flight takes real time."""
        task = asyncio.ensure_future(send)
        every = max(0.001, self.lease.total_seconds() / 3)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=every)
                if done:
                    return task.result()
                until = current() + self.lease
                try:
                    async with self.sessions() as session, session.begin():
                        if await outbox.extend(session, row_id, token, until):
                            token = until
                except Exception as exc:  # the send goes on; the next beat tries again
                    log.warning("reminders: lease not extended: %s", failure(exc))
        finally:
            task.cancel()  # only if this was cancelled itself (shutting down)

    async def _outcome(
        self,
        platform: Platform,
        row: outbox.Leased,
        attempt: int,
        outcome: Delivery,
        error: str | None,
        current: Clock,
        unstarted: datetime | None = None,
    ) -> str:
        """Record how attempt number `attempt` ended; returns the TickResult field to count.
        `unstarted`: the lease token of an attempt that failed before `start` (it still counts
        as an attempt)."""
        at = current()
        if outcome is Delivery.SENT:
            await self._finish(row.id, outbox.SENT, at)
            metrics.REMINDER_SEND_LAG.observe(max(0.0, (at - row.fire_at).total_seconds()))
            return "sent"
        if outcome is Delivery.RETRY and attempt < self.max_attempts:
            delay = self.retry_after * 2 ** (attempt - 1)
            await self._finish(
                row.id,
                outbox.PENDING,
                at,
                error or "retry",
                at + delay,
                token=unstarted,
                attempt=unstarted is not None,
            )
            return "retried"
        if outcome is Delivery.UNREACHABLE:
            async with self.sessions() as session, session.begin():
                await outbox.finish(
                    session, row.id, outbox.UNREACHABLE, now=at, error="unreachable"
                )
                await outbox.mark_unreachable(
                    session, platform.value, row.ref, to_channel=row.to_channel
                )
            return "unreachable"
        reason = "retries used up" if outcome is Delivery.RETRY else "failed"
        await self._finish(
            row.id, outbox.FAILED, at, error or reason, token=unstarted, attempt=bool(unstarted)
        )
        return "failed"

    async def _finish(
        self,
        row_id: int,
        state: str,
        at: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
        token: datetime | None = None,
        attempt: bool = False,
    ) -> None:
        """`token`: the lease token of a row whose send never began; `attempt`: count one."""
        async with self.sessions() as session, session.begin():
            await outbox.finish(
                session,
                row_id,
                state,
                now=at,
                error=error,
                retry_at=retry_at,
                token=token,
                attempt=attempt,
            )
