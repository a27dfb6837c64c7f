"""Shared fixtures: real databases (SQLite file, PostgreSQL) and a coach on them.

PostgreSQL tests are marked `postgres`. Where the server is unreachable they are skipped,
unless COACH_REQUIRE_POSTGRES=1 (set by .ci/run), which turns a skip into a failure.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot import logs
from bot.bootstrap import build_coach
from bot.config import SOURCE_CONTENT, Settings
from bot.logs import QUIET
from bot.service.coach import Coach
from storage import db
from storage.unit_of_work import SqlStorage
from tests.chat import FakeClock

POSTGRES_ADMIN = os.environ.get(
    "COACH_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("COACH_REQUIRE_POSTGRES") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the local PostgreSQL server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgres"
        if on_postgres or "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzz = sys.modules.get("tests.fuzz_support")
    if fuzz is not None and fuzz.CASES:
        cases, refused = fuzz.CASES, fuzz.REFUSED
        terminalreporter.section("fuzz cases")
        for name, count in sorted(cases.items()):
            terminalreporter.write_line(f"{name}: {count} run, {refused.get(name, 0)} refused")
        terminalreporter.write_line(f"total: {sum(cases.values())} run")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if REQUIRE_POSTGRES and report.skipped and "postgres" in report.keywords:
        raise pytest.UsageError(f"PostgreSQL test skipped but required: {report.nodeid}")


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"coach_t_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session", autouse=True)
def pictures_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One picture cache for the whole run (each drawing is made once, not once per test),
    outside the user's own cache: every Settings() of the run reads COACH_PICTURES_DIR."""
    folder = tmp_path_factory.mktemp("pictures")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACH_PICTURES_DIR", str(folder))
        yield folder


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'coach.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using this runs on both databases."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'coach.sqlite3'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@asynccontextmanager
async def migrated_storage(url: str) -> AsyncIterator[SqlStorage]:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    built = SqlStorage(db.sessionmaker(engine))
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[SqlStorage]:
    """The storage on a migrated database, on both databases."""
    async with migrated_storage(database_url) as built:
        yield built


@pytest.fixture
async def postgres_storage(postgres_url: str) -> AsyncIterator[SqlStorage]:
    """The storage on a migrated PostgreSQL database, for what only PostgreSQL does."""
    async with migrated_storage(postgres_url) as built:
        yield built


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def coach(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Coach]:
    """The real coach on a real SQLite file (fast enough for every conversation test)."""
    built = await build_coach(
        Settings(database_url=sqlite_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    yield built
    await built.close()


@pytest.fixture
async def coach_on(database_url: str, clock: FakeClock) -> AsyncIterator[Coach]:
    """The real coach on SQLite and on PostgreSQL."""
    built = await build_coach(
        Settings(database_url=database_url, content_dir=SOURCE_CONTENT), clock=clock
    )
    yield built
    await built.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Puts back the root logger, the libraries' levels and the record factory after a test
    that called `configure_logging`."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logs.uninstall()
    logging.captureWarnings(False)
