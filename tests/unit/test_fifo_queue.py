"""`storage.fifo_pool.FifoQueue` under random schedules of checkouts, returns and
cancellations (hypothesis): nothing handed out is lost, every checkout still waiting is served,
and those that had to wait are served in the order they asked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.util import greenlet_spawn

from storage.fifo_pool import FifoQueue


@dataclass
class Checkout:
    """One message's checkout: it takes an item, holds it until released, puts it back."""

    number: int
    release: asyncio.Event = field(default_factory=asyncio.Event)
    waited: bool = False
    task: asyncio.Task[None] | None = None


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def run(size: int, steps: list[tuple[str, int]]) -> None:
    queue: FifoQueue[str] = FifoQueue(size)
    for index in range(size):
        queue.put_nowait(f"connection {index}")
    checkouts: list[Checkout] = []
    served: list[int] = []
    holding: dict[int, str] = {}

    async def take(checkout: Checkout) -> None:
        checkout.waited = queue.empty() or bool(queue._waiters)
        item = await greenlet_spawn(queue.get, True, None)
        served.append(checkout.number)
        holding[checkout.number] = item
        try:
            await checkout.release.wait()
        finally:
            del holding[checkout.number]
            queue.put(item, False)

    for action, pick in steps:
        if action == "ask":
            checkout = Checkout(len(checkouts))
            checkout.task = asyncio.create_task(take(checkout))
            checkouts.append(checkout)
        elif checkouts:
            checkout = checkouts[pick % len(checkouts)]
            if action == "release":
                checkout.release.set()
            elif action == "cancel":
                assert checkout.task is not None
                checkout.task.cancel()
            else:  # a return, then a waiter cancelled before it runs (it may hold it already)
                checkout.release.set()
                await asyncio.sleep(0)  # the holder puts its item back
                later = checkouts[(pick + 1) % len(checkouts)]
                assert later.task is not None
                later.task.cancel()
        await settle()

    for checkout in checkouts:
        checkout.release.set()
    for _ in range(len(checkouts) + 1):  # each handover takes a few turns of the loop
        await settle()
    # A lost item would leave a checkout waiting for ever.
    stuck = [c.task for c in checkouts if c.task is not None and not c.task.done()]
    for task in stuck:
        task.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
    assert not stuck, f"{len(stuck)} checkouts never served"

    cancelled = {c.number for c in checkouts if c.task is not None and c.task.cancelled()}
    # Served: everyone not cancelled before their turn came.
    assert set(served) | cancelled == {c.number for c in checkouts}
    waiting_order = [n for n in served if checkouts[n].waited]
    assert waiting_order == sorted(waiting_order)
    # Nothing lost: every item is back, idle, and nobody is left waiting.
    assert not holding
    assert queue.qsize() == size and not queue._waiters
    assert sorted(queue.get_nowait() for _ in range(size)) == [
        f"connection {index}" for index in range(size)
    ]


ACTIONS = ["ask", "ask", "release", "cancel", "release, cancel"]


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 3),
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 20)),
        max_size=30,
    ),
)
def test_nothing_is_lost_and_waiters_go_in_order(size: int, steps: list[tuple[str, int]]) -> None:
    asyncio.run(run(size, steps))
