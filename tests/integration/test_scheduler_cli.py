"""`coach reminders due --at …` and `coach reminders status`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.cli import main
from bot.core.messages import Platform
from storage import db
from storage.models import Identity, Person
from tests.integration.scheduler_support import PersonSpec, RecordingSender, add_people, scheduler

PLANNED = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    monkeypatch.setenv("COACH_TICK_SECONDS", "60")

    async def setup() -> None:
        engine = db.create_engine(url)
        await db.upgrade(engine)
        sessions = db.sessionmaker(engine)
        specs = [
            PersonSpec(zone="Europe/Berlin", at="02:30"),  # 28 Mar: in the gap, fires 01:00 UTC
            PersonSpec(zone="Europe/Berlin", at="03:00"),  # 01:00 UTC too (03:00 CEST)
            PersonSpec(zone="Europe/Paris", at="03:00"),  # the same, but on a safety hold
            PersonSpec(zone="Asia/Kolkata", at="06:30"),  # 01:00 UTC every day
            PersonSpec(zone="America/New_York", at="07:00"),  # not due then
        ]
        ids = await add_people(sessions, specs, PLANNED)
        async with sessions() as session, session.begin():
            await session.execute(update(Identity).values(display_name="Ana Secretname"))
            await session.execute(
                update(Person).where(Person.id == ids[2]).values(safety_hold="emergency")
            )
        # One day of reminders, so the status has something to count.
        sender = RecordingSender(Platform.TELEGRAM)
        await scheduler(sessions, {Platform.TELEGRAM: sender}).tick(
            datetime(2027, 3, 21, 2, 0, tzinfo=UTC)
        )
        await engine.dispose()

    asyncio.run(setup())
    return url


def test_due_lists_who_and_why_without_names(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reminders", "due", "--at", "2027-03-28T01:00:30Z"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(lines) == 4, out
    gap = next(line for line in lines if "02:30 does not exist" in line)
    assert "Europe/Berlin" in gap and "2027-03-28 03:00 CEST" in gap and "send" in gap
    assert any("Asia/Kolkata" in line and "06:30 IST" in line for line in lines)
    assert any("Europe/Paris" in line and "paused" in line for line in lines)
    assert "New_York" not in out
    assert "2 to send" not in out and "3 to send, 1 not sent" in out
    assert "Secretname" not in out and "emergency" not in out and "hold" not in out


def test_due_with_a_window_and_a_bad_instant(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reminders", "due", "--at", "2027-03-28T01:30:00Z", "--window", "3600"]) == 0
    assert "3 to send" in capsys.readouterr().out
    assert main(["reminders", "due", "--at", "tomorrow"]) == 2
    assert "not an instant" in capsys.readouterr().out


def test_status_counts_by_state(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reminders", "status"]) == 0
    out = capsys.readouterr().out
    assert "outbox: 3 message(s)" in out
    assert "sent         3" in out and "pending      0" in out and "unreachable  0" in out
