"""A database connection lost mid-message (`StoreConnectionLost`): the coach handles the message
once more, and only once."""

from __future__ import annotations

from types import TracebackType

import pytest

from bot.storage_port import StoreConnectionLost
from tests.chat import Chat
from tests.unit.service.fakes import FakeStorage, FakeUnitOfWork


class LosingUnitOfWork(FakeUnitOfWork):
    """Ends like a unit of work whose connection broke before the commit."""

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.committed = False
        raise StoreConnectionLost


class LosingStorage(FakeStorage):
    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses

    def __call__(self) -> FakeUnitOfWork:
        if self.losses == 0:
            return super().__call__()
        self.losses -= 1
        unit = LosingUnitOfWork(self.tables)
        self.units.append(unit)
        return unit


@pytest.fixture
def storage() -> FakeStorage:
    return LosingStorage(losses=0)


async def test_one_lost_connection_is_handled_again(chat: Chat, storage: LosingStorage) -> None:
    await chat.onboard()
    storage.units.clear()
    storage.losses = 1
    await chat.say("/routine")
    assert [unit.committed for unit in storage.units] == [False, True]
    assert "Phase 1 of 3" in chat.text  # the routine, answered once


async def test_a_second_loss_in_a_row_is_an_outage(chat: Chat, storage: LosingStorage) -> None:
    await chat.onboard()
    storage.units.clear()
    storage.losses = 2
    with pytest.raises(StoreConnectionLost):
        await chat.say("/routine")
    assert len(storage.units) == 2  # tried twice, not forever
