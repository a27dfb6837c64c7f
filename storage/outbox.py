"""The outbox: the queue of pushed messages (reminders, weekly summaries, team posts and
digests), shared by every process. Rows are written by the claims (`storage.claims`,
`storage.teams`) in the claiming transaction and sent by the scheduler's delivery step.

Sending: a batch of due rows is leased by moving `next_attempt_at` to the end of the lease
(PostgreSQL picks them with SKIP LOCKED, SQLite in one UPDATE … RETURNING); that value is the
lease's token. Just before each send, one short transaction marks the row SENDING, only if the
token still matches (the lease was not taken over when it ran out) and the person still exists
(`/delete` wins over a row leased before it): `start`. While the send is in flight its lease is
pushed on (`extend`), so a slow send (a flood wait) is not taken again. The result of every send
is written at once. A process killed mid-batch leaves its SENDING rows (their send may have
begun: at most one per send in flight) to be sent again when their lease ends; rows it had
leased but not started are simply taken again, not counted as an attempt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity, OutboxMessage, Person

PENDING = "pending"
SENDING = "sending"  # its send may have begun: taken again (sent again) only when its lease ends
SENT = "sent"
FAILED = "failed"
DROPPED = "dropped"
UNREACHABLE = "unreachable"
STATES = (PENDING, SENDING, SENT, FAILED, DROPPED, UNREACHABLE)
UNFINISHED = (PENDING, SENDING)

# Kinds with a channel as target: hooks for the team post and the weekly digest.
TEAM_POST = "team_post"
DIGEST = "digest"
# A person's weekly summary (`bot.service.weekly`): its payload is a marker, rendered at send.
WEEKLY = "weekly"

people = cast(Table, Person.__table__)
outbox = cast(Table, OutboxMessage.__table__)


def person_target(person_id: int) -> str:
    return f"person:{person_id}"


def channel_target(platform: str, channel_ref: str) -> str:
    return f"{platform}:{channel_ref}"


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom one process serves: the platforms it has a sender for and, for the console, the one
    chat it can print to (`only_refs`: platform -> the user refs it may serve)."""

    platforms: tuple[str, ...]
    only_refs: Mapping[str, frozenset[str]] | None = None

    def reaches(self, platform: Any, ref: Any) -> ColumnElement[bool]:
        if not self.platforms:
            return false()
        clauses = []
        for name in self.platforms:
            refs = (self.only_refs or {}).get(name)
            if refs is None:
                clauses.append(platform == name)
            else:
                clauses.append(and_(platform == name, ref.in_(sorted(refs))))
        return or_(*clauses)


# --- the queue ------------------------------------------------------------------------------

_OUTBOX_ARRAYS: tuple[tuple[str, Any], ...] = (
    ("target", String),
    ("kind", String),
    ("local_date", Date),
    ("platform", String),
    ("ref", String),
    ("to_channel", Boolean),
    ("person_id", Integer),
    ("fire_at", DateTime(timezone=True)),
    ("created_at", DateTime(timezone=True)),
    ("state", String),
    ("attempts", Integer),
    ("next_attempt_at", DateTime(timezone=True)),
    ("sent_at", DateTime(timezone=True)),
    ("last_error", String),
    ("payload", String),  # JSON text, cast below
)
_COLUMNS = ", ".join(name for name, _ in _OUTBOX_ARRAYS)
_ENQUEUE_ARRAYS = text(
    f"INSERT INTO outbox ({_COLUMNS}) "
    f"SELECT {_COLUMNS.replace('payload', 'payload::json')} "
    f"FROM unnest({', '.join(':' + name for name, _ in _OUTBOX_ARRAYS)}) AS v({_COLUMNS}) "
    "ON CONFLICT (target, kind, local_date) DO NOTHING"
).bindparams(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _OUTBOX_ARRAYS))


