"""People and their chat identities, on one session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.selectable import LateralFromClause

from bot.core import flows
from bot.storage_port import Arrival
from storage import link_tries
from storage.models import (
    LAST_SEEN_RESOLUTION,
    OUTCOME_TABLES,
    Activity,
    ActivityScore,
    CheckIn,
    DecisionRecord,
    Identity,
    LessonSeen,
    LinkCode,
    OutboxMessage,
    Pause,
    Person,
    Reassessment,
    SelfTestResult,
    TeamMember,
    UTCDateTime,
)

# The flows whose open question names a check-in by its id (the others name the person).
ASKED_FLOWS = (flows.CHECKIN, flows.MORNING)


class SqlPeople:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def identity(
        self, platform: str, user_ref: str, *, lock: bool = False
    ) -> Identity | None:
        """On PostgreSQL `lock` holds the identity and person rows until commit, so two messages
        of one person are handled one at a time, whichever replica gets them. (SQLite has no row
        locks: see `Coach.handle`.)"""
        locks = lock and self.session.get_bind().dialect.name != "sqlite"
        statement = _ARRIVAL.identity_locked if locks else _ARRIVAL.identity
        who = {"platform": platform, "user_ref": user_ref}
        return (await self.session.scalars(statement, who)).first()

    async def arrive(self, platform: str, user_ref: str, now: datetime) -> Arrival | None:
        """The identity and person, the person's last completed check-in and the check-in their
        open question names, in one round trip, with the identity marked seen at `now`
        (`Identity.seen`); the check-ins land in the session, so asking for them again by id
        costs no statement. SQLite: one SELECT (the coach takes one message at a time, so what
        it reads is what the previous message committed), and the mark is written at commit.
        PostgreSQL: the function `coach_arrival` (migration 0011) locks the identity and person
        rows (as `identity(lock=True)`), marks the identity seen (no UPDATE of it at commit),
        then reads them and the check-ins in a statement of its own, after the lock: one
        statement that waited for the lock would read the check-ins as they were before the
        message it waited for committed (a double send would log twice). The statements are
        built once (`_ARRIVAL`): building one costs more than running it."""
        who: dict[str, Any] = {"platform": platform, "user_ref": user_ref}
        statement = _ARRIVAL.sqlite
        if self.session.get_bind().dialect.name != "sqlite":
            statement = _ARRIVAL.postgres
            who.update(
                asked_flows=list(ASKED_FLOWS),
                seen_at=now,
                seen_before=now - LAST_SEEN_RESOLUTION,
            )
        found = (await self.session.execute(statement, who)).first()
        if found is None:
            return None
        identity, person = found[0], found[1]
        set_committed_value(identity, "person", person)  # loaded together: no lazy load
        identity.seen(now)  # SQLite; on PostgreSQL the function did it, so nothing changes
        return Arrival(identity=identity, last_session=found[2], asked=found[3])

    async def add(self, platform: str, user_ref: str, display_name: str, now: datetime) -> Identity:
        person = Person(created_at=now)
        identity = Identity(
            person=person,
            platform=platform,
            user_ref=user_ref,
            display_name=display_name[:128],
            last_seen=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add_all([person, identity])
        except IntegrityError:
            # The same chat's first message was handled at the same moment elsewhere (a double
            # tap, another replica): theirs is committed now, so this message uses it.
            found = await self.identity(platform, user_ref, lock=True)
            if found is None:
                raise
            found.seen(now)
            return found
        return identity

    async def add_person(self, person: Person) -> None:
        self.session.add(person)
        await self.session.flush()

    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def identities(self, person_id: int) -> Sequence[Identity]:
        statement = select(Identity).where(Identity.person_id == person_id).order_by(Identity.id)
        return (await self.session.scalars(statement)).all()

    async def merge(self, leaving: Person, identity: Identity, keeper: Person) -> None:
        session = self.session
        # Unsent reminders of the leaving person would repeat the keeper's: the keeper's plan
        # covers both chats from now on.
        await session.execute(delete(OutboxMessage).where(OutboxMessage.person_id == leaving.id))
        for table in (Identity, CheckIn, DecisionRecord):
            await session.execute(
                update(table).where(table.person_id == leaving.id).values(person_id=keeper.id)
            )
        await self._merge_outcomes(leaving.id, keeper.id)
        keeper.morning_asked_on = _later(keeper.morning_asked_on, leaving.morning_asked_on)
        kept_teams = select(TeamMember.team_id).where(TeamMember.person_id == keeper.id)
        await session.execute(
            update(TeamMember)
            .where(TeamMember.person_id == leaving.id, TeamMember.team_id.not_in(kept_teams))
            .values(person_id=keeper.id)
        )
        await session.execute(delete(TeamMember).where(TeamMember.person_id == leaving.id))
        await session.execute(delete(LinkCode).where(LinkCode.person_id == leaving.id))
        await session.execute(delete(Person).where(Person.id == leaving.id))
        # Expunging the person cascades to the identities it has loaded (a brand-new account's
        # own identity among them): expunge only what is still there.
        for gone in (leaving, identity):
            if gone in session:
                session.expunge(gone)

    async def _merge_outcomes(self, leaving: int, keeper: int) -> None:
        """The leaving person's activities, reassessments and lessons seen go to the keeper;
        a reassessment of a week the keeper already answered, and a lesson the keeper has seen,
        stay the keeper's (one per week, one per lesson)."""
        session = self.session
        kept_weeks = select(Reassessment.week).where(Reassessment.person_id == keeper)
        clash = select(Reassessment.id).where(
            Reassessment.person_id == leaving, Reassessment.week.in_(kept_weeks)
        )
        await session.execute(delete(ActivityScore).where(ActivityScore.reassessment_id.in_(clash)))
        await session.execute(
            delete(Reassessment).where(
                Reassessment.person_id == leaving, Reassessment.week.in_(kept_weeks)
            )
        )
        kept_lessons = select(LessonSeen.lesson_id).where(LessonSeen.person_id == keeper)
        await session.execute(
            delete(LessonSeen).where(
                LessonSeen.person_id == leaving, LessonSeen.lesson_id.in_(kept_lessons)
            )
        )
        for table in (Activity, Reassessment, ActivityScore, LessonSeen):
            await session.execute(
                update(table).where(table.person_id == leaving).values(person_id=keeper)
            )

    async def delete(self, person_id: int) -> None:
        # Child rows go by ON DELETE CASCADE; delete them explicitly too, so a backend or
        # connection without foreign-key enforcement cannot leave health data behind.
        await link_tries.forget_person(self.session, person_id)
        for table in (
            *OUTCOME_TABLES,
            TeamMember,
            LinkCode,
            OutboxMessage,
            DecisionRecord,
            SelfTestResult,
            Pause,
            CheckIn,
            Identity,
        ):
            await self.session.execute(delete(table).where(table.person_id == person_id))
        await self.session.execute(delete(Person).where(Person.id == person_id))
        self.session.expunge_all()  # the loaded rows are gone: nothing left to flush


