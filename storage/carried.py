"""A message's unwritten changes, written by one statement of its own choosing (PostgreSQL):
WITH clauses of the decision's read, or one statement just before the commit, instead of the
ORM's flush (a statement per row, and the flush's own bookkeeping on top).

Only the changes a message of the daily loop leaves are carried: the changed columns of the
person, of one check-in of theirs (the read: one still open as stored, or a new one) and one new
decision (at commit). Anything else in the session (another new or changed row, a deletion, a
relationship, a column without a value or a plain default) and the caller flushes instead. The
person's row is locked from the message's arrival on (`People.arrive`), so writing inside the
read orders nothing differently from a flush before it. The read runs on the statement's
snapshot: it sees the rows as they were before its WITH clauses wrote them (the caller patches
them in)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Insert, Integer, Table, Update, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, LoaderCallableStatus, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql.dml import UpdateBase

from storage.models import CheckIn, DecisionRecord, Person


def _columns(model: type[Any]) -> dict[str, Column[Any]]:
    table = cast(Table, model.__table__)
    return {column.key: column for column in table.c if not column.primary_key}


_CHECKIN_COLUMNS = _columns(CheckIn)
_PERSON_COLUMNS = _columns(Person)
_DECISION_COLUMNS = _columns(DecisionRecord)
_UNSET = object()


@dataclass(frozen=True)
class Shape:
    """What a statement writes (it is built once per shape): a new check-in, the changed
    columns of a stored one, the changed columns of the person, a new decision."""

    new_checkin: bool = False
    checkin_changed: tuple[str, ...] = ()
    person_changed: tuple[str, ...] = ()
    new_decision: bool = False

    @property
    def writes_checkin(self) -> bool:
        return self.new_checkin or bool(self.checkin_changed)

    @property
    def writes(self) -> bool:
        return self.writes_checkin or bool(self.person_changed) or self.new_decision


NOTHING_CARRIED = Shape()


@dataclass
class Carried:
    """The session's unwritten changes, as one statement carries them."""

    shape: Shape
    checkin: CheckIn | None
    person: Person | None
    decision: DecisionRecord | None
    values: dict[str, Any]

    def written(self, session: AsyncSession, new_id: int | None = None) -> None:
        """The statement ran: the session takes the rows as written, so the next flush does
        not write them again (later changes to them it still does). `new_id`: the new
        check-in's."""
        shape = self.shape
        if self.person is not None:
            _commit(session, self.person, shape.person_changed, "set", self.values)
        if self.decision is not None:
            session.expunge(self.decision)  # written, and read by no one in this message
        checkin = self.checkin
        if checkin is None:
            return
        _commit(session, checkin, shape.checkin_changed, "chg", self.values)
        if shape.new_checkin:
            assert new_id is not None
            session.expunge(checkin)  # pending, so transient again, as if never added
            for key in _CHECKIN_COLUMNS:
                setattr(checkin, key, self.values[f"new_{key}"])
            checkin.id = new_id
            make_transient_to_detached(checkin)  # every column loaded, as if just read
            session.add(checkin)


def _commit(
    session: AsyncSession, row: Any, keys: tuple[str, ...], prefix: str, values: dict[str, Any]
) -> None:
    """`row`'s `keys` as written. A row left with no other change is clean again: still
    marked modified, it would send the commit's flush through all its bookkeeping (a tenth of
    a message's CPU on PostgreSQL) to find nothing to write."""
    for key in keys:
        set_committed_value(row, key, values[f"{prefix}_{key}"])
    state = instance_state(row)
    if state.modified and not state.committed_state and not state.expired_attributes:
        state._commit_all(state.dict, session.sync_session.identity_map)


