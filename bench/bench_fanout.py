"""Reminder fan-out: 100,000 people due in the same minute.

Ours (one tick job, reminders in the database): the wall time and peak memory to claim, render
and enqueue them all (no sending), on SQLite and on PostgreSQL, plus the scheduler's start-up.
Beside it, in the same run, the job-per-person baseline: python-telegram-bot's
`JobQueue.run_daily` with one job per person, its start-up time (adding the jobs and starting the
queue) and peak memory. Every measurement runs in its own subprocess, so peak RSS is clean;
the database is filled by another subprocess beforehand.

    .venv/bin/python bench/bench_fanout.py [--people 100000] [--skip-postgres]
        [--morning-share 0.1]   # a share of people with a check-in yesterday (morning question)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN = os.environ.get(
    "COACH_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)
# Zones and local times that all fall on 06:30 UTC on 5 January 2027.
ZONES = [
    ("Europe/Berlin", "07:30"),
    ("Europe/London", "06:30"),
    ("Asia/Kolkata", "12:00"),
    ("America/New_York", "01:30"),
    ("Asia/Tokyo", "15:30"),
    ("Africa/Lagos", "07:30"),
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- subprocess: fill a database ----------------------------------------------------------------


async def fill(url: str, people: int, morning_share: float) -> None:
    from sqlalchemy import insert

    from bot.core.reminder_plan import ReminderState, hhmm, plan_next
    from storage import db
    from storage.models import CheckIn, Identity, Person

    engine = db.create_engine(url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    chunk = 10_000
    morning_every = int(1 / morning_share) if morning_share else 0
    for start in range(0, people, chunk):
        rows, identities, checkins = [], [], []
        for person_id in range(start + 1, min(people, start + chunk) + 1):
            zone, at = ZONES[person_id % len(ZONES)]
            fire = plan_next(ReminderState(zone=zone, remind_time=hhmm(at)), PLANNED)
            assert fire is not None and fire.at == DUE
            rows.append(
                {
                    "id": person_id,
                    "created_at": PLANNED,
                    "onboarded": True,
                    "timezone": zone,
                    "remind_time": at,
                    "remind_enabled": True,
                    "next_fire_utc": fire.at,
                    "next_fire_kind": fire.kind.value,
                }
            )
            identities.append(
                {
                    "person_id": person_id,
                    "platform": "telegram",
                    "user_ref": str(10_000_000 + person_id),
                    "display_name": "",
                    "last_seen": PLANNED,
                }
            )
            if morning_every and person_id % morning_every == 0:
                day = fire.local_date - timedelta(days=1)
                checkins.append(
                    {
                        "person_id": person_id,
                        "started_at": PLANNED,
                        "completed_at": PLANNED,
                        "local_date": day,
                        "phase_index": 0,
                        "pain_during": 2,
                        "neutral": "yes",
                        "pre_pain": 3,
                    }
                )
        async with sessions() as session, session.begin():
            await session.execute(insert(Person), rows)
            await session.execute(insert(Identity), identities)
            if checkins:
                await session.execute(insert(CheckIn), checkins)
    async with engine.begin() as connection:
        # As autovacuum would soon after a bulk load: planner statistics for the new rows.
        await connection.exec_driver_sql("ANALYZE")
    await engine.dispose()


# --- subprocess: our scheduler ------------------------------------------------------------------


class NullSender:
    from bot.core.messages import Platform

    platform = Platform.TELEGRAM

    async def send_to_person(self, user_ref: str, replies: Any) -> Any:
        raise AssertionError("the fan-out bench does not send")

    async def send_to_channel(self, channel_ref: str, replies: Any) -> Any:
        raise AssertionError("the fan-out bench does not send")


async def ours(url: str, people: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bot.config import SOURCE_CONTENT, Settings
    from bot.core.content import load_library
    from bot.core.messages import Platform
    from bot.scheduler import ReminderScheduler
    from storage import db
    from storage.models import OutboxMessage

    library = load_library(SOURCE_CONTENT)
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    async with sessions() as session:  # connect and warm up the pool before measuring
        await session.execute(select(1))
    settings = Settings(database_url=url, content_dir=SOURCE_CONTENT)
    baseline = current_rss_mb()

    started = time.perf_counter()
    reminders = ReminderScheduler(
        sessions, library, {Platform.TELEGRAM: NullSender()}, settings, lambda: DUE
    )
    reminders.start()  # the APScheduler with its one interval job
    reminders._scheduler.pause()  # keep its own first tick out of the measurement
    startup = time.perf_counter() - started
    startup_rss = current_rss_mb()

    started = time.perf_counter()
    result = await reminders.claim(DUE + timedelta(seconds=20))
    claim = time.perf_counter() - started
    peak = peak_rss_mb()
    await reminders.shutdown()
    async with sessions() as session:
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    await engine.dispose()
    assert result.enqueued == people == queued, (result, queued)
    return {
        "startup_s": startup,
        "startup_mb": startup_rss - baseline,
        "claim_s": claim,
        "per_person_ms": claim / people * 1000,
        "peak_mb": peak,
        "peak_over_baseline_mb": peak - baseline,
        "baseline_mb": baseline,
    }


# --- subprocess: job per person with python-telegram-bot --------------------------------------


async def ptb(people: int) -> dict[str, Any]:
    from datetime import time as clock_time
    from zoneinfo import ZoneInfo

    from telegram.ext import ApplicationBuilder, ContextTypes

    async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:  # never runs here
        pass

    app = ApplicationBuilder().token("123:ABC").build()
    queue = app.job_queue
    assert queue is not None
    zones = [(ZoneInfo(zone), clock_time(int(at[:2]), int(at[3:]))) for zone, at in ZONES]
    baseline = current_rss_mb()
    started = time.perf_counter()
    for person_id in range(1, people + 1):
        zone, at = zones[person_id % len(zones)]
        queue.run_daily(
            remind,
            at.replace(tzinfo=zone),
            days=tuple(range(7)),
            chat_id=10_000_000 + person_id,
            user_id=10_000_000 + person_id,
            name=f"remind-{person_id}",
        )
    await queue.start()
    startup = time.perf_counter() - started
    peak = peak_rss_mb()
    jobs = len(queue.jobs())
    await queue.stop(wait=False)
    assert jobs == people
    return {
        "startup_s": startup,
        "peak_mb": peak,
        "peak_over_baseline_mb": peak - baseline,
        "baseline_mb": baseline,
        "jobs": jobs,
    }


# --- orchestration ----------------------------------------------------------------------------


def run(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def postgres_database() -> tuple[str, str]:
    name = f"coach_bench_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", POSTGRES_ADMIN, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


def drop_postgres(name: str) -> None:
    subprocess.run(
        ["psql", POSTGRES_ADMIN, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        check=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--morning-share", type=float, default=0.0)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--role", default=None)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    if args.role == "fill":
        asyncio.run(fill(args.url, args.people, args.morning_share))
        print(json.dumps({"ok": True}))
        return
    if args.role == "ours":
        print(json.dumps(asyncio.run(ours(args.url, args.people))))
        return
    if args.role == "ptb":
        print(json.dumps(asyncio.run(ptb(args.people))))
        return

    people = str(args.people)
    share = str(args.morning_share)
    print(f"Reminder fan-out: {args.people:,} people due in the same minute")
    if args.morning_share:
        print(f"({args.morning_share:.0%} of them checked in yesterday: the morning question)")
    results: dict[str, dict[str, Any]] = {}
    folder = Path(tempfile.mkdtemp())
    sqlite_url = f"sqlite+aiosqlite:///{folder / 'fanout.sqlite3'}"
    run("--role", "fill", "--url", sqlite_url, "--people", people, "--morning-share", share)
    results["ours, SQLite"] = run("--role", "ours", "--url", sqlite_url, "--people", people)
    if not args.skip_postgres:
        name, pg_url = postgres_database()
        try:
            run("--role", "fill", "--url", pg_url, "--people", people, "--morning-share", share)
            results["ours, PostgreSQL"] = run("--role", "ours", "--url", pg_url, "--people", people)
        finally:
            drop_postgres(name)
    results["PTB JobQueue.run_daily"] = run("--role", "ptb", "--people", people)

    print()
    print(
        f"{'':<24} {'start-up':>10} {'start-up mem':>13} {'claim+render+enqueue':>21} "
        f"{'per person':>11} {'peak RSS':>9} {'over base':>10}"
    )
    for name, r in results.items():
        claim = f"{r['claim_s']:.2f} s" if "claim_s" in r else "-"
        per = f"{r['per_person_ms']:.4f} ms" if "per_person_ms" in r else "-"
        startup_mb = f"{r['startup_mb']:.1f} MB" if "startup_mb" in r else "-"
        print(
            f"{name:<24} {r['startup_s'] * 1000:>8.1f} ms {startup_mb:>13} {claim:>21} "
            f"{per:>11} {r['peak_mb']:>6.0f} MB {r['peak_over_baseline_mb']:>7.0f} MB"
        )
    base = results["PTB JobQueue.run_daily"]
    print()
    for name in ("ours, SQLite", "ours, PostgreSQL"):
        if name not in results:
            continue
        r = results[name]
        print(
            f"{name}: start-up {base['startup_s'] / r['startup_s']:.0f}x faster than one job per "
            f"person; per-person claim+render+enqueue {r['per_person_ms']:.4f} ms (target < 0.1); "
            f"whole fan-out peak over baseline {r['peak_over_baseline_mb']:.0f} MB vs the job "
            f"queue's {base['peak_over_baseline_mb']:.0f} MB for holding the jobs "
            f"({base['peak_over_baseline_mb'] / max(r['peak_over_baseline_mb'], 0.1):.1f}x), "
            f"start-up memory {r['startup_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
