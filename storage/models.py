"""The coach's tables: a person, the chat identities that reach them, their check-ins and the
progression decisions taken on them. Every row about a person hangs off `people` with
ON DELETE CASCADE, so deleting the person removes everything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# `Identity.last_seen` moves once it is this old: not a write on every message.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    onboarded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The pending question of a conversation (onboarding, check-in, delete confirmation...).
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    baseline_pain: Mapped[int | None]
    baseline_comfort: Mapped[int | None]

    program_id: Mapped[str] = mapped_column(String(64), default="hamstrings-lower-back")
    phase_index: Mapped[int] = mapped_column(Integer, default=0)
    phase_started_on: Mapped[date | None] = mapped_column(Date)
    phase_start_comfort: Mapped[int | None]
    # The morning pain level when the phase began (rule 3a compares later mornings with it).
    phase_start_pain: Mapped[int | None]
    lighter_dose: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rule 3b: a clinician review advised for leg symptoms, and when the person said they were
    # seen (leg symptoms before that no longer count).
    review_advised_on: Mapped[date | None] = mapped_column(Date)
    review_cleared_on: Mapped[date | None] = mapped_column(Date)
    # The day the last phase's goals were first met: maintenance from then on.
    finished_on: Mapped[date | None] = mapped_column(Date)

    # Safety hold after a red flag: "emergency" or "clinician"; cleared only by the person
    # confirming a clinician has cleared them.
    safety_hold: Mapped[str | None] = mapped_column(String(16))
    paused_until: Mapped[datetime | None]

    timezone: Mapped[str | None] = mapped_column(String(64))
    remind_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", local
    remind_days: Mapped[int] = mapped_column(Integer, default=0b1111111)  # bit 0 = Monday
    remind_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire_utc: Mapped[datetime | None] = mapped_column(index=True)
    skip_date: Mapped[date | None] = mapped_column(Date)
    # What fires at next_fire_utc ("reminder", "snooze", "evening"; see bot.core.reminder_plan),
    # a pending snoozed reminder, the local date whose daily reminder has gone out (or was
    # replaced by a snooze), and the optional evening nudge ("HH:MM", None = off).
    next_fire_kind: Mapped[str | None] = mapped_column(String(16))
    snoozed_until: Mapped[datetime | None]
    reminded_on: Mapped[date | None] = mapped_column(Date)
    evening_time: Mapped[str | None] = mapped_column(String(5))
    # The weekly summary's local weekday (0 = Monday ... 6 = Sunday; None = off). It goes out
    # with that day's reminder (`bot.service.weekly`).
    summary_day: Mapped[int | None] = mapped_column(Integer)
    # The day the person was asked for their activities (PSFS): at onboarding, or once, gently,
    # at the next check-in for people who started before activities existed.
    activities_asked_on: Mapped[date | None] = mapped_column(Date)
    # The day the next morning's question was put to the person as the first thing of their day
    # (it interrupts them once a day at most; its button still counts later that day). It is
    # about the last session, which changes only when a check-in of today is completed.
    morning_asked_on: Mapped[date | None] = mapped_column(Date)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Identity(Base):
    """One chat account (Telegram user, Discord user, console name) of a person."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_ref", name="uq_identities_platform_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_ref: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime]

    person: Mapped[Person] = relationship(back_populates="identities")

    def seen(self, now: datetime) -> None:
        """A message of this account arrived: it is reachable again, and seen at `now` to
        `LAST_SEEN_RESOLUTION` (an unchanged attribute set would still cost a write). On
        PostgreSQL `coach_arrival` does the same in the database (migration 0011)."""
        if self.unreachable:
            self.unreachable = False
        if self.last_seen < now - LAST_SEEN_RESOLUTION:
            self.last_seen = now


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_person_done", "person_id", "completed_at"),
        # A phase's counted check-ins (`CheckIns.phase_facts`): their count and first day are
        # read from the index alone.
        Index(
            "ix_checkins_counted",
            "person_id",
            "phase_index",
            "paused",
            "local_date",
            "completed_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    local_date: Mapped[date] = mapped_column(Date)
    phase_index: Mapped[int] = mapped_column(Integer)
    pain_during: Mapped[int | None]
    leg_symptoms: Mapped[bool | None]
    neutral: Mapped[str | None] = mapped_column(String(8))
    comfort: Mapped[int | None]
    lifted: Mapped[bool | None]
    pre_pain: Mapped[int | None]
    morning_pain: Mapped[int | None]
    # Logged while paused: kept and shown, never counted toward a phase's gates.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DecisionRecord(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    phase_from: Mapped[int] = mapped_column(Integer)
    phase_to: Mapped[int] = mapped_column(Integer)


class Pause(Base):
    """A stretch of days the program was paused (`/pause`) or held after a red flag: those
    days are not planned days for adherence."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "pause", "emergency", "clinician"
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # None: still going (or until /resume)


class SelfTestResult(Base):
    """An entry test taken before a phase (the standing neutral-spine test)."""

    __tablename__ = "self_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    test_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    passed: Mapped[bool] = mapped_column(Boolean)


class OutboxMessage(Base):
    """One message the coach pushes (reminder, snoozed reminder, evening nudge, and the hooks for
    team posts and digests), written in the same transaction that claimed it and sent after
    commit. The unique (target, kind, local_date) key makes a second claim of the same reminder a
    no-op. `last_error` holds a short code, never message text or personal data."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("target", "kind", "local_date", name="uq_outbox_target_kind_day"),
        Index("ix_outbox_due", "state", "platform", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "person:<id>" for a person (whatever chat reaches them), "<platform>:<channel>" otherwise.
    target: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(16))
    local_date: Mapped[date] = mapped_column(Date)
    platform: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))  # user_ref, or channel_ref when to_channel
    to_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    fire_at: Mapped[datetime]  # when it was due: later than the grace period, it is dropped
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]  # also the lease of the process that is sending it
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class LinkCode(Base):
    """A one-time code joining a second chat identity to a person (`/link`)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkTry(Base):
    """A wrong `/link` code, kept for a quarter of an hour so guessing stays bounded (see
    `bot.service.link_guard`). Deleting the account (/delete) clears `identity_id`: what is left
    is a bare time that still counts towards the limit for everyone."""

    __tablename__ = "link_tries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(index=True)


class SendBudget(Base):
    """The overall send budget of one platform, shared by every replica (`bot.pacing.SharedPacer`,
    `storage.send_budget`): the next free slot, in seconds since the epoch."""

    __tablename__ = "send_budget"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float)


class Team(Base):
    """A team channel: a daily routine post at a local time and a weekly digest."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("platform", "group_ref", name="uq_teams_platform_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    group_ref: Mapped[str] = mapped_column(String(64))  # Discord guild, Telegram group chat
    channel_ref: Mapped[str] = mapped_column(String(64))
    post_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", local
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_post_utc: Mapped[datetime | None] = mapped_column(index=True)
    next_digest_utc: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]


