"""The storage port: what the coach's use cases read and write, in the coach's words.

A use case runs inside one unit of work (cosmicpython's pattern): `async with storage() as uow`
opens it, the repositories on `uow` read and stage changes, and leaving the block commits them
(an exception rolls them back). The rows are the mapped classes of `storage.models`, used as
plain objects: a use case changes their attributes and the unit of work saves what changed.

The SQLAlchemy implementation is `storage.unit_of_work.SqlStorage`; the service's unit tests use
in-memory fakes (`tests/unit/service/fakes.py`). Nothing in `bot.service` talks to a database
any other way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from storage.models import (
    Activity,
    CheckIn,
    DecisionRecord,
    Identity,
    LinkCode,
    Pause,
    Person,
    Reassessment,
    SelfTestResult,
    Team,
    TeamMember,
)


@dataclass(frozen=True)
class Arrival:
    """A chat identity as a message of it arrives: the identity with its person, and the
    person's last completed check-in (nearly every message asks for it), read together."""

    identity: Identity
    last_session: CheckIn | None
    # The check-in the open question names, when the store read it along (kept here while the
    # message is handled, so reading it again by id finds it in memory).
    asked: CheckIn | None = None


class People(Protocol):
    """People and the chat identities (Telegram, Discord, console accounts) that reach them."""

    async def arrive(self, platform: str, user_ref: str, now: datetime) -> Arrival | None:
        """`identity(..., lock=True)` with the person's last completed check-in, in one read,
        and the identity marked seen at `now` (`Identity.seen`). The check-in the open question
        names (`person.pending`) may come with it."""
        ...

    async def identity(
        self, platform: str, user_ref: str, *, lock: bool = False
    ) -> Identity | None:
        """The chat identity with its person loaded. `lock` keeps two messages of one person
        (a double press, two linked chats) from being handled at the same time."""
        ...

    async def add(self, platform: str, user_ref: str, display_name: str, now: datetime) -> Identity:
        """A new person reached by a new chat identity."""
        ...

    async def add_person(self, person: Person) -> None:
        """A new person without a chat yet (an unlinked chat's own); its id is set on return."""
        ...

    async def get(self, person_id: int) -> Person | None: ...

    async def identities(self, person_id: int) -> Sequence[Identity]: ...

    async def merge(self, leaving: Person, identity: Identity, keeper: Person) -> None:
        """Move the leaving person's chats, check-ins, decisions, outcome rows (activities,
        reassessments, lessons seen) and team memberships to the keeper, drop their unsent
        messages and link codes, and remove them. `identity` is the chat talking now (one of
        the leaving person's)."""
        ...

    async def delete(self, person_id: int) -> None:
        """Every row about the person (/delete)."""
        ...