def unwritten(session: AsyncSession, person_id: int | None, *, reading: bool) -> Carried | None:
    """The session's unwritten changes, all of one person (`person_id`, or whoever they are
    of), if one statement can carry them: an empty `Carried` when there are none; None if the
    session holds anything else (then flush). `reading`: for the decision's read, which takes
    a new check-in and a stored one only while it is open, and no decision; else for the end
    of the message, which takes any stored check-in of theirs and a decision, and no new
    check-in (its id is not known before it is written)."""
    if session.deleted:
        return None
    values: dict[str, Any] = {}
    checkin: CheckIn | None = None
    decision: DecisionRecord | None = None
    new_checkin = False
    for new in session.new:
        if isinstance(new, CheckIn) and reading and checkin is None:
            checkin, new_checkin = new, True
            if not _insert_values(new, _CHECKIN_COLUMNS, "new", values):
                return None
        elif isinstance(new, DecisionRecord) and not reading and decision is None:
            decision = new
            if not _insert_values(new, _DECISION_COLUMNS, "dec", values):
                return None
        else:
            return None
        person_id = _same(person_id, new.person_id)
        if person_id is None:
            return None
    person: Person | None = None
    person_changed: tuple[str, ...] = ()
    checkin_changed: tuple[str, ...] = ()
    for dirty in session.dirty:
        state = instance_state(dirty)
        if isinstance(dirty, Person) and _same(person_id, dirty.id) is not None:
            changed = _changed(state, _PERSON_COLUMNS, "set", values)
            if changed is None:
                return None
            person, person_changed, person_id = dirty, changed, dirty.id
        elif (
            isinstance(dirty, CheckIn)
            and checkin is None
            and _same(person_id, dirty.person_id) is not None
            and (not reading or _open(dirty, state))
        ):
            changed = _changed(state, _CHECKIN_COLUMNS, "chg", values)
            if changed is None:
                return None
            checkin, checkin_changed, person_id = dirty, changed, dirty.person_id
            values["chg_id"] = dirty.id
        elif session.is_modified(dirty):
            return None
    values["of_person"] = person_id
    shape = Shape(new_checkin, checkin_changed, person_changed, decision is not None)
    return Carried(shape, checkin, person, decision, values)


def _same(person_id: int | None, other: int | None) -> int | None:
    """`other` if it is the person's (or no person is known yet), else None."""
    return other if person_id is None or person_id == other else None


def _open(checkin: CheckIn, state: InstanceState[Any]) -> bool:
    """Not completed as stored (the decision's read reads no row of it)."""
    return state.committed_state.get("completed_at", checkin.completed_at) is None


def _insert_values(
    row: Any, columns: dict[str, Column[Any]], prefix: str, values: dict[str, Any]
) -> bool:
    """A new row as the ORM's INSERT would write it (a plain default for a column left unset);
    False if a column has no value known here."""
    state = instance_state(row).dict
    for key, column in columns.items():
        value = state.get(key, _UNSET)
        if value is _UNSET:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                value = getattr(default, "arg", None)
            elif default is None and column.server_default is None and column.nullable:
                value = None
            else:
                return False
        values[f"{prefix}_{key}"] = value
    return True


def _changed(
    state: InstanceState[Any], columns: dict[str, Column[Any]], prefix: str, values: dict[str, Any]
) -> tuple[str, ...] | None:
    """The columns set to another value since the row was loaded, with their values; None if
    anything but a plain column was set. (A column set but not loaded before counts as
    changed: writing it again is harmless.)"""
    changed = []
    now = state.dict
    for key, before in state.committed_state.items():
        if key not in columns:
            return None
        value = now.get(key)
        if isinstance(before, LoaderCallableStatus) or before != value:
            changed.append(key)
            values[f"{prefix}_{key}"] = value
    return tuple(sorted(changed))


def _bound(columns: dict[str, Column[Any]], prefix: str, keys: Any) -> dict[str, Any]:
    return {key: bindparam(f"{prefix}_{key}", type_=columns[key].type) for key in keys}


def insert_checkin() -> Insert:
    """The new check-in's INSERT (parameters `new_<column>`), returning its id."""
    row = _bound(_CHECKIN_COLUMNS, "new", _CHECKIN_COLUMNS)
    return insert(CheckIn).values(row).returning(CheckIn.id)


def update_checkin(changed: tuple[str, ...]) -> Update:
    """A stored check-in's UPDATE of `changed` columns (parameters `chg_<column>`, `chg_id`)."""
    row = _bound(_CHECKIN_COLUMNS, "chg", changed)
    return update(CheckIn).where(CheckIn.id == bindparam("chg_id")).values(row)


def update_person(changed: tuple[str, ...]) -> Update:
    """The person's UPDATE of `changed` columns (parameters `set_<column>`, `of_person`)."""
    row = _bound(_PERSON_COLUMNS, "set", changed)
    return update(Person).where(Person.id == bindparam("of_person", type_=Integer)).values(row)


def insert_decision() -> Insert:
    """The new decision's INSERT (parameters `dec_<column>`)."""
    return insert(DecisionRecord).values(_bound(_DECISION_COLUMNS, "dec", _DECISION_COLUMNS))


@cache
def last_writes(shape: Shape) -> UpdateBase:
    """One statement for the end of a message (`shape` writes, and has no new check-in): the
    first of the person's UPDATE, the check-in's and the decision's INSERT, with the others as
    WITH clauses."""
    parts: list[UpdateBase] = []
    if shape.person_changed:
        parts.append(update_person(shape.person_changed))
    if shape.checkin_changed:
        parts.append(update_checkin(shape.checkin_changed))
    if shape.new_decision:
        parts.append(insert_decision())
    main, *others = parts
    for index, other in enumerate(others):
        main = main.add_cte(other.cte(f"also_{index}"))
    return main
