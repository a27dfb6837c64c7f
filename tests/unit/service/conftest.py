"""The service's unit tests: the real coach on in-memory fakes of the storage port."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.service.coach import Coach
from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import FakeStorage, Tables, bootstrap


@pytest.fixture
def storage() -> FakeStorage:
    return FakeStorage()


@pytest.fixture
def tables(storage: FakeStorage) -> Tables:
    return storage.tables


@pytest.fixture
def coach(storage: FakeStorage, clock: FakeClock, tmp_path: Path) -> Coach:
    return bootstrap(clock, tmp_path / "charts", storage)


@pytest.fixture
def chat(coach: Coach) -> Chat:
    return Chat(coach)