class LoggedSession(Protocol):
    """A completed check-in as the progression rule reads it: a stored row, or a copy of one
    (`SessionCopy`)."""

    @property
    def id(self) -> int: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def local_date(self) -> date: ...
    @property
    def phase_index(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def pain_during(self) -> int | None: ...
    @property
    def neutral(self) -> str | None: ...
    @property
    def comfort(self) -> int | None: ...
    @property
    def pre_pain(self) -> int | None: ...
    @property
    def morning_pain(self) -> int | None: ...
    @property
    def leg_symptoms(self) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class SessionCopy:
    """A completed check-in's values, read for a decision and never written back: copying
    them costs a fraction of loading a tracked row."""

    id: int
    completed_at: datetime | None
    local_date: date
    phase_index: int
    paused: bool
    pain_during: int | None
    neutral: str | None
    comfort: int | None
    pre_pain: int | None
    morning_pain: int | None
    leg_symptoms: bool | None


@dataclass(frozen=True, slots=True)
class MorningPain:
    """A morning answer to keep (`CheckIns.note_morning`): the day it is about, the pain."""

    day: date
    pain: int


@dataclass(frozen=True)
class PhaseFacts:
    """The stored inputs of the progression rule (`CheckIns.phase_facts`)."""

    total: int  # counted check-ins of the phase (not logged while paused)
    first_day: date | None  # the first of them
    tail: Sequence[LoggedSession]  # the last few of them, oldest first
    recent: Sequence[LoggedSession]  # every completed check-in since a day, oldest first
    test_passed: bool  # the entry test was passed once
    test_last_at: datetime | None  # the latest result of the entry test
    # A message of the person waits in the outbox (unsent; team channels' posts aside).
    queued: bool


class CheckIns(Protocol):
    """A person's check-ins and what hangs off them: decisions, pauses, entry self-tests."""

    async def get(self, checkin_id: int) -> CheckIn | None: ...

    def add(self, checkin: CheckIn) -> None: ...

    async def completed(
        self, person_id: int, *, since: date | None = None, phase_index: int | None = None
    ) -> Sequence[CheckIn]:
        """Completed check-ins (paused ones included), oldest first."""
        ...

    async def last_completed(self, person_id: int) -> CheckIn | None: ...

    async def phase_summary(
        self, person_id: int, phase_index: int, since: date | None, last: int
    ) -> tuple[int, date | None, Sequence[CheckIn]]:
        """Completed check-ins of a phase that count (not logged while paused): how many, the
        first day, and the `last` few, oldest first."""
        ...

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
        """What the progression rule reads, in one go: `phase_summary`'s answer, the completed
        check-ins since `recent_since` (paused ones and other phases included, oldest first),
        the entry test `test_id`'s results so far, and whether anything of the person waits in
        the outbox (after a write of this unit of work, no reminder can be queued for them
        before it ends: SQLite has one writer, PostgreSQL's scheduler needs the person's row).
        What the unit of work holds unwritten is written first and read as written (on
        PostgreSQL a check-in and the person's changes in the same statement). With `noting`,
        the morning answer is kept first (`note_morning`) and the facts read include it: on
        PostgreSQL in the same statement."""
        ...

    async def note_morning(self, person_id: int, day: date, pain: int) -> None:
        """The next morning's pain of every completed check-in of `day` whose morning is not
        known yet (one morning answers for the sessions of that day); the check-ins already
        read take the value too."""
        ...

    async def every(self, person_id: int) -> Sequence[CheckIn]:
        """All check-ins, finished or not (for /export)."""
        ...

    def add_decision(self, decision: DecisionRecord) -> None: ...

    async def decisions(self, person_id: int) -> Sequence[DecisionRecord]: ...

    def add_self_test(self, result: SelfTestResult) -> None: ...

    async def self_tests(
        self, person_id: int, test_id: str | None = None
    ) -> Sequence[SelfTestResult]: ...

    def add_pause(self, pause: Pause) -> None: ...

    async def pauses(self, person_id: int) -> Sequence[Pause]: ...

    async def open_pause(self, person_id: int, now: datetime) -> Pause | None:
        """The pause or hold going on at `now` (its end not reached, or not set)."""
        ...


class Teams(Protocol):
    """Team channels and their members."""

    async def get(self, team_id: int) -> Team | None: ...

    async def in_group(self, platform: str, group_ref: str) -> Team | None:
        """The team of a Telegram group or Discord server."""
        ...

    def add(self, team: Team) -> None: ...

    async def membership(self, team_id: int, person_id: int) -> TeamMember | None: ...

    async def join(self, member: TeamMember) -> None: ...

    async def memberships(self, person_id: int) -> Sequence[tuple[TeamMember, Team]]: ...

    async def member_count(self, team_id: int) -> int: ...


class Links(Protocol):
    """One-time `/link` codes and the wrong codes that bound guessing."""

    async def replace_code(self, code: LinkCode) -> None:
        """The person's new live code; an older unused one stops working."""
        ...

    async def owner(self, code: str, now: datetime) -> int | None:
        """The person a live code belongs to."""
        ...

    async def claim(self, code: str, person_id: int, now: datetime) -> Person | None:
        """Use a live code of someone else's, once: of two claims at the same moment only one
        gets the code's person back."""
        ...

    async def wrong_tries_reopen(
        self, since: datetime, limit: int, identity_id: int | None = None
    ) -> datetime | None:
        """None while fewer than `limit` wrong codes came after `since` (from one chat, or from
        everyone); else the time of the try whose ageing out brings the count under `limit`."""
        ...

    async def record_wrong_try(
        self, identity_id: int, now: datetime, forget_before: datetime
    ) -> None: ...


class Outbox(Protocol):
    """Messages the coach pushes later (sent by the scheduler)."""

    async def cancel_pending(
        self, person_id: int, now: datetime, *, keep_weekly: bool = False
    ) -> None:
        """Drop the person's unsent messages (the weekly summary too, unless `keep_weekly`)."""
        ...

    async def tell_channel(
        self,
        *,
        platform: str,
        channel_ref: str,
        kind: str,
        local_date: date,
        text: str,
        person_id: int,
        now: datetime,
    ) -> None:
        """One line for a team channel, sent as soon as the scheduler gets to it; the same
        (channel, kind, local date) is queued once."""
        ...


@dataclass(frozen=True)
class NewActivity:
    label: str  # already cleaned (`bot.core.outcomes.clean_activity`)
    baseline_score: int | None  # 0-10; None when it was not rated yet
    offer_id: str | None = None  # the offered activity's id; None for the person's own words


class Outcomes(Protocol):
    """A person's own activities (PSFS), their 4-weekly reassessments and the lessons seen."""

    async def add_activities(
        self, person_id: int, chosen: Sequence[NewActivity], now: datetime
    ) -> Sequence[Activity]:
        """The chosen activities after any the person already has, in the order given."""
        ...

    async def activities(self, person_id: int) -> Sequence[Activity]: ...

    async def answered_weeks(self, person_id: int) -> set[int]: ...

    async def add_reassessment(
        self,
        person_id: int,
        *,
        week: int,
        local_date: date,
        now: datetime,
        usual_pain: int,
        global_rating: int,
        scores: Mapping[int, int],
        review_suggested: bool,
    ) -> Reassessment | None:
        """None, and nothing stored, when that week was already answered."""
        ...

    async def reassessments(self, person_id: int) -> list[tuple[Reassessment, dict[int, int]]]:
        """Every reassessment in week order, with its scores (activity id -> score)."""
        ...

    async def mark_lesson_seen(
        self, person_id: int, lesson_id: str, today: date, now: datetime
    ) -> bool: ...

    async def lessons_seen(self, person_id: int) -> dict[str, date]: ...

    async def export(self, person_id: int) -> dict[str, Any]:
        """The outcome part of /export, JSON-ready."""
        ...


class StoreConnectionLost(Exception):
    """The connection to the store broke before the unit of work committed (a database restart):
    nothing of it was kept, so the whole unit of work can run again on a new connection."""


class UnitOfWork(Protocol):
    """One transaction's worth of reads and changes."""

    people: People
    checkins: CheckIns
    teams: Teams
    links: Links
    outbox: Outbox
    outcomes: Outcomes

    async def flush(self) -> None:
        """Write the staged rows now (new rows get their ids)."""
        ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Commit when the block ended normally, roll back otherwise. A connection lost before
        the commit is raised as `StoreConnectionLost`; one lost during the commit is not (the
        commit may have landed)."""
        ...


class Storage(Protocol):
    """Where units of work come from."""

    # True when the store cannot lock a person's rows (SQLite): the coach then handles one
    # message at a time in this process.
    one_at_a_time: bool

    def __call__(self) -> UnitOfWork: ...

    async def close(self) -> None: ...
