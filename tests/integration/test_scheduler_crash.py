"""Crash safety: a scheduler process killed with SIGKILL at random points of a fan-out, then
restarted, again and again, on SQLite and PostgreSQL. No reminder is lost, and a kill repeats
only messages whose send may have begun (marked `sending` before the send): at most one per send
in flight. Rows the killed process had leased but not begun are taken again without a repeat.
Each kill's figures are printed (`pytest -s`)."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage import db, outbox
from storage.models import OutboxMessage
from tests.integration.scheduler_support import PersonSpec, add_people

WORKER = Path(__file__).with_name("sched_crash_worker.py")
PEOPLE = 400
KILLS = 12
IN_FLIGHT = 4  # the worker's concurrency: sends in flight at a kill
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)
# Each restart comes a little over the send lease (2 min) later, so rows a killed process had
# leased are taken again; all within the 2-hour grace period.
STEP = timedelta(minutes=2, seconds=5)


async def run_worker(url: str, now: datetime, log: Path, run: int, *kill: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        "--url",
        url,
        "--now",
        now.isoformat(),
        "--log",
        str(log),
        "--run",
        str(run),
        "--concurrency",
        str(IN_FLIGHT),
        *kill,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    code = process.returncode
    assert code is not None
    assert code in (0, -signal.SIGKILL), err.decode()[-2000:]
    return code


@dataclass
class Kill:
    run: int
    point: str
    begun: set[str]  # refs whose row was left `sending`: their send may have begun
    duplicated: int = 0  # sends of this run repeated by a later run
    lost: int = 0  # of `begun`, never delivered afterwards


async def test_killed_and_restarted_loses_nothing(database_url: str, tmp_path: Path) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    ids = await add_people(sessions, [PersonSpec() for _ in range(PEOPLE)], PLANNED)
    log = tmp_path / "sent.log"
    chance = random.Random(20270105)
    kills: list[Kill] = []
    now = DUE
    for run in range(KILLS):
        now = DUE + run * STEP
        if run % 2:
            # Right after a delivery, before its outcome is written, other sends in flight.
            point = ["--kill-at-send", str(chance.randint(1, PEOPLE // KILLS))]
        else:
            # After any SQL statement: claiming, enqueueing, leasing, marking a send begun or
            # recording one (the first run dies while claiming: 100 people a batch).
            last = 20 if run == 0 else 80
            point = ["--kill-at-statement", str(chance.randint(1, last))]
        if await run_worker(database_url, now, log, run, *point) == -signal.SIGKILL:
            async with sessions() as session:
                # Marked by this run: its lease runs from `now` (older ones ended before it).
                marked = select(OutboxMessage.ref).where(
                    OutboxMessage.state == outbox.SENDING, OutboxMessage.next_attempt_at > now
                )
                begun = set((await session.scalars(marked)).all())
            kills.append(Kill(run, " ".join(point), begun))
    assert len(kills) >= 10
    # Restarted without a kill, it finishes the fan-out.
    assert await run_worker(database_url, now + STEP, log, KILLS) == 0

    runs_of: dict[str, list[int]] = defaultdict(list)  # ref -> the runs that sent it, in order
    for line in log.read_text().splitlines():
        run_text, ref = line.split()
        runs_of[ref].append(int(run_text))
    lost = {str(person_id) for person_id in ids} - set(runs_of)
    for kill in kills:
        for runs in runs_of.values():
            # A send of this run that a later run repeated is a duplicate caused by this kill.
            kill.duplicated += sum(1 for n in runs[:-1] if n == kill.run)
        kill.lost = sum(1 for ref in kill.begun if max(runs_of[ref], default=-1) < kill.run)
    duplicated = sum(len(runs) - 1 for runs in runs_of.values())
    print(f"\n{database_url.split(':')[0]}: {len(kills)} kills, {IN_FLIGHT} sends in flight")
    for kill in kills:
        print(
            f"  run {kill.run:2} ({kill.point}): left sending {len(kill.begun)}, "
            f"duplicated {kill.duplicated}, lost {kill.lost}"
        )
    print(f"  total: lost {len(lost)}, duplicated {duplicated}")

    assert not lost, "a reminder was lost"
    assert all(kill.lost == 0 for kill in kills)
    for kill in kills:
        # Only a send marked begun is repeated, and no more than were in flight.
        assert kill.duplicated <= len(kill.begun) <= IN_FLIGHT, kill
    assert duplicated == sum(kill.duplicated for kill in kills)  # the last run repeated none
    async with sessions() as session:
        counts = await outbox.counts(session)
    assert counts["sent"] == PEOPLE and counts["pending"] == counts["sending"] == 0
    await engine.dispose()