async def enqueue(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert outbox rows; a row whose (target, kind, local_date) exists already is left out.
    PostgreSQL gets the batch as one INSERT … SELECT FROM unnest(arrays)."""
    if not rows:
        return
    if is_postgres(session):
        arrays: dict[str, list[Any]] = {name: [] for name, _ in _OUTBOX_ARRAYS}
        for row in rows:
            for name, values in arrays.items():
                values.append(json.dumps(row[name]) if name == "payload" else row[name])
        await session.execute(_ENQUEUE_ARRAYS, arrays)
        return
    statement = sqlite_insert(outbox).on_conflict_do_nothing(
        index_elements=["target", "kind", "local_date"]
    )
    await session.execute(statement, list(rows))


def outbox_row(
    *,
    target: str,
    kind: str,
    local_date: date,
    platform: str,
    ref: str,
    fire_at: datetime,
    now: datetime,
    payload: list[dict[str, Any]],
    person_id: int | None = None,
    to_channel: bool = False,
    state: str = PENDING,
    last_error: str | None = None,
) -> dict[str, Any]:
    """An outbox row for `enqueue`. Team posts and digests use target=channel_target(...),
    kind=TEAM_POST or DIGEST and to_channel=True: the scheduler sends them like reminders."""
    return {
        "target": target,
        "kind": kind,
        "local_date": local_date,
        "platform": platform,
        "ref": ref,
        "to_channel": to_channel,
        "person_id": person_id,
        "fire_at": fire_at,
        "created_at": now,
        "state": state,
        "attempts": 0,
        "next_attempt_at": fire_at if fire_at > now else now,
        "sent_at": None,
        "last_error": last_error,
        "payload": payload,
    }


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leased:
    id: int
    platform: str
    ref: str
    to_channel: bool
    kind: str
    fire_at: datetime
    attempts: int  # sends begun before this lease
    payload: list[dict[str, Any]]
    until: datetime  # the lease's end, also its token: `start` checks it is still this


def _takeable(now: datetime) -> ColumnElement[bool]:
    """Pending, or SENDING with its lease ended."""
    return or_(
        outbox.c.state == PENDING,
        and_(outbox.c.state == SENDING, outbox.c.next_attempt_at <= now),
    )


async def drop_late(
    session: AsyncSession, now: datetime, grace: timedelta, audience: Audience
) -> int:
    """Unsent rows more than `grace` past their time are dropped: no reminders at night (a
    SENDING row once its lease has ended: the process sending it is gone)."""
    statement = (
        update(outbox)
        .where(
            _takeable(now),
            outbox.c.fire_at < now - grace,
            audience.reaches(outbox.c.platform, outbox.c.ref),
        )
        .values(state=DROPPED, last_error="late")
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)


async def lease(
    session: AsyncSession,
    audience: Audience,
    platform: str,
    now: datetime,
    until: datetime,
    limit: int,
) -> list[Leased]:
    """Take up to `limit` due rows of `platform` for sending until `until`: pending ones, and
    SENDING ones whose lease ended (the process sending them died)."""
    only = Audience((platform,), audience.only_refs)
    pick = (
        select(outbox.c.id)
        .where(
            outbox.c.state.in_(UNFINISHED),
            outbox.c.platform == platform,
            outbox.c.next_attempt_at <= now,
            only.reaches(outbox.c.platform, outbox.c.ref),
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        update(outbox)
        .where(outbox.c.id.in_(pick))
        .values(next_attempt_at=until)
        .returning(
            outbox.c.id,
            outbox.c.platform,
            outbox.c.ref,
            outbox.c.to_channel,
            outbox.c.kind,
            outbox.c.fire_at,
            outbox.c.attempts,
            outbox.c.payload,
        )
    )
    rows = (await session.execute(statement)).all()
    leased = [Leased(**row._mapping, until=until) for row in rows]
    leased.sort(key=lambda row: (row.fire_at, row.id))
    return leased


_START = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("b_id"),
        outbox.c.state.in_(UNFINISHED),
        outbox.c.next_attempt_at == bindparam("b_token"),
        or_(
            outbox.c.person_id.is_(None),
            select(people.c.id).where(people.c.id == outbox.c.person_id).exists(),
        ),
    )
    .values(state=SENDING, attempts=outbox.c.attempts + 1, next_attempt_at=bindparam("b_until"))
    .returning(outbox.c.attempts)
)


async def start(session: AsyncSession, row_id: int, token: datetime, until: datetime) -> int | None:
    """Mark a leased row SENDING just before its send, leased on until `until`: only while
    this process's lease (`token`) holds and the person it is for still exists. Commit before
    sending. Returns the attempt number, or None: send nothing (deleted, or another process
    took the row over when the lease ran out)."""
    found = await session.execute(_START, {"b_id": row_id, "b_token": token, "b_until": until})
    attempt: int | None = found.scalar_one_or_none()
    return attempt


async def extend(session: AsyncSession, row_id: int, token: datetime, until: datetime) -> bool:
    """Push the lease of a row being sent on to `until`; False when it is not ours any more."""
    statement = (
        update(outbox)
        .where(
            outbox.c.id == row_id,
            outbox.c.state == SENDING,
            outbox.c.next_attempt_at == token,
        )
        .values(next_attempt_at=until)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def finish(
    session: AsyncSession,
    row_id: int,
    state: str,
    *,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    token: datetime | None = None,
    attempt: bool = False,
) -> None:
    """Record the outcome of one send (state PENDING with `retry_at` schedules a retry). A row
    closed before its send began passes its lease `token` (nothing is changed if another
    process took it over); `attempt` counts an attempt that never reached `start`."""
    values: dict[str, Any] = {"state": state, "last_error": error}
    if state == SENT:
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if attempt:
        values["attempts"] = outbox.c.attempts + 1
    condition = and_(outbox.c.id == row_id, outbox.c.state.in_(UNFINISHED))
    if token is not None:
        condition = and_(condition, outbox.c.next_attempt_at == token)
    await session.execute(update(outbox).where(condition).values(**values))


async def release(
    session: AsyncSession, row_ids: Sequence[int], token: datetime, now: datetime
) -> None:
    """Give back leased rows that were not started (shutting down): due again at once."""
    if row_ids:
        statement = (
            update(outbox)
            .where(
                outbox.c.id.in_(list(row_ids)),
                outbox.c.state.in_(UNFINISHED),
                outbox.c.next_attempt_at == token,
            )
            .values(next_attempt_at=now)
        )
        await session.execute(statement)


async def mark_unreachable(
    session: AsyncSession, platform: str, ref: str, *, to_channel: bool
) -> int:
    """The platform refused this chat for good (blocked, DMs closed, kicked): no more tries.
    Returns how many other pending rows for it were closed too."""
    if not to_channel:
        await session.execute(
            update(Identity)
            .where(Identity.platform == platform, Identity.user_ref == ref)
            .values(unreachable=True)
        )
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(outbox)
            .where(
                outbox.c.state == PENDING,
                outbox.c.platform == platform,
                outbox.c.ref == ref,
                outbox.c.to_channel == (true() if to_channel else false()),
            )
            .values(state=UNREACHABLE, last_error="unreachable")
        ),
    )
    return int(result.rowcount or 0)


async def prune(session: AsyncSession, before: datetime) -> int:
    """Delete finished rows (sent, failed, dropped, unreachable) created before `before`."""
    statement = delete(outbox).where(
        outbox.c.state.not_in(UNFINISHED), outbox.c.created_at < before
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)


async def counts(session: AsyncSession) -> dict[str, int]:
    """Outbox rows by state (every state listed, zero included)."""
    statement = select(outbox.c.state, func.count()).group_by(outbox.c.state)
    found = {state: 0 for state in STATES}
    for state, count in (await session.execute(statement)).all():
        found[state] = int(count)
    return found


async def active_people(session: AsyncSession, since: datetime) -> int:
    """People who wrote to the coach since `since` (the coach_active_people gauge)."""
    statement = select(func.count(func.distinct(Identity.person_id))).where(
        Identity.last_seen >= since
    )
    return int(await session.scalar(statement) or 0)


async def cancel_pending(
    session: AsyncSession, person_id: int, now: datetime, *, keep_kinds: Sequence[str] = ()
) -> int:
    """Drop a person's unsent messages (a red flag, a pause, or today's check-in made them
    pointless), so nothing already queued still reaches them. Channel posts are left alone, and
    so is a message whose send is in flight."""
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            _takeable(now),
            OutboxMessage.to_channel.is_(False),
            OutboxMessage.kind.not_in(list(keep_kinds)),
        )
        .values(state=DROPPED, last_error="cancelled", sent_at=None, next_attempt_at=now)
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
