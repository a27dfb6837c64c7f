"""/healthz and /metrics served by a real aiohttp server on 127.0.0.1, on real databases."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.http import METRICS, Health, start_http
from storage import db
from tests.conftest import POSTGRES_ADMIN

METRIC_NAMES = (
    "coach_reminders_claimed_total",
    "coach_reminders_sent_total",
    "coach_reminders_failed_total",
    "coach_reminder_send_lag_seconds_bucket",
    "coach_command_latency_seconds",
    "coach_active_people",
)


@asynccontextmanager
async def serving(engine: AsyncEngine, health: Health) -> AsyncIterator[str]:
    runner = await start_http(0, engine, health, host="127.0.0.1")
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def get(url: str, **headers: str) -> tuple[int, str, str, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.get(url, headers=headers) as response,
    ):
        body = await response.text()
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, response.headers["Content-Type"], body, data


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(sqlite_url)
    yield engine
    await engine.dispose()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_healthz_ok_on_a_live_sqlite_database(sqlite_engine: AsyncEngine) -> None:
    health = Health()
    health.add_check("adapters.telegram", lambda: True)

    async def tick_alive() -> bool:
        return True

    health.add_check("scheduler.tick", tick_alive)
    async with serving(sqlite_engine, health) as base:
        status, content_type, _, data = await get(f"{base}/healthz")
    assert status == 200
    assert content_type.startswith("application/json")
    assert data == {
        "status": "ok",
        "database": "ok",
        "adapters": {"telegram": "ok"},
        "scheduler": {"tick": "ok"},
        "failing": [],
    }


async def test_healthz_names_a_failing_check(sqlite_engine: AsyncEngine) -> None:
    never = asyncio.Event()

    async def hangs() -> bool:
        await never.wait()
        return True

    def raises() -> bool:
        raise RuntimeError("adapter gone")

    health = Health(timeout=0.5)
    health.add_check("adapters.telegram", lambda: True)
    health.add_check("adapters.discord", lambda: False)
    health.add_check("scheduler.tick", hangs)
    health.add_check("outbox", raises)
    async with serving(sqlite_engine, health) as base:
        status, _, _, data = await get(f"{base}/healthz")
    assert status == 503
    assert data["status"] == "failing"
    assert data["database"] == "ok"
    assert data["adapters"] == {"telegram": "ok", "discord": "failing"}
    assert data["scheduler"] == {"tick": "failing: timeout"}
    assert data["outbox"] == "failing: RuntimeError"
    assert sorted(data["failing"]) == ["adapters.discord", "outbox", "scheduler.tick"]


async def test_healthz_503_when_sqlite_is_unreachable(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    engine = db.create_engine(f"sqlite+aiosqlite:///{folder / 'coach.sqlite3'}")
    folder.rmdir()  # the database file can no longer be created or opened
    threads = set(threading.enumerate())
    try:
        async with serving(engine, Health()) as base:
            status, _, body, data = await get(f"{base}/healthz")
    finally:
        await engine.dispose()
        # aiosqlite stops a connection that failed to open in its worker thread, which then
        # reports back to this event loop: let it finish while the loop is still open.
        for thread in set(threading.enumerate()) - threads:
            await asyncio.to_thread(thread.join, 10)
    assert status == 503
    assert data["failing"] == ["database"]
    assert data["database"] == "failing: OperationalError"
    assert str(folder) not in body  # no paths, hosts or users in the answer


async def test_healthz_503_when_postgres_does_not_listen() -> None:
    port = closed_port()
    engine = db.create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test")
    try:
        async with serving(engine, Health()) as base:
            status, _, _, data = await get(f"{base}/healthz")
    finally:
        await engine.dispose()
    assert status == 503
    assert data["failing"] == ["database"]
    assert data["database"].startswith("failing: ")


async def test_healthz_follows_a_postgres_database_going_away(postgres_url: str) -> None:
    """200 while the database is there; 503 after it is dropped under the running server."""
    engine = db.create_engine(postgres_url)
    name = postgres_url.rsplit("/", 1)[1]
    try:
        async with serving(engine, Health()) as base:
            status, _, _, data = await get(f"{base}/healthz")
            assert (status, data["database"]) == (200, "ok")
            admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
            try:
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            finally:
                await admin.close()
            status, _, _, data = await get(f"{base}/healthz")
            assert status == 503
            assert data["failing"] == ["database"]
    finally:
        await engine.dispose()


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    value = METRICS.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


async def test_metrics_names_and_a_counter_going_up(sqlite_engine: AsyncEngine) -> None:
    async with serving(sqlite_engine, Health()) as base:
        metrics.COMMAND_LATENCY.labels(command="checkin")  # a labelled series, shown at 0
        status, content_type, before, _ = await get(f"{base}/metrics")
        assert status == 200
        assert content_type.startswith("text/plain")
        for name in METRIC_NAMES:
            assert name in before, name
        assert "# TYPE coach_reminder_send_lag_seconds histogram" in before
        assert "# TYPE coach_active_people gauge" in before

        sent = sample("coach_reminders_sent_total")
        metrics.REMINDERS_SENT.inc()
        metrics.REMINDERS_CLAIMED.inc(2)
        metrics.ACTIVE_PEOPLE.set(41)
        metrics.REMINDER_SEND_LAG.observe(12.5)
        with metrics.command_timer("checkin"):
            pass
        _, _, after, _ = await get(f"{base}/metrics")

    assert sample("coach_reminders_sent_total") == sent + 1
    assert f"coach_reminders_sent_total {sent + 1:.1f}" in after
    assert "coach_active_people 41.0" in after
    assert 'coach_command_latency_seconds_count{command="checkin"}' in after


async def test_metrics_in_openmetrics_when_asked(sqlite_engine: AsyncEngine) -> None:
    async with serving(sqlite_engine, Health()) as base:
        status, content_type, body, _ = await get(
            f"{base}/metrics", Accept="application/openmetrics-text; version=1.0.0"
        )
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


@pytest.mark.parametrize(
    ("text", "action", "label"),
    [
        ("/checkin 3 yes 7", None, "checkin"),
        ("/progress@coach_bot", None, "progress"),
        ("/Start", None, "start"),
        ("/nonsense", None, "other"),
        ("/", None, "other"),
        ("/ ", None, "other"),
        ("pain 7/10", None, "text"),
        (None, "v1:ci:pain:7:1", "button"),
    ],
)
def test_command_labels_stay_bounded(text: str | None, action: str | None, label: str) -> None:
    assert metrics.command_label(text, action) == label


def test_reserved_check_names() -> None:
    health = Health()
    for name in ("", "database", "adapters", "scheduler", "status", "failing"):
        with pytest.raises(ValueError):
            health.add_check(name, lambda: True)
