"""Daily reminders: one APScheduler interval job ("tick") per process, not one job per person.

Each tick:

1. **claims** the people whose `next_fire_utc` has passed, in batches (PostgreSQL: FOR UPDATE
   SKIP LOCKED, so replicas share the work; SQLite: a conditional UPDATE, see `storage.outbox`),
   and advances their `next_fire_utc` with the DST-correct maths of `bot.core.reminder_plan`;
2. **renders** the reminder (today's routine headline, Start / Later / Skip today; the next
   morning's pain question first when it is due) unless the person is paused or on a safety
   hold, skipped today, already checked in today, or the reminder is later than the grace period;
3. **enqueues** an outbox row with the unique key (person, kind, local date) in the same
   transaction, and commits;
4. **sends** due outbox rows after commit, paced per platform (`bot.pacing`), recording each
   outcome as it comes: SENT, RETRY (back-off, then failed), UNREACHABLE (the identity is marked
   and gets no more tries), FAILED. Rows past the grace period are dropped, not sent at night.

A weekly summary (`bot.service.weekly`, opt-in) rides on the reminder: a claim on the person's
summary weekday also enqueues one "weekly" row holding only a marker; its chart is drawn when
that row is sent, in a worker thread.

Team channels ride on the same tick: their daily posts and weekly digests are claimed after the
people (`bot.team_posts`) and sent to the channel from the same outbox.

Each row is marked SENDING just before its send, in a short transaction that also checks the
lease is still this process's and the person still exists (`/delete` wins over a leased row),
and its lease is pushed on while the send lasts. A restart resumes the outbox: rows a killed
process had leased are taken again when the lease ends, and only its SENDING rows (at most
`concurrency` per platform) can go out twice. Time comes in as `now` (and a monotonic clock and
sleep for pacing), so tests never wait; only a send in flight is timed by the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.core.content import Library
from bot.core.messages import Incoming, Platform, Reply
from bot.core.reminder_plan import Fire, Kind, ReminderState, after_firing, explain, plan_next
from bot.core.schedule import local_day
from bot.logs import failure
from bot.pacing import DEFAULT_LIMITS, Monotonic, Pacer, Sleep, is_group
from bot.ports import Clock, Delivery, Sender, utc_now
from bot.service import checkin, reminders, weekly
from bot.service.turn import Turn
from bot.team_posts import claim_teams
from storage import outbox
from storage.models import CheckIn, Identity, Person
from storage.repositories.checkins import SqlCheckIns
from storage.unit_of_work import SqlStorage, SqlUnitOfWork

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


class SchedulerSettings(Protocol):
    """The part of `bot.config.Settings` the scheduler reads."""

    tick_seconds: float
    reminder_grace_minutes: int


@dataclass
class TickResult:
    claimed: int = 0  # reminders whose time had come and that this process took
    enqueued: int = 0  # outbox rows written to be sent
    skipped: int = 0  # paused or on hold, skipped today, done today, nobody to reach
    dropped: int = 0  # later than the grace period
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    lost: int = 0  # claims another process won
    gone: int = 0  # leased, but deleted (/delete) or taken over by another process before sending

    def __iadd__(self, other: TickResult) -> TickResult:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        return self

    def __bool__(self) -> bool:
        return any(getattr(self, item.name) for item in fields(self))

    def __str__(self) -> str:
        return ", ".join(f"{item.name} {getattr(self, item.name)}" for item in fields(self))


# Why a due reminder is not sent (also the reasons `coach reminders due` prints).
SEND = "send"
LATE = "later than the grace period"
OFF = "reminders off"
PAUSED = "paused"  # also a safety hold: the reason is not shown, it is health data
SKIPPED = "skipped today"
DONE = "already checked in that day"
NOBODY = "no reachable chat"


_Plan = tuple[Fire, ReminderState, Fire | None]

# Open questions a reminder's morning question may take the place of: itself, and the marker
# left by a routine shown on an earlier day.
QUESTION_MAY_REPLACE = {checkin.MORNING, "rt"}


class _LastCheckins(SqlCheckIns):
    """Check-ins whose last completed one per person was read for a whole batch."""

    def __init__(self, session: AsyncSession, last: Mapping[int, CheckIn]) -> None:
        super().__init__(session)
        self.last = last

    async def last_completed(self, person_id: int) -> CheckIn | None:
        return self.last.get(person_id)


@dataclass(slots=True)
class _Claim:
    row: Any
    fire: Fire
    change: dict[str, Any]
    outcome: str
    target: tuple[str, str] | None
    morning: bool = False


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
        `charts_dir` (default: the coach's chart folder)."""
        self.sessions = sessions
        self.library = library
        self.senders = dict(senders)
        self.tick_seconds = float(settings.tick_seconds)
        self.grace = timedelta(minutes=settings.reminder_grace_minutes)
        self.clock = clock
        self.monotonic = monotonic
        self.pacers = {
            platform: (pacers or {}).get(platform)
            or Pacer(
                DEFAULT_LIMITS.get(platform, DEFAULT_LIMITS[Platform.CONSOLE]),
                clock=monotonic,
                sleep=sleep,
            )
            for platform in self.senders
        }
        self.audience = outbox.Audience(
            tuple(platform.value for platform in self.senders),
            {p.value: refs for p, refs in (only_refs or {}).items()} or None,
        )
        self.batch = batch
        self.concurrency = max(1, concurrency)
        self.lease = lease
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self.delivery_budget = (
            0.9 * self.tick_seconds if delivery_budget == -1.0 else delivery_budget
        )
        self.keep = keep
        self.charts_dir = charts_dir
        self._pruned_at: datetime | None = None
        self._scheduler: Any = None
        self._running: asyncio.Task[Any] | None = None
        self._stopping = False
        self.last_tick: datetime | None = None  # for /healthz: is the tick still running?

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
        """Claim → render → enqueue, in batches, until nothing is due (no sending)."""
        result = result if result is not None else TickResult()
        while not self._stopping:
            async with self.sessions() as session:
                if outbox.is_postgres(session):
                    seen = await self._claim_locked(session, now, result)
                else:
                    seen = await self._claim_conditional(session, now, result)
            if seen < self.batch:
                break
        await self._claim_teams(now, result)
        return result

    async def _claim_teams(self, now: datetime, result: TickResult) -> None:
        """Team channels' daily posts and weekly digests (`bot.team_posts`)."""
        found = await claim_teams(
            self.sessions,
            self.library,
            self.audience,
            now,
            grace=self.grace,
            batch=self.batch,
            stopping=lambda: self._stopping,
        )
        result.claimed += found.claimed
        result.enqueued += found.enqueued
        result.dropped += found.dropped
        result.lost += found.lost

    async def _claim_locked(self, session: AsyncSession, now: datetime, result: TickResult) -> int:
        async with session.begin():
            rows = await outbox.select_due(session, now, self.audience, self.batch)
            if not rows:
                return 0
            claims = await self._decide(session, rows, now)
            await outbox.advance(session, [claim.change for claim in claims])
            await self._enqueue(session, claims, now, result)
        return len(rows)

    async def _claim_conditional(
        self, session: AsyncSession, now: datetime, result: TickResult
    ) -> int:
        rows = await outbox.select_due(session, now, self.audience, self.batch)
        if not rows:
            await session.rollback()
            return 0
        claims = await self._decide(session, rows, now)
        await session.commit()  # the reads end here: the write transaction starts with UPDATE
        if await outbox.advance_if_unchanged(session, [claim.change for claim in claims]):
            await self._enqueue(session, claims, now, result)
            await session.commit()
            return len(rows)
        # Another process claimed some of them meanwhile: find out which, row by row.
        await session.rollback()
        mine = [claim for claim in claims if await outbox.advance_one(session, claim.change)]
        result.lost += len(claims) - len(mine)
        await self._enqueue(session, mine, now, result)
        await session.commit()
        return len(rows)

    async def _decide(
        self, session: AsyncSession, rows: Sequence[Any], now: datetime
    ) -> list[_Claim]:
        claims: list[_Claim] = []
        plans: dict[tuple[Any, ...], _Plan] = {}  # people with the same settings plan alike
        floor = now - self.grace
        for row in rows:
            key = (
                row.timezone,
                row.remind_enabled,
                row.remind_time,
                row.remind_days,
                row.evening_time,
                row.snoozed_until,
                row.reminded_on,
                row.next_fire_utc,
                row.next_fire_kind,
            )
            plan = plans.get(key)
            if plan is None:
                try:
                    plan = plans[key] = self._plan(row, floor)
                except (ValueError, KeyError):  # e.g. a time zone this system does not know
                    log.warning("reminders: person %s has unusable settings; off", row.id)
                    plan = plans[key] = self._broken(row)
            fire, later, upcoming = plan
            change = {
                "b_id": row.id,
                "b_old": fire.at,
                "b_next": upcoming.at if upcoming else None,
                "b_kind": upcoming.kind.value if upcoming else None,
                "b_snoozed": later.snoozed_until,
                "b_reminded": later.reminded_on,
            }
            target: tuple[str, str] | None = None
            if row.target:
                platform, _, ref = row.target.partition(":")
                target = (platform, ref)
            if later.remind_time is None:
                outcome = OFF
            elif fire.at < floor:
                outcome = LATE
            elif row.safety_hold or (row.paused_until is not None and row.paused_until > now):
                outcome = PAUSED
            elif row.skip_date is not None and row.skip_date == fire.local_date:
                outcome = SKIPPED
            elif target is None:
                outcome = NOBODY
            else:
                outcome = SEND
            claims.append(_Claim(row, fire, change, outcome, target))
        sending = [claim.row.id for claim in claims if claim.outcome == SEND]
        if not sending:
            return claims
        since = min(claim.fire.local_date for claim in claims) - timedelta(days=2)
        done = await outbox.checkin_dates(session, sending, since)
        for claim in claims:
            dates = done.get(claim.row.id)
            if claim.outcome != SEND or not dates:
                continue
            day = claim.fire.local_date
            if day in dates:
                claim.outcome = DONE
                continue
            pending = claim.row.pending
            claim.morning = (
                claim.fire.kind is not Kind.EVENING
                and (not pending or pending.get("flow") in QUESTION_MAY_REPLACE)
                and any(day - timedelta(days=2) <= seen < day for seen in dates)
            )
        return claims

    @staticmethod
    def _broken(row: Any) -> _Plan:
        """Settings that cannot be planned: this fire is skipped and nothing more is planned
        (a new /remind plans again), rather than failing every tick for everyone."""
        fire = Fire(row.next_fire_utc, Kind.REMINDER, row.next_fire_utc.date())
        state = ReminderState(zone="UTC", remind_time=None, reminded_on=row.reminded_on)
        return fire, state, None

    def _plan(self, row: Any, floor: datetime) -> _Plan:
        """The fire being claimed, the state once it has fired, and the next fire."""
        # A skipped day is moved past like any other (see _decide).
        state = reminders.person_state(row, with_skip=False)
        try:
            kind = Kind(row.next_fire_kind or Kind.REMINDER.value)
        except ValueError:
            kind = Kind.REMINDER
        due: datetime = row.next_fire_utc
        fire = Fire(due, kind, local_day(due, state.zone))
        later = after_firing(state, fire)
        # Reminders missed by more than the grace period (the process was down) are not
        # caught up one by one: planning restarts from the grace period's start.
        return fire, later, plan_next(later, max(due, floor))

    async def _enqueue(
        self, session: AsyncSession, claims: Sequence[_Claim], now: datetime, result: TickResult
    ) -> None:
        rows: list[dict[str, Any]] = []
        mornings = await self._mornings(session, claims)
        for claim in claims:
            result.claimed += 1
            if claim.outcome == LATE:
                result.dropped += 1
                if claim.target is not None:  # kept as a record that it was not sent
                    rows.append(self._outbox_row(claim, now, [], state=outbox.DROPPED))
            elif claim.outcome != SEND or claim.target is None:
                result.skipped += 1
                if claim.outcome == DONE:  # checked in early: the week's summary still comes
                    self._add_weekly(rows, claim, now, result)
            else:
                morning = mornings.get(claim.row.id)
                payload = reminders.reminder_payload(
                    self.library,
                    person_id=claim.row.id,
                    program_id=claim.row.program_id,
                    phase_index=claim.row.phase_index,
                    lighter=claim.row.lighter_dose,
                    kind=claim.fire.kind,
                    morning=morning,
                    day=claim.fire.local_date,
                )
                rows.append(self._outbox_row(claim, now, [payload]))
                result.enqueued += 1
                self._add_weekly(rows, claim, now, result)
        await outbox.enqueue(session, rows)

    @staticmethod
    def _add_weekly(
        rows: list[dict[str, Any]], claim: _Claim, now: datetime, result: TickResult
    ) -> None:
        """The weekly summary on the person's summary weekday: a marker only, rendered at send
        time. Keyed (person, "weekly", local date), so whichever of the day's fires comes first
        writes it and the others (and any other process) change nothing."""
        if claim.target is None or not weekly.due(claim.row.summary_day, claim.fire.local_date):
            return
        platform, ref = claim.target
        rows.append(
            outbox.outbox_row(
                target=outbox.person_target(claim.row.id),
                kind=outbox.WEEKLY,
                local_date=claim.fire.local_date,
                platform=platform,
                ref=ref,
                fire_at=claim.fire.at,
                now=now,
                payload=weekly.payload(claim.row.id),
                person_id=claim.row.id,
            )
        )
        result.enqueued += 1

    def _outbox_row(
        self,
        claim: _Claim,
        now: datetime,
        payload: list[dict[str, Any]],
        state: str = outbox.PENDING,
    ) -> dict[str, Any]:
        assert claim.target is not None
        platform, ref = claim.target
        kind = claim.fire.kind.value
        if claim.fire.kind is Kind.SNOOZE:  # one per snooze, each at its own local time
            zone = claim.row.timezone or "UTC"
            kind = f"snooze-{claim.fire.at.astimezone(ZoneInfo(zone)):%H%M}"
        return outbox.outbox_row(
            target=outbox.person_target(claim.row.id),
            kind=kind,
            local_date=claim.fire.local_date,
            platform=platform,
            ref=ref,
            fire_at=claim.fire.at,
            now=now,
            payload=payload,
            person_id=claim.row.id,
            state=state,
            last_error="late" if state == outbox.DROPPED else None,
        )

    async def _mornings(self, session: AsyncSession, claims: Sequence[_Claim]) -> dict[int, Reply]:
        """The next-morning pain question for everyone in the batch who is due one, asked
        through the check-in service (`checkin.morning_due`, `checkin.ask_morning`), which also
        records it as their open question, so a typed "3" answers it. The people, their chats
        and last check-ins are read in three queries for the whole batch."""
        wanted = [c for c in claims if c.morning and c.outcome == SEND and c.target]
        if not wanted:
            return {}
        ids = [claim.row.id for claim in wanted]
        people = {
            person.id: person
            for person in (await session.scalars(select(Person).where(Person.id.in_(ids)))).all()
        }
        chats = {
            (identity.platform, identity.user_ref): identity
            for identity in (
                await session.scalars(select(Identity).where(Identity.person_id.in_(ids)))
            ).all()
        }
        since = min(claim.fire.local_date for claim in wanted) - timedelta(days=3)
        uow = SqlUnitOfWork.on(session)
        uow.checkins = _LastCheckins(session, await outbox.last_checkins(session, ids, since))
        questions: dict[int, Reply] = {}
        for claim in wanted:
            assert claim.target is not None
            person = people.get(claim.row.id)
            identity = chats.get(claim.target)
            if person is None or identity is None:
                continue
            platform, ref = claim.target
            incoming = Incoming(Platform(platform), ref, ref, is_private=True)
            turn = Turn(incoming, identity, person, uow, self.library, claim.fire.at)
            due = await checkin.morning_due(turn)
            if due is not None:
                questions[person.id] = checkin.ask_morning(turn, due, then=None)
        return questions

    # Sending ----------------------------------------------------------------------------------

    async def deliver(
        self, now: datetime, started: float | None = None, result: TickResult | None = None
    ) -> TickResult:
        """Send the due outbox rows of every platform this process serves."""
        result = result if result is not None else TickResult()
        started = self.monotonic() if started is None else started

        def current() -> datetime:
            return now + timedelta(seconds=max(0.0, self.monotonic() - started))

        async with self.sessions() as session, session.begin():
            result.dropped += await outbox.drop_late(session, now, self.grace, self.audience)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                await outbox.prune(session, now - self.keep)
                self._pruned_at = now
                active = await outbox.active_people(session, now - timedelta(days=7))
                metrics.ACTIVE_PEOPLE.set(active)
        await asyncio.gather(
            *(self._deliver_platform(p, current, started, result) for p in self.senders)
        )
        return result

    def _lease_size(self, pacer: Pacer) -> int:
        # About two seconds of sending at the platform's pace, so little waits under a lease.
        rate = pacer.limits.per_second
        return max(self.concurrency, int(rate * 2)) if rate else max(self.concurrency, 500)

    async def _deliver_platform(
        self, platform: Platform, current: Clock, started: float, result: TickResult
    ) -> None:
        pacer = self.pacers[platform]
        size = self._lease_size(pacer)
        while not self._stopping:
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
            budget = self.delivery_budget
            if budget is not None and self.monotonic() - started >= budget:
                return

    async def _worker(
        self,
        platform: Platform,
        queue: deque[outbox.Leased],
        current: Clock,
        result: TickResult,
    ) -> None:
        while queue:
            if self._stopping:
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
        summary_of = weekly.marked_person(row.payload)
        if summary_of is None:
            replies = [reminders.reply_from_json(item) for item in row.payload]
        else:
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
                setattr(result, counted, getattr(result, counted) + 1)
                return
            if not replies:  # paused, held, turned off or gone since
                await self._finish(
                    row.id, outbox.DROPPED, current(), error="not wanted", token=row.until
                )
                result.skipped += 1
                return
        await self.pacers[platform].acquire(
            row.ref, group=is_group(platform, row.ref), messages=max(1, len(replies))
        )
        at = current()
        async with self.sessions() as session, session.begin():
            attempt = await outbox.start(session, row.id, row.until, at + self.lease)
        if attempt is None:  # deleted since the lease (/delete), or taken over: send nothing
            result.gone += 1
            return
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
        counted = await self._outcome(platform, row, attempt, outcome, error, current)
        setattr(result, counted, getattr(result, counted) + 1)

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


