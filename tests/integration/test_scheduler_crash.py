"""Crash safety: a scheduler process killed with SIGKILL at random points of a fan-out, then
restarted, again and again. No reminder is lost, and each kill repeats at most one message
(the one in flight: sent, but killed before its outcome was written)."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import db, outbox
from tests.integration.scheduler_support import PersonSpec, add_people

WORKER = Path(__file__).with_name("sched_crash_worker.py")
PEOPLE = 400
KILLS = 12
PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)
# Each restart comes a little over the send lease (2 min) later, so rows a killed process had
# leased are taken again; all within the 2-hour grace period.
STEP = timedelta(minutes=2, seconds=5)


async def run_worker(url: str, now: datetime, log: Path, *kill: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        "--url",
        url,
        "--now",
        now.isoformat(),
        "--log",
        str(log),
        *kill,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    code = process.returncode
    assert code is not None
    assert code in (0, -signal.SIGKILL), err.decode()[-2000:]
    return code


async def test_killed_and_restarted_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    engine = db.create_engine(url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    ids = await add_people(sessions, [PersonSpec() for _ in range(PEOPLE)], PLANNED)
    log = tmp_path / "sent.log"
    chance = random.Random(20270105)
    kills = 0
    now = DUE
    for attempt in range(KILLS):
        now = DUE + attempt * STEP
        if attempt % 2:
            # Right after a delivery, before its outcome is written.
            point = ["--kill-at-send", str(chance.randint(1, PEOPLE // KILLS))]
        else:
            # After any SQL statement: claiming, enqueueing, leasing or recording (the first
            # run dies while claiming: 100 people a batch, about 6 statements each).
            last = 20 if attempt == 0 else 60
            point = ["--kill-at-statement", str(chance.randint(1, last))]
        code = await run_worker(url, now, log, *point)
        kills += code == -signal.SIGKILL
    assert kills >= 10
    # Restarted without a kill, it finishes the fan-out.
    assert await run_worker(url, now + STEP, log) == 0
    sent = Counter(log.read_text().split())
    assert set(sent) == {str(person_id) for person_id in ids}, "a reminder was lost"
    duplicates = sum(count - 1 for count in sent.values())
    assert duplicates <= kills
    async with sessions() as session:
        counts = await outbox.counts(session)
    assert counts["sent"] == PEOPLE and counts["pending"] == 0
    await engine.dispose()
