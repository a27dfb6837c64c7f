"""A person's check-ins, decisions, pauses and entry self-tests, on one session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import ColumnElement

from bot.storage_port import LoggedSession, MorningPain, PhaseFacts, SessionCopy
from storage import carried, in_one_greenlet, outbox
from storage.carried import NOTHING_CARRIED, Shape
from storage.models import CheckIn, DecisionRecord, OutboxMessage, Pause, SelfTestResult


class SqlCheckIns:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, checkin_id: int) -> CheckIn | None:
        # Most often already loaded (the arrival reads the check-in a question names): found
        # without a greenlet (`storage.in_one_greenlet`).
        known = self.session.identity_map.get(identity_key(CheckIn, checkin_id))
        if isinstance(known, CheckIn) and not instance_state(known).expired_attributes:
            return known
        return await self.session.get(CheckIn, checkin_id)

    def add(self, checkin: CheckIn) -> None:
        self.session.add(checkin)

    async def completed(
        self, person_id: int, *, since: date | None = None, phase_index: int | None = None
    ) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(
            CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None)
        )
        if since is not None:
            statement = statement.where(CheckIn.local_date >= since)
        if phase_index is not None:
            statement = statement.where(CheckIn.phase_index == phase_index)
        statement = statement.order_by(CheckIn.completed_at, CheckIn.id)
        return (await self.session.scalars(statement)).all()

    async def phase_summary(
        self, person_id: int, phase_index: int, since: date | None, last: int
    ) -> tuple[int, date | None, Sequence[CheckIn]]:
        where = _counted_in_phase(person_id, phase_index, since)
        counted = select(CheckIn.id).where(*where)
        total = counted.with_only_columns(func.count()).scalar_subquery()
        first_day = counted.with_only_columns(func.min(CheckIn.local_date)).scalar_subquery()
        row = (await self.session.execute(select(total, first_day))).one()
        rows = await self.session.scalars(
            select(CheckIn)
            .where(
                CheckIn.person_id == person_id,
                CheckIn.completed_at >= _tail_from(where, last).scalar_subquery(),
            )
            .order_by(CheckIn.completed_at, CheckIn.id)
        )
        return int(row[0]), row[1], _tail(rows, phase_index, since, last)

    async def phase_facts(
        self,
        person_id: int,
        phase_index: int,
        since: date | None,
        last: int,
        *,
        recent_since: date,
        test_id: str | None,
        noting: MorningPain | None = None,
    ) -> PhaseFacts:
        """One SELECT: the person's completed check-ins from the earlier of the recent days and
        the phase's tail on, as rows; the phase's count, its first day, the entry test's results
        and the outbox's unsent rows as scalar subqueries on every row. The rows hang off a
        one-row select by an outer join, so the scalars come back without rows too.
        The check-ins come back as copies (`SessionCopy`), read on the session's connection:
        nothing here is changed, and loading tracked rows cost twice the statement. So what the
        session holds unwritten is flushed first.

        The rows are one range of ix_checkins_person_done, and the count and first day are read
        from ix_checkins_counted alone: no table row of the person's older history is read.
        A check-in's local_date is the day it was started where the person is (`turn.today`),
        and a day starts less than 24 h before midnight UTC of its date (UTC offsets are under
        a day), so every check-in of a day from `recent_since` on was completed after midnight
        UTC of the day before. The rows read past those wanted (logged while paused, of other
        phases, of older days) are dropped here.

        `noting` a morning answer: on PostgreSQL `note_morning`'s UPDATE is a WITH clause of
        the same statement (a round trip less). It runs on the statement's snapshot, so the
        rows come back as they were before it and take the morning's pain here, as the UPDATE
        gave it to them. SQLite takes no UPDATE in a WITH clause: `note_morning` runs first."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        carrying = carried.unwritten(self.session, person_id, reading=True) if postgres else None
        if carrying is not None and noting is not None and carrying.shape.writes_checkin:
            carrying = None  # the morning's UPDATE would not see the check-in's write
        # The answer kept in this statement (PostgreSQL), else by `note_morning` before it.
        together = noting if postgres else None
        if noting is not None and together is None:
            await self.note_morning(person_id, noting.day, noting.pain)
        shape = carrying.shape if carrying is not None else NOTHING_CARRIED
        statement = _phase_facts(
            since_known=since is not None, noting=together is not None, carrying=shape
        )
        values: dict[str, Any] = {
            "of_person": person_id,
            "of_phase": phase_index,
            "since": since,
            "last": last,
            "recent_from": datetime.combine(recent_since - timedelta(days=1), time(), UTC),
            "test_id": test_id or "",
        }
        if together is not None:
            values.update(of_day=together.day, pain=together.pain)
        if carrying is not None:
            values.update(carrying.values)
        # What the statement does not carry is flushed before it.
        rows = await in_one_greenlet.rows(
            self.session, statement, values, flush_first=carrying is None
        )
        width = len(_SESSION_COLUMNS)
        found = [SessionCopy(*row[:width]) for row in rows if row[0] is not None]
        if together is not None:
            found = [_noted(copy, together) for copy in found]
            self._noted_in_session(person_id, together)
        total, first_day, passed, last_at, queued = rows[0][width : width + 5]
        if carrying is not None:
            carrying.written(self.session, rows[0][width + 5] if shape.new_checkin else None)
            written = carrying.checkin
            if written is not None and written.completed_at is not None:
                # Read on the statement's snapshot, before the WITH clause wrote it.
                copy = _copy(written)
                found = sorted([*found, copy], key=lambda c: (c.completed_at, c.id))
                if _counts(copy, phase_index, since):
                    total += 1
                    first_day = min(first_day or copy.local_date, copy.local_date)
        return PhaseFacts(
            total=int(total),
            first_day=first_day,
            tail=_tail(found, phase_index, since, last),
            recent=[c for c in found if c.local_date >= recent_since],
            test_passed=test_id is not None and bool(passed),
            test_last_at=last_at if test_id is not None else None,
            queued=bool(queued),
        )

    async def last_completed(self, person_id: int) -> CheckIn | None:
        statement = (
            select(CheckIn)
            .where(CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None))
            .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def note_morning(self, person_id: int, day: date, pain: int) -> None:
        """One UPDATE, built once; the rows already in the session take the value too, as
        stored rather than as changes (what the ORM's "evaluate" would do, at a fraction of
        its cost per call)."""
        values = {"of_person": person_id, "of_day": day, "pain": pain}
        # Flushed first: a check-in of that day still unwritten gets it too.
        await in_one_greenlet.run(self.session, _NOTE_MORNING, values, flush_first=True)
        self._noted_in_session(person_id, MorningPain(day, pain))

    def _noted_in_session(self, person_id: int, noting: MorningPain) -> None:
        """The check-ins the session holds take what `_NOTE_MORNING` stored, as stored."""
        for row in self.session.identity_map.values():
            if (
                isinstance(row, CheckIn)
                and row.person_id == person_id
                and row.completed_at is not None
                and row.local_date == noting.day
                and row.morning_pain is None
            ):
                set_committed_value(row, "morning_pain", noting.pain)

    async def every(self, person_id: int) -> Sequence[CheckIn]:
        statement = select(CheckIn).where(CheckIn.person_id == person_id).order_by(CheckIn.id)
        return (await self.session.scalars(statement)).all()

    def add_decision(self, decision: DecisionRecord) -> None:
        self.session.add(decision)

    async def decisions(self, person_id: int) -> Sequence[DecisionRecord]:
        statement = (
            select(DecisionRecord)
            .where(DecisionRecord.person_id == person_id)
            .order_by(DecisionRecord.at, DecisionRecord.id)
        )
        return (await self.session.scalars(statement)).all()

    def add_self_test(self, result: SelfTestResult) -> None:
        self.session.add(result)

    async def self_tests(
        self, person_id: int, test_id: str | None = None
    ) -> Sequence[SelfTestResult]:
        statement = select(SelfTestResult).where(SelfTestResult.person_id == person_id)
        if test_id is not None:
            statement = statement.where(SelfTestResult.test_id == test_id)
        statement = statement.order_by(SelfTestResult.at, SelfTestResult.id)
        return (await self.session.scalars(statement)).all()

    def add_pause(self, pause: Pause) -> None:
        self.session.add(pause)

    async def pauses(self, person_id: int) -> Sequence[Pause]:
        statement = select(Pause).where(Pause.person_id == person_id).order_by(Pause.started_at)
        return (await self.session.scalars(statement)).all()

    async def open_pause(self, person_id: int, now: datetime) -> Pause | None:
        statement = (
            select(Pause)
            .where(
                Pause.person_id == person_id,
                or_(Pause.ended_at.is_(None), Pause.ended_at > now),
            )
            .order_by(Pause.started_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()


def _counted_in_phase(
    person_id: int | BindParameter[int],
    phase_index: int | BindParameter[int],
    since: date | BindParameter[date] | None,
) -> list[ColumnElement[bool]]:
    """Completed check-ins of a phase that count (not logged while paused): a range of
    ix_checkins_counted (`paused` is never NULL: `= false`, which an index reads as a key,
    says the same as IS false)."""
    where = [
        CheckIn.person_id == person_id,
        CheckIn.completed_at.is_not(None),
        CheckIn.phase_index == phase_index,
        CheckIn.paused == false(),  # logged while paused: kept, never counted
    ]
    if since is not None:
        where.append(CheckIn.local_date >= since)
    return where


def _tail_from(where: list[ColumnElement[bool]], last: int | BindParameter[int]) -> Any:
    """A completed_at at or before that of each of the phase's last `last` counted check-ins
    (NULL when there is none): the oldest of the last `last` in ix_checkins_counted's order
    (by day), read from that index alone. Any `last` of them have an oldest no later than
    that of the last `last` by completed_at, so the rows from it on hold the whole tail; it
    is the same row unless a check-in was completed after one of a later day."""
    newest = (
        select(CheckIn.completed_at)
        .where(*where)
        .order_by(CheckIn.local_date.desc(), CheckIn.completed_at.desc())
        .limit(last)
        .subquery()
    )
    return select(func.min(newest.c.completed_at))


Logged = TypeVar("Logged", bound=LoggedSession)


def _tail(rows: Iterable[Logged], phase_index: int, since: date | None, last: int) -> list[Logged]:
    """The phase's last `last` counted check-ins, oldest first, among `rows` (in order, and
    holding every row from `_tail_from`'s completed_at on)."""
    counted = [c for c in rows if _counts(c, phase_index, since)]
    return counted[-last:] if last > 0 else []


def _counts(checkin: LoggedSession, phase_index: int, since: date | None) -> bool:
    """Counted toward the phase's gates (`_counted_in_phase`, on a row already read)."""
    return (
        checkin.phase_index == phase_index
        and not checkin.paused
        and (since is None or checkin.local_date >= since)
    )


# The bound names differ from the columns': an UPDATE reserves the column names for its SET.
_NOTE_MORNING = (
    update(CheckIn)
    .where(
        CheckIn.person_id == bindparam("of_person", type_=Integer),
        CheckIn.completed_at.is_not(None),
        CheckIn.local_date == bindparam("of_day", type_=Date),
        CheckIn.morning_pain.is_(None),
    )
    .values(morning_pain=bindparam("pain", type_=Integer))
)

# The columns of a `SessionCopy`, in its order.
_SESSION_COLUMNS = tuple(getattr(CheckIn, field.name) for field in fields(SessionCopy))


def _copy(checkin: CheckIn) -> SessionCopy:
    return SessionCopy(*(getattr(checkin, column.key) for column in _SESSION_COLUMNS))


def _noted(copy: SessionCopy, noting: MorningPain) -> SessionCopy:
    """A copy read before `_NOTE_MORNING` ran, as the UPDATE left its row (copies are
    completed check-ins of the person)."""
    if copy.local_date == noting.day and copy.morning_pain is None:
        return replace(copy, morning_pain=noting.pain)
    return copy


@cache
def _phase_facts(
    *, since_known: bool, noting: bool = False, carrying: Shape = NOTHING_CARRIED
) -> Select[Any]:
    """`phase_facts`'s SELECT, built once per shape with bound parameters (of_person,
    of_phase, since, last, recent_from, test_id): building it costs more than running it.
    `noting`: with `_NOTE_MORNING` (of_person, of_day, pain) as a WITH clause (PostgreSQL).
    `carrying`: with the writes of `storage.carried` as WITH clauses (PostgreSQL); a new
    check-in's id is the last column.

    Its rows: completed_at from the earlier of `recent_from` and `_tail_from` on (the minimum
    of both in one subquery, so it is computed once), one range of ix_checkins_person_done."""
    # Named apart from the columns: an UPDATE (`noting`'s WITH clause) would set a column whose
    # name a parameter shares.
    person_id = bindparam("of_person", type_=Integer)
    since = bindparam("since", type_=Date) if since_known else None
    where = _counted_in_phase(person_id, bindparam("of_phase", type_=Integer), since)
    counted = select(CheckIn.id).where(*where)
    test_id = bindparam("test_id", type_=String)
    tests = [SelfTestResult.person_id == person_id, SelfTestResult.test_id == test_id]
    recent_from = select(bindparam("recent_from", type_=CheckIn.completed_at.type).label("at"))
    starts = _tail_from(where, bindparam("last", type_=Integer)).union_all(recent_from).subquery()
    one = select(literal(1).label("one")).subquery()
    statement = (
        select(
            *_SESSION_COLUMNS,
            counted.with_only_columns(func.count()).scalar_subquery(),
            counted.with_only_columns(func.min(CheckIn.local_date)).scalar_subquery(),
            exists().where(*tests, SelfTestResult.passed.is_(True)),
            select(func.max(SelfTestResult.at)).where(*tests).scalar_subquery(),
            exists().where(
                OutboxMessage.person_id == person_id,
                # Bound one by one: a plain list would be an "expanding" IN, rendered
                # into the SQL again at every execution.
                OutboxMessage.state.in_([literal(state) for state in outbox.UNFINISHED]),
                OutboxMessage.to_channel.is_(False),
            ),
        )
        .select_from(one)
        .outerjoin(
            CheckIn,
            and_(
                CheckIn.person_id == person_id,
                CheckIn.completed_at >= select(func.min(starts.c[0])).scalar_subquery(),
            ),
        )
        .order_by(CheckIn.completed_at, CheckIn.id)
    )
    if noting:
        statement = statement.add_cte(_NOTE_MORNING.cte("noted"))
    if carrying.new_checkin:
        added = carried.insert_checkin().cte("added")
        statement = statement.add_columns(select(added.c.id).scalar_subquery())
    if carrying.checkin_changed:
        statement = statement.add_cte(carried.update_checkin(carrying.checkin_changed).cte("open"))
    if carrying.person_changed:
        person = carried.update_person(carrying.person_changed)
        statement = statement.add_cte(person.cte("person"))
    return statement
