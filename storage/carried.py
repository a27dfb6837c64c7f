"""A check-in's unwritten changes, carried by the statement that reads the decision's facts
(PostgreSQL): WITH clauses write the check-in and the person, so the read and the writes
before it take one round trip instead of three.

Only what completing a check-in and answering the morning question leave unwritten is
carried: one check-in of the person, new or still open (not completed as stored), and the
changed columns of the person. Anything else in the session (another new or changed row, a
deletion, a column without a value or a plain default) and the caller flushes instead. The
person's row is locked from the message's arrival on (`People.arrive`), so writing inside the
read orders nothing differently from a flush before it. The read runs on the statement's
snapshot: it sees the rows as they were before the WITH clauses wrote them (`patched`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Insert, Table, Update, bindparam, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import CheckIn, Person

_CHECKIN_COLUMNS: dict[str, Column[Any]] = {
    column.key: column for column in cast(Table, CheckIn.__table__).c if not column.primary_key
}
_PERSON_COLUMNS: dict[str, Column[Any]] = {
    column.key: column for column in cast(Table, Person.__table__).c if not column.primary_key
}
_UNSET = object()


@dataclass(frozen=True)
class Shape:
    """What a statement's WITH clauses write (the statement is built once per shape): a new
    check-in, the changed columns of an open one, the changed columns of the person."""

    new_checkin: bool = False
    checkin_changed: tuple[str, ...] = ()
    person_changed: tuple[str, ...] = ()

    @property
    def writes_checkin(self) -> bool:
        return self.new_checkin or bool(self.checkin_changed)


NOTHING_CARRIED = Shape()


@dataclass
class Carried:
    """The session's unwritten changes, as one statement's WITH clauses carry them."""

    shape: Shape
    checkin: CheckIn | None
    person: Person | None
    values: dict[str, Any]

    def written(self, session: AsyncSession, new_id: int | None) -> None:
        """The statement ran: the session takes the rows as written, so the next flush does
        not write them again (later changes to them it still does)."""
        shape = self.shape
        if self.person is not None:
            for key in shape.person_changed:
                set_committed_value(self.person, key, self.values[f"set_{key}"])
        checkin = self.checkin
        if checkin is None:
            return
        for key in shape.checkin_changed:
            set_committed_value(checkin, key, self.values[f"chg_{key}"])
        if shape.new_checkin:
            assert new_id is not None
            session.expunge(checkin)  # pending, so transient again, as if never added
            for key in _CHECKIN_COLUMNS:
                setattr(checkin, key, self.values[f"new_{key}"])
            checkin.id = new_id
            make_transient_to_detached(checkin)  # every column loaded, as if just read
            session.add(checkin)


def unwritten(session: AsyncSession, person_id: int) -> Carried | None:
    """The session's unwritten changes, if one statement can carry all of them (an empty
    `Carried` when there are none); None if it holds anything else: then flush."""
    if session.deleted:
        return None
    values: dict[str, Any] = {}
    checkin: CheckIn | None = None
    new_checkin = False
    for new in session.new:
        if checkin is not None or not isinstance(new, CheckIn) or new.person_id != person_id:
            return None
        checkin, new_checkin = new, True
        if not _insert_values(checkin, values):
            return None
    person: Person | None = None
    person_changed: tuple[str, ...] = ()
    checkin_changed: tuple[str, ...] = ()
    for dirty in session.dirty:
        state = inspect(dirty)
        if isinstance(dirty, Person) and dirty.id == person_id:
            changed = _changed(state, _PERSON_COLUMNS, "set", values)
            if changed is None:
                return None
            person, person_changed = dirty, changed
        elif isinstance(dirty, CheckIn) and checkin is None and _open(dirty, state, person_id):
            changed = _changed(state, _CHECKIN_COLUMNS, "chg", values)
            if changed is None:
                return None
            checkin, checkin_changed = dirty, changed
            if checkin_changed:
                values["chg_id"] = dirty.id
        elif session.is_modified(dirty):
            return None
    shape = Shape(new_checkin, checkin_changed, person_changed)
    return Carried(shape, checkin, person, values)


def _open(checkin: CheckIn, state: InstanceState[Any], person_id: int) -> bool:
    """A check-in of the person not completed as stored (the facts read none of its rows)."""
    stored_completed_at = state.committed_state.get("completed_at", checkin.completed_at)
    return checkin.person_id == person_id and stored_completed_at is None


def _insert_values(checkin: CheckIn, values: dict[str, Any]) -> bool:
    """The new check-in's row as the ORM's INSERT would write it (a plain default for a column
    left unset); False if a column has no value known here."""
    state = inspect(checkin).dict
    for key, column in _CHECKIN_COLUMNS.items():
        value = state.get(key, _UNSET)
        if value is _UNSET:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                value = getattr(default, "arg", None)
            elif default is None and column.server_default is None and column.nullable:
                value = None
            else:
                return False
        values[f"new_{key}"] = value
    return True


def _changed(
    state: InstanceState[Any], columns: dict[str, Column[Any]], prefix: str, values: dict[str, Any]
) -> tuple[str, ...] | None:
    """The columns set since the row was loaded, with their values; None if anything but a
    plain column was."""
    changed = []
    for key in state.committed_state:
        if key not in columns:
            return None
        history = state.attrs[key].history
        if history.added or history.deleted:
            changed.append(key)
            values[f"{prefix}_{key}"] = state.dict.get(key)
    return tuple(sorted(changed))


def insert_checkin() -> Insert:
    """The new check-in's INSERT (parameters `new_<column>`), returning its id."""
    row = {key: bindparam(f"new_{key}", type_=c.type) for key, c in _CHECKIN_COLUMNS.items()}
    return insert(CheckIn).values(row).returning(CheckIn.id)


def update_checkin(changed: tuple[str, ...]) -> Update:
    """The open check-in's UPDATE of `changed` columns (parameters `chg_<column>`, `chg_id`)."""
    row = {key: bindparam(f"chg_{key}", type_=_CHECKIN_COLUMNS[key].type) for key in changed}
    return update(CheckIn).where(CheckIn.id == bindparam("chg_id")).values(row)


def update_person(changed: tuple[str, ...], person_id: Any) -> Update:
    """The person's UPDATE of `changed` columns (parameters `set_<column>`)."""
    row = {key: bindparam(f"set_{key}", type_=_PERSON_COLUMNS[key].type) for key in changed}
    return update(Person).where(Person.id == person_id).values(row)
