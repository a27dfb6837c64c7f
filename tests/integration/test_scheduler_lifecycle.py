"""The APScheduler wiring: one interval job per process, a first tick at start (so a restart
resumes the outbox at once), a failing tick that does not stop the job, a clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from bot import heap
from bot.cli import run_main
from bot.config import SOURCE_CONTENT, Settings
from bot.core.messages import Platform, Reply
from bot.ports import Delivery
from storage import db
from storage.models import Person
from tests.e2e.fake_telegram import FakeTelegram
from tests.integration.scheduler_support import PersonSpec, add_people, scheduler

PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    """`coach run` freezes the heap and spaces young collections (`bot.heap`): undone after
    each test, so the rest of the suite runs with Python's defaults."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


DUE = datetime(2027, 1, 5, 6, 31, tzinfo=UTC)


class SignallingSender:
    platform = Platform.TELEGRAM

    def __init__(self, expected: int = 1) -> None:
        self.sent = asyncio.Event()
        self.refs: list[str] = []
        self.expected = expected

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        self.refs.append(user_ref)
        if len(self.refs) >= self.expected:
            self.sent.set()
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        return Delivery.FAILED


async def test_start_ticks_at_once_and_shutdown_is_clean(sqlite_url: str) -> None:
    engine = db.create_engine(sqlite_url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    ids = await add_people(sessions, [PersonSpec(), PersonSpec()], PLANNED)
    sender = SignallingSender(expected=2)
    reminders = scheduler(sessions, {Platform.TELEGRAM: sender}, clock=lambda: DUE)
    reminders.start()
    try:
        jobs = reminders._scheduler.get_jobs()
        assert len(jobs) == 1 and jobs[0].id == "reminders-tick"  # one job, not one per person
        await asyncio.wait_for(sender.sent.wait(), 10)
    finally:
        await reminders.shutdown()
    assert sorted(sender.refs) == sorted(str(i) for i in ids)
    await engine.dispose()


async def test_a_failing_tick_is_logged_and_the_job_lives_on(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = db.create_engine(sqlite_url)  # not migrated: every query fails
    reminders = scheduler(db.sessionmaker(engine), {Platform.TELEGRAM: SignallingSender()})
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        await reminders._job()
    assert "tick failed" in caplog.text
    await engine.dispose()


async def database_with_one_due_reminder(path: Path, user_ref: str) -> tuple[str, int]:
    """An SQLite file with one Telegram user whose reminder fell due five seconds ago."""
    url = f"sqlite+aiosqlite:///{path}"
    engine = db.create_engine(url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    now = datetime.now(UTC)
    [person_id] = await add_people(sessions, [PersonSpec(user_ref=user_ref)], now)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(next_fire_utc=now - timedelta(seconds=5))
        )
    await engine.dispose()
    return url, person_id


async def test_run_main_sends_due_reminders_through_telegram(tmp_path: Path) -> None:
    """`coach run` wires the scheduler to the real TelegramSender: a due reminder reaches the
    loopback Telegram fake as a sendMessage with its buttons; the garbage collector is settled
    for a long run (`bot.heap`) by then."""
    url, person_id = await database_with_one_due_reminder(tmp_path / "run.sqlite3", "777001")
    async with FakeTelegram() as fake:
        settings = Settings(
            database_url=url,
            content_dir=SOURCE_CONTENT,
            telegram_token=SecretStr(fake.token),
            telegram_api_url=fake.base_url,
        )
        task = asyncio.create_task(run_main(settings))
        try:
            call = await fake.wait_for("sendMessage", lambda p: p.get("chat_id") == "777001")
            # Settled once started (before the first tick): what start-up built is frozen.
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert "routine: Floor work" in call.text
    assert [b["text"] for b in call.buttons] == ["Start", "Later", "Skip today"]
    assert call.callback_data[0] == f"v1:rm:start:1:{person_id}"


async def test_run_main_serves_health_and_metrics(tmp_path: Path) -> None:
    """`coach run` with COACH_HTTP_PORT: /healthz names the adapter and the ticking scheduler,
    and /metrics counts the reminder it sent."""
    import socket

    import aiohttp

    from bot.metrics import REMINDERS_SENT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url, _ = await database_with_one_due_reminder(tmp_path / "http.sqlite3", "777002")
    sent_before = REMINDERS_SENT._value.get()
    async with FakeTelegram() as fake:
        settings = Settings(
            database_url=url,
            content_dir=SOURCE_CONTENT,
            telegram_token=SecretStr(fake.token),
            telegram_api_url=fake.base_url,
            http_port=port,
        )
        task = asyncio.create_task(run_main(settings))
        try:
            await fake.wait_for("sendMessage", lambda p: p.get("chat_id") == "777002")
            async with aiohttp.ClientSession() as http:
                for _ in range(200):  # the tick records its result just after sending
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        status, body = response.status, await response.json()
                    if status == 200:
                        break
                    await asyncio.sleep(0.05)
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    metrics_text = await response.text()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert status == 200, body
    assert body["database"] == "ok"
    assert REMINDERS_SENT._value.get() == sent_before + 1
    assert "coach_reminders_sent_total" in metrics_text
    assert "coach_command_latency_seconds" in metrics_text