class TeamMember(Base):
    """Someone who started a routine from a team's post. `share_name` is their opt-in to be
    named in the team's digest and "done" line; pain scores are never shared."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime]
    share_name: Mapped[bool] = mapped_column(Boolean, default=False)


class Activity(Base):
    """An activity the person finds hard because of their back (PSFS), in their own words or
    one the coach offered (`offer_id`), rated 0-10 when it was chosen."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0, 1, 2: the order they were chosen in
    label: Mapped[str] = mapped_column(String(80))
    offer_id: Mapped[str | None] = mapped_column(String(64))  # None: the person's own words
    baseline_score: Mapped[int | None]
    created_at: Mapped[datetime]


class Reassessment(Base):
    """The reassessment of week 4, 8, 12, ...: usual back pain this week and the global rating
    (+3 much better ... -3 much worse). One per window: a second answer is refused."""

    __tablename__ = "reassessments"
    __table_args__ = (UniqueConstraint("person_id", "week", name="uq_reassessments_person_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    local_date: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime]
    usual_pain: Mapped[int] = mapped_column(Integer)
    global_rating: Mapped[int] = mapped_column(Integer)
    review_suggested: Mapped[bool] = mapped_column(Boolean, default=False)


class ActivityScore(Base):
    """One activity rated again in a reassessment."""

    __tablename__ = "activity_scores"
    __table_args__ = (
        UniqueConstraint("reassessment_id", "activity_id", name="uq_activity_scores_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    reassessment_id: Mapped[int] = mapped_column(ForeignKey("reassessments.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int] = mapped_column(Integer)


class LessonSeen(Base):
    """A short lesson shown to the person (in a reminder or from /learn), once per lesson."""

    __tablename__ = "lessons_seen"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime]


# The outcome rows of a person, children first: `SqlPeople.delete` deletes them
# explicitly too.
OUTCOME_TABLES = (ActivityScore, Reassessment, Activity, LessonSeen)