def _later(one: date | None, other: date | None) -> date | None:
    """The morning question asked today of either chat's person is asked today of the keeper
    (the leaving person's check-ins, their last session perhaps among them, move over)."""
    return max((day for day in (one, other) if day is not None), default=None)


def _last_session_id(person_id: QueryableAttribute[int]) -> ScalarSelect[int]:
    """The id of the person's last completed check-in (NULL when there is none)."""
    return (
        select(CheckIn.id)
        .where(CheckIn.person_id == person_id, CheckIn.completed_at.is_not(None))
        .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
        .limit(1)
        .scalar_subquery()
    )


class _Arrival:
    """The arrival's statements, with bound parameters instead of values (built once: building
    one costs more than running it)."""

    def __init__(self) -> None:
        last = aliased(CheckIn, name="last_session")
        asked = aliased(CheckIn, name="asked")
        who = (
            Identity.platform == bindparam("platform"),
            Identity.user_ref == bindparam("user_ref"),
        )
        self.identity = (
            select(Identity).where(*who).options(joinedload(Identity.person, innerjoin=True))
        )
        self.identity_locked = self.identity.with_for_update()
        # Only these flows' `ref` is a check-in's id (the others name the person).
        # and only a JSON integer is an id (as in `coach_arrival`).
        asked_id = case(
            (
                and_(
                    Person.pending["flow"].as_string().in_(ASKED_FLOWS),
                    func.json_type(Person.pending, "$.ref") == "integer",
                ),
                Person.pending["ref"].as_integer(),
            )
        )
        self.sqlite = (
            select(Identity, Person, last, asked)
            .join(Identity.person)
            .outerjoin(last, last.id == _last_session_id(Person.id))
            .outerjoin(asked, and_(asked.id == asked_id, asked.person_id == Person.id))
            .where(*who)
        )
        self.postgres = _from_function()


def _from_function() -> Select[Identity, Person, CheckIn, CheckIn]:
    """An ORM statement over `coach_arrival`: each of its four row values is spread into its
    columns by a LATERAL subquery, and an entity is mapped onto each subquery by column name
    (so the table's physical column order does not matter). A plain statement, so its
    compiled form and result mapping are cached like any other."""
    arrival = func.coach_arrival(
        bindparam("platform"),
        bindparam("user_ref"),
        bindparam("asked_flows", type_=ARRAY(String)),
        bindparam("seen_at", type_=UTCDateTime()),
        bindparam("seen_before", type_=UTCDateTime()),
    ).table_valued("who", "person", "last_session", "asked", name="arrival")
    who, who_row = _spread("who", Identity)
    person, person_row = _spread("person", Person)
    last, last_row = _spread("last_session", CheckIn)
    asked, asked_row = _spread("asked", CheckIn)
    return (
        select(who, person, last, asked)
        .select_from(arrival)
        .join(who_row, true())
        .join(person_row, true())
        .join(last_row, true())
        .join(asked_row, true())
    )


_Model = TypeVar("_Model", Identity, Person, CheckIn)


def _spread(part: str, model: type[_Model]) -> tuple[type[_Model], LateralFromClause]:
    """`(arrival.part).column AS column` for every column of the model, as a LATERAL subquery,
    with the model mapped onto it by name."""
    columns = (
        literal_column(f"(arrival.{part}).{column.name}", column.type).label(column.name)
        for column in model.__table__.columns
    )
    row = select(*columns).lateral(part)
    return aliased(model, row, adapt_on_names=True), row


_ARRIVAL = _Arrival()
