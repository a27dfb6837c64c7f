"""In-memory fakes of the storage port (`bot.storage_port`), for the service's unit tests.

Modelled on cosmicpython's `FakeRepository` / `FakeUnitOfWork`: the repositories keep the rows
(the mapped classes of `storage.models`, used as plain objects) in lists on one shared `Tables`,
and `bootstrap` wires a coach on them, so a use case runs without a database. A fake unit of
work commits by doing nothing (the rows are changed in place) and cannot roll back.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.config import SOURCE_CONTENT
from bot.core.clock import Clock
from bot.core.content import Library, load_library
from bot.service.coach import Coach
from bot.storage_port import Arrival, MorningPain, NewActivity, PhaseFacts
from storage.models import (
    Activity,
    ActivityScore,
    Base,
    CheckIn,
    DecisionRecord,
    Identity,
    LessonSeen,
    LinkCode,
    Pause,
    Person,
    Reassessment,
    SelfTestResult,
    Team,
    TeamMember,
)


@dataclass
class WrongTry:
    identity_id: int | None
    at: datetime


@dataclass
class Tables:
    """The whole fake database."""

    people: list[Person] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    self_tests: list[SelfTestResult] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    members: list[TeamMember] = field(default_factory=list)
    codes: list[LinkCode] = field(default_factory=list)
    tries: list[WrongTry] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    reassessments: list[Reassessment] = field(default_factory=list)
    scores: list[ActivityScore] = field(default_factory=list)
    lessons: list[LessonSeen] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def store(self, row: Base, table: list[Any]) -> None:
        """What a flush does to a new row: column defaults, an id, and it is in the table."""
        for column in type(row).__table__.columns:
            default = column.default
            if getattr(row, column.key) is None and default is not None and default.is_scalar:
                setattr(row, column.key, default.arg)  # type: ignore[attr-defined]
        if "id" in type(row).__table__.columns and getattr(row, "id", None) is None:
            row.id = next(self._ids)  # type: ignore[attr-defined]
        if row not in table:
            table.append(row)

    def of(self, table: Sequence[Any], person_id: int) -> list[Any]:
        return [row for row in table if row.person_id == person_id]


class FakePeople:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def identity(
        self, platform: str, user_ref: str, *, lock: bool = False
    ) -> Identity | None:
        for identity in self.t.identities:
            if (identity.platform, identity.user_ref) == (platform, user_ref):
                return identity
        return None

    async def arrive(self, platform: str, user_ref: str, now: datetime) -> Arrival | None:
        identity = await self.identity(platform, user_ref, lock=True)
        if identity is None:
            return None
        identity.seen(now)
        return Arrival(identity, await FakeCheckIns(self.t).last_completed(identity.person_id))

    async def add(self, platform: str, user_ref: str, display_name: str, now: datetime) -> Identity:
        person = Person(created_at=now)
        self.t.store(person, self.t.people)
        identity = Identity(
            person=person,
            person_id=person.id,
            platform=platform,
            user_ref=user_ref,
            display_name=display_name[:128],
            last_seen=now,
        )
        self.t.store(identity, self.t.identities)
        return identity

    async def add_person(self, person: Person) -> None:
        self.t.store(person, self.t.people)

    async def get(self, person_id: int) -> Person | None:
        return next((p for p in self.t.people if p.id == person_id), None)

    async def identities(self, person_id: int) -> Sequence[Identity]:
        return sorted(self.t.of(self.t.identities, person_id), key=lambda i: i.id)

    async def merge(self, leaving: Person, identity: Identity, keeper: Person) -> None:
        t = self.t
        t.outbox = [row for row in t.outbox if row["person_id"] != leaving.id]
        keeper.morning_asked_on = max(
            (d for d in (keeper.morning_asked_on, leaving.morning_asked_on) if d), default=None
        )
        kept_weeks = {r.week for r in t.of(t.reassessments, keeper.id)}
        clash = {r.id for r in t.of(t.reassessments, leaving.id) if r.week in kept_weeks}
        t.reassessments = [r for r in t.reassessments if r.id not in clash]
        t.scores = [s for s in t.scores if s.reassessment_id not in clash]
        kept_lessons = {seen.lesson_id for seen in t.of(t.lessons, keeper.id)}
        t.lessons = [
            seen
            for seen in t.lessons
            if not (seen.person_id == leaving.id and seen.lesson_id in kept_lessons)
        ]
        for row in [
            *t.identities,
            *t.checkins,
            *t.decisions,
            *t.activities,
            *t.reassessments,
            *t.scores,
            *t.lessons,
        ]:
            if row.person_id == leaving.id:
                row.person_id = keeper.id
        for moved in t.of(t.identities, keeper.id):
            moved.person = keeper
        kept = {m.team_id for m in t.of(t.members, keeper.id)}
        for member in t.of(t.members, leaving.id):
            if member.team_id not in kept:
                member.person_id = keeper.id
        t.members = [m for m in t.members if m.person_id != leaving.id]
        t.codes = [c for c in t.codes if c.person_id != leaving.id]
        self._drop_person(leaving.id)

    async def delete(self, person_id: int) -> None:
        t = self.t
        accounts = {i.id for i in t.of(t.identities, person_id)}
        for wrong in t.tries:
            if wrong.identity_id in accounts:
                wrong.identity_id = None
        t.identities = [i for i in t.identities if i.person_id != person_id]
        t.checkins = [c for c in t.checkins if c.person_id != person_id]
        t.decisions = [d for d in t.decisions if d.person_id != person_id]
        t.members = [m for m in t.members if m.person_id != person_id]
        t.codes = [c for c in t.codes if c.person_id != person_id]
        t.outbox = [row for row in t.outbox if row["person_id"] != person_id]
        t.activities = [a for a in t.activities if a.person_id != person_id]
        t.reassessments = [r for r in t.reassessments if r.person_id != person_id]
        t.scores = [s for s in t.scores if s.person_id != person_id]
        t.lessons = [seen for seen in t.lessons if seen.person_id != person_id]
        self._drop_person(person_id)

    def _drop_person(self, person_id: int) -> None:
        # What ON DELETE CASCADE takes with the person.
        t = self.t
        t.pauses = [p for p in t.pauses if p.person_id != person_id]
        t.self_tests = [s for s in t.self_tests if s.person_id != person_id]
        t.people = [p for p in t.people if p.id != person_id]


def _done(rows: list[CheckIn]) -> list[CheckIn]:
    return sorted(
        (c for c in rows if c.completed_at is not None), key=lambda c: (c.completed_at, c.id)
    )


class FakeCheckIns:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def get(self, checkin_id: int) -> CheckIn | None:
        return next((c for c in self.t.checkins if c.id == checkin_id), None)

    def add(self, checkin: CheckIn) -> None:
        self.t.store(checkin, self.t.checkins)

    async def completed(
        self, person_id: int, *, since: date | None = None, phase_index: int | None = None
    ) -> Sequence[CheckIn]:
        return [
            c
            for c in _done(self.t.of(self.t.checkins, person_id))
            if (since is None or c.local_date >= since)
            and (phase_index is None or c.phase_index == phase_index)
        ]

    async def last_completed(self, person_id: int) -> CheckIn | None:
        done = _done(self.t.of(self.t.checkins, person_id))
        return done[-1] if done else None

    async def phase_summary(
        self, person_id: int, phase_index: int, since: date | None, last: int
    ) -> tuple[int, date | None, Sequence[CheckIn]]:
        rows = [
            c
            for c in await self.completed(person_id, since=since, phase_index=phase_index)
            if not c.paused
        ]
        first = min((c.local_date for c in rows), default=None)
        return len(rows), first, rows[-last:] if last > 0 else []

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
        if noting is not None:
            await self.note_morning(person_id, noting.day, noting.pain)
        total, first_day, tail = await self.phase_summary(person_id, phase_index, since, last)
        tests = await self.self_tests(person_id, test_id) if test_id is not None else []
        return PhaseFacts(
            total=total,
            first_day=first_day,
            tail=tail,
            recent=await self.completed(person_id, since=recent_since),
            test_passed=any(t.passed for t in tests),
            test_last_at=max((t.at for t in tests), default=None),
            queued=any(
                row["person_id"] == person_id
                and row["state"] in {"pending", "sending"}
                and not row["to_channel"]
                for row in self.t.outbox
            ),
        )

    async def note_morning(self, person_id: int, day: date, pain: int) -> None:
        for c in _done(self.t.of(self.t.checkins, person_id)):
            if c.local_date == day and c.morning_pain is None:
                c.morning_pain = pain

    async def every(self, person_id: int) -> Sequence[CheckIn]:
        return sorted(self.t.of(self.t.checkins, person_id), key=lambda c: c.id)

    def add_decision(self, decision: DecisionRecord) -> None:
        self.t.store(decision, self.t.decisions)

    async def decisions(self, person_id: int) -> Sequence[DecisionRecord]:
        return sorted(self.t.of(self.t.decisions, person_id), key=lambda d: (d.at, d.id))

    def add_self_test(self, result: SelfTestResult) -> None:
        self.t.store(result, self.t.self_tests)

    async def self_tests(
        self, person_id: int, test_id: str | None = None
    ) -> Sequence[SelfTestResult]:
        rows = [s for s in self.t.of(self.t.self_tests, person_id) if test_id in {None, s.test_id}]
        return sorted(rows, key=lambda s: (s.at, s.id))

    def add_pause(self, pause: Pause) -> None:
        self.t.store(pause, self.t.pauses)

    async def pauses(self, person_id: int) -> Sequence[Pause]:
        return sorted(self.t.of(self.t.pauses, person_id), key=lambda p: p.started_at)

    async def open_pause(self, person_id: int, now: datetime) -> Pause | None:
        going = [p for p in await self.pauses(person_id) if p.ended_at is None or p.ended_at > now]
        return going[-1] if going else None


class FakeTeams:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def get(self, team_id: int) -> Team | None:
        return next((team for team in self.t.teams if team.id == team_id), None)

    async def in_group(self, platform: str, group_ref: str) -> Team | None:
        return next(
            (t for t in self.t.teams if (t.platform, t.group_ref) == (platform, group_ref)), None
        )

    def add(self, team: Team) -> None:
        self.t.store(team, self.t.teams)

    async def membership(self, team_id: int, person_id: int) -> TeamMember | None:
        return next((m for m in self.t.of(self.t.members, person_id) if m.team_id == team_id), None)

    async def join(self, member: TeamMember) -> None:
        self.t.store(member, self.t.members)

    async def memberships(self, person_id: int) -> Sequence[tuple[TeamMember, Team]]:
        found = []
        for member in self.t.of(self.t.members, person_id):
            team = await self.get(member.team_id)
            assert team is not None
            found.append((member, team))
        return sorted(found, key=lambda pair: pair[1].id)

    async def member_count(self, team_id: int) -> int:
        return sum(1 for m in self.t.members if m.team_id == team_id)


class FakeLinks:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    def _live(self, code: str, now: datetime) -> LinkCode | None:
        return next(
            (
                c
                for c in self.t.codes
                if c.code == code and c.used_at is None and c.expires_at > now
            ),
            None,
        )

    async def replace_code(self, code: LinkCode) -> None:
        self.t.codes = [
            c for c in self.t.codes if not (c.person_id == code.person_id and c.used_at is None)
        ]
        self.t.store(code, self.t.codes)

    async def owner(self, code: str, now: datetime) -> int | None:
        live = self._live(code, now)
        return live.person_id if live else None

    async def claim(self, code: str, person_id: int, now: datetime) -> Person | None:
        live = self._live(code, now)
        if live is None or live.person_id == person_id:
            return None
        live.used_at = now
        return await FakePeople(self.t).get(live.person_id)

    async def wrong_tries_reopen(
        self, since: datetime, limit: int, identity_id: int | None = None
    ) -> datetime | None:
        times = sorted(
            w.at
            for w in self.t.tries
            if w.at > since and (identity_id is None or w.identity_id == identity_id)
        )
        return None if len(times) < limit else times[len(times) - limit]

    async def record_wrong_try(
        self, identity_id: int, now: datetime, forget_before: datetime
    ) -> None:
        self.t.tries = [w for w in self.t.tries if w.at >= forget_before]
        self.t.tries.append(WrongTry(identity_id, now))


class FakeOutbox:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def cancel_pending(
        self, person_id: int, now: datetime, *, keep_weekly: bool = False
    ) -> None:
        for row in self.t.outbox:
            if (
                row["person_id"] == person_id
                and row["state"] == "pending"
                and not row["to_channel"]
                and not (keep_weekly and row["kind"] == "weekly")
            ):
                row["state"] = "dropped"

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
        key = (f"{platform}:{channel_ref}", kind, local_date)
        if any((r["target"], r["kind"], r["local_date"]) == key for r in self.t.outbox):
            return
        self.t.outbox.append(
            {
                "target": key[0],
                "kind": kind,
                "local_date": local_date,
                "platform": platform,
                "ref": channel_ref,
                "to_channel": True,
                "person_id": person_id,
                "state": "pending",
                "text": text,
            }
        )


class FakeOutcomes:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def add_activities(
        self, person_id: int, chosen: Sequence[NewActivity], now: datetime
    ) -> Sequence[Activity]:
        first = max((a.position + 1 for a in self.t.of(self.t.activities, person_id)), default=0)
        rows = []
        for i, item in enumerate(chosen):
            row = Activity(
                person_id=person_id,
                position=first + i,
                label=item.label[:80],
                offer_id=item.offer_id,
                baseline_score=item.baseline_score,
                created_at=now,
            )
            self.t.store(row, self.t.activities)
            rows.append(row)
        return rows

    async def activities(self, person_id: int) -> Sequence[Activity]:
        return sorted(self.t.of(self.t.activities, person_id), key=lambda a: (a.position, a.id))

    async def answered_weeks(self, person_id: int) -> set[int]:
        return {r.week for r in self.t.of(self.t.reassessments, person_id)}

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
        own = {a.id for a in self.t.of(self.t.activities, person_id)}
        if week in await self.answered_weeks(person_id) or not set(scores) <= own:
            return None
        row = Reassessment(
            person_id=person_id,
            week=week,
            local_date=local_date,
            at=now,
            usual_pain=usual_pain,
            global_rating=global_rating,
            review_suggested=review_suggested,
        )
        self.t.store(row, self.t.reassessments)
        for activity_id, score in scores.items():
            self.t.store(
                ActivityScore(
                    person_id=person_id,
                    reassessment_id=row.id,
                    activity_id=activity_id,
                    score=score,
                ),
                self.t.scores,
            )
        return row

    async def reassessments(self, person_id: int) -> list[tuple[Reassessment, dict[int, int]]]:
        rows = sorted(self.t.of(self.t.reassessments, person_id), key=lambda r: r.week)
        return [
            (
                row,
                {s.activity_id: s.score for s in self.t.scores if s.reassessment_id == row.id},
            )
            for row in rows
        ]

    async def mark_lesson_seen(
        self, person_id: int, lesson_id: str, today: date, now: datetime
    ) -> bool:
        if lesson_id in await self.lessons_seen(person_id):
            return False
        self.t.lessons.append(
            LessonSeen(person_id=person_id, lesson_id=lesson_id, seen_on=today, at=now)
        )
        return True

    async def lessons_seen(self, person_id: int) -> dict[str, date]:
        return {seen.lesson_id: seen.seen_on for seen in self.t.of(self.t.lessons, person_id)}

    async def export(self, person_id: int) -> dict[str, Any]:
        labels = {a.id: a.label for a in await self.activities(person_id)}
        seen = await self.lessons_seen(person_id)
        return {
            "activities": [
                {
                    "activity": a.label,
                    "offered": a.offer_id,
                    "baseline": a.baseline_score,
                    "chosen_at": a.created_at.isoformat(),
                }
                for a in await self.activities(person_id)
            ],
            "reassessments": [
                {
                    "week": row.week,
                    "date": row.local_date.isoformat(),
                    "usual_pain": row.usual_pain,
                    "global_rating": row.global_rating,
                    "clinician_review_suggested": row.review_suggested,
                    "activities": {labels[a]: v for a, v in scores.items() if a in labels},
                }
                for row, scores in await self.reassessments(person_id)
            ],
            "lessons_seen": [
                {"lesson": lesson, "date": day.isoformat()}
                for lesson, day in sorted(seen.items(), key=lambda item: (item[1], item[0]))
            ],
        }


class FakeUnitOfWork:
    def __init__(self, tables: Tables) -> None:
        self.people = FakePeople(tables)
        self.checkins = FakeCheckIns(tables)
        self.teams = FakeTeams(tables)
        self.links = FakeLinks(tables)
        self.outbox = FakeOutbox(tables)
        self.outcomes = FakeOutcomes(tables)
        self.committed = False

    async def flush(self) -> None:
        return None

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.committed = error is None


class FakeStorage:
    """Implements `bot.storage_port.Storage`: every unit of work on the same tables."""

    one_at_a_time = True

    def __init__(self) -> None:
        self.tables = Tables()
        self.units: list[FakeUnitOfWork] = []
        self.closed = False

    def __call__(self) -> FakeUnitOfWork:
        unit = FakeUnitOfWork(self.tables)
        self.units.append(unit)
        return unit

    async def close(self) -> None:
        self.closed = True


@cache
def library() -> Library:
    return load_library(SOURCE_CONTENT)


def bootstrap(clock: Clock, charts_dir: Path, storage: FakeStorage | None = None) -> Coach:
    """The coach wired to fakes (cosmicpython's `bootstrap` with a fake unit of work)."""
    return Coach(library(), storage or FakeStorage(), clock=clock, charts_dir=charts_dir)