# `coach reminders due` --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    person_id: int
    zone: str
    local: datetime
    kind: str
    decision: str
    reason: str


async def preview(
    sessions: async_sessionmaker[AsyncSession], at: datetime, window: timedelta
) -> list[Preview]:
    """Who would be reminded by a tick at `at` (what fell due in the `window` before it), and
    why or why not. Reads only; prints no names and no health data."""
    found: list[Preview] = []
    async with sessions() as session:
        rows = (
            await session.execute(
                select(*outbox.DUE_COLUMNS)
                .where(Person.remind_enabled.is_(True))
                .order_by(Person.id)
            )
        ).all()
        due: list[tuple[Any, ReminderState, Fire]] = []
        for row in rows:
            state = reminders.person_state(row)
            fire = plan_next(state, at - window)
            while fire is not None and fire.at <= at - window:
                # A snooze due before the window has fired by then (ticks ran all along).
                state = after_firing(state, fire)
                fire = plan_next(state, fire.at)
            if fire is not None and fire.at <= at:
                due.append((row, state, fire))
        ids = [row.id for row, _, _ in due]
        everyone = outbox.Audience(tuple(platform.value for platform in Platform))
        targets = await outbox.reachable_identities(session, ids, everyone)
        done: dict[int, set[date]] = {}
        if due:
            since = min(fire.local_date for _, _, fire in due) - timedelta(days=1)
            done = await outbox.checkin_dates(session, ids, since)
    for row, state, fire in due:
        paused = row.paused_until is not None and row.paused_until > at
        if row.safety_hold or paused:
            decision = PAUSED
        elif row.skip_date == fire.local_date:
            decision = SKIPPED
        elif fire.local_date in done.get(row.id, set()):
            decision = DONE
        elif row.id not in targets:
            decision = NOBODY
        else:
            decision = SEND
        found.append(
            Preview(
                person_id=row.id,
                zone=state.zone,
                local=fire.at.astimezone(ZoneInfo(state.zone)),
                kind=fire.kind.value,
                decision=decision,
                reason=explain(fire, state),
            )
        )
    return found
