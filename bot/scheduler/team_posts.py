"""The tick's team step: claim the team channels whose daily post or weekly digest is due, write
their outbox rows in the claiming transaction, and move their times on (DST-safe, per local
date, with `bot.core.schedule`). The scheduler sends the rows after commit like reminders, through
`Sender.send_to_channel`.

Exactly once per local day: PostgreSQL locks the due teams (SKIP LOCKED) for the claiming
transaction; SQLite claims each team with a conditional UPDATE on the times it read. The outbox
key (channel, kind, local date) makes any second claim of the same day a no-op anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.content import Library
from bot.core.schedule import local_day, next_fire_utc, parse_hhmm
from bot.service import team, team_channel
from storage import outbox, teams

log = logging.getLogger(__name__)


@dataclass
class TeamClaims:
    claimed: int = 0  # posts and digests whose time had come and that this process took
    enqueued: int = 0
    dropped: int = 0  # later than the grace period (the process was down)
    lost: int = 0  # claims another process won


async def claim_teams(
    sessions: async_sessionmaker[AsyncSession],
    library: Library,
    audience: outbox.Audience,
    now: datetime,
    *,
    grace: timedelta,
    batch: int = 500,
    stopping: Callable[[], bool] = lambda: False,
) -> TeamClaims:
    """Claim, render and enqueue every team post and digest due at `now` (no sending)."""
    counts = TeamClaims()
    floor = now - grace
    while not stopping():
        async with sessions() as session:
            if outbox.is_postgres(session):
                async with session.begin():
                    rows = await teams.select_due(session, now, audience, batch)
                    for row in rows:
                        await _claim(session, library, row, now, floor, counts)
            else:
                rows = await teams.select_due(session, now, audience, batch)
                await session.commit()  # the reads end here: the write starts with UPDATE
                for row in rows:
                    await _claim(session, library, row, now, floor, counts)
                await session.commit()
        if len(rows) < batch:
            break
    return counts


async def _claim(
    session: AsyncSession,
    library: Library,
    row: Any,
    now: datetime,
    floor: datetime,
    counts: TeamClaims,
) -> None:
    post_due = row.next_post_utc is not None and row.next_post_utc <= now
    digest_due = row.next_digest_utc is not None and row.next_digest_utc <= now
    try:
        at = parse_hhmm(row.post_time)
        next_post = (
            next_fire_utc(local_time=at, zone=row.timezone, after_utc=max(row.next_post_utc, floor))
            if post_due
            else row.next_post_utc
        )
        next_digest = (
            team.next_digest_after(row.next_digest_utc, at, row.timezone, floor)
            if digest_due
            else row.next_digest_utc
        )
    except ValueError:  # a time or zone this system cannot read: stop, rather than fail each tick
        log.warning("team %s has unusable settings; its posts stop until /team setup", row.id)
        next_post = next_digest = None
        post_due = digest_due = False
    won = await teams.advance(
        session,
        row.id,
        old_post=row.next_post_utc,
        old_digest=row.next_digest_utc,
        next_post=next_post,
        next_digest=next_digest,
    )
    if not won:
        counts.lost += 1
        return
    rows: list[dict[str, Any]] = []
    if post_due:
        payload = team_channel.post_payload(library, row.id)
        rows.append(_row(row, outbox.TEAM_POST, row.next_post_utc, now, floor, payload, counts))
    if digest_due:
        day = local_day(row.next_digest_utc, row.timezone)
        first, last = team_channel.week_of(day)
        weeks = await teams.member_weeks(session, row.id, row.platform, first, last, now)
        payload = team_channel.digest_payload(weeks, first, last)
        rows.append(_row(row, outbox.DIGEST, row.next_digest_utc, now, floor, payload, counts))
    await outbox.enqueue(session, rows)


def _row(
    row: Any,
    kind: str,
    due: datetime,
    now: datetime,
    floor: datetime,
    payload: dict[str, Any],
    counts: TeamClaims,
) -> dict[str, Any]:
    counts.claimed += 1
    late = due < floor
    if late:
        counts.dropped += 1
    else:
        counts.enqueued += 1
    return outbox.outbox_row(
        target=outbox.channel_target(row.platform, row.channel_ref),
        kind=kind,
        local_date=local_day(due, row.timezone),
        platform=row.platform,
        ref=row.channel_ref,
        fire_at=due,
        now=now,
        payload=[payload] if not late else [],
        to_channel=True,
        state=outbox.DROPPED if late else outbox.PENDING,
        last_error="late" if late else None,
    )
