"""A /routine plus a full check-in by buttons through the service on SQLite.

Prints p50/p99 per round (6 messages) and per message, beside a baseline measured in the same
run: one bare SQLAlchemy transaction (read a row, update it, commit) on the same database, the
floor that any message touching the database pays.

    .venv/bin/python bench/bench_service.py [--rounds 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402

from bot.bootstrap import build_coach  # noqa: E402
from bot.config import SOURCE_CONTENT, Settings  # noqa: E402
from storage.models import Person  # noqa: E402
from tests.chat import Chat  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def show(name: str, values: list[float]) -> None:
    print(
        f"{name:<36} n={len(values):<6} p50={percentile(values, 0.5) * 1000:7.3f} ms  "
        f"p99={percentile(values, 0.99) * 1000:7.3f} ms  "
        f"mean={statistics.mean(values) * 1000:7.3f} ms"
    )


async def main(rounds: int) -> None:
    folder = Path(tempfile.mkdtemp())
    now = [datetime(2027, 1, 4, 8, tzinfo=UTC)]
    coach = await build_coach(
        Settings(
            database_url=f"sqlite+aiosqlite:///{folder / 'b.sqlite3'}", content_dir=SOURCE_CONTENT
        ),
        clock=lambda: now[0],
    )
    chat = Chat(coach, user="bench")
    await chat.onboard(pain=2)
    per_round: list[float] = []
    per_message: list[float] = []
    steps = [
        ("say", "/routine"),
        ("press", "Done - check in"),
        ("press", "2"),
        ("press", "No"),
        ("press", "Yes"),
        ("press", "7"),
    ]
    for i in range(rounds + 50):
        # All rounds fall on one local day, so no next-morning question interrupts them.
        now[0] += timedelta(milliseconds=10)
        start = time.perf_counter()
        for kind, value in steps:
            t0 = time.perf_counter()
            await (chat.say(value) if kind == "say" else chat.press(value))
            if i >= 50:
                per_message.append(time.perf_counter() - t0)
        if i >= 50:  # warm-up rounds are not counted
            per_round.append(time.perf_counter() - start)
        assert "Logged" in chat.text, chat.text

    quick: list[float] = []
    for i in range(rounds + 50):
        now[0] += timedelta(milliseconds=10)
        start = time.perf_counter()
        await chat.say("/routine")
        # Alternate answers: the same answers again within 2 minutes count once.
        await chat.say(f"/checkin {3 - i % 2} yes 7")
        if i >= 50:
            quick.append(time.perf_counter() - start)
        assert "Logged" in chat.text, chat.text

    baseline: list[float] = []
    for i in range(rounds * 6 + 50):
        t0 = time.perf_counter()
        async with coach.sessions() as session, session.begin():
            person = (await session.scalars(select(Person).limit(1))).one()
            person.lighter_dose = not person.lighter_dose
        if i >= 50:
            baseline.append(time.perf_counter() - t0)
    # The same transaction through stock aiosqlite (a worker thread per connection), the
    # driver the coach used before storage.sqlite_inline.
    stock = create_async_engine(f"sqlite+aiosqlite:///{folder / 'b.sqlite3'}")
    stock_baseline: list[float] = []
    for i in range(rounds * 6 + 50):
        t0 = time.perf_counter()
        async with AsyncSession(stock) as session, session.begin():
            person = (await session.scalars(select(Person).limit(1))).one()
            person.lighter_dose = not person.lighter_dose
        if i >= 50:
            stock_baseline.append(time.perf_counter() - t0)
    await stock.dispose()
    await coach.close()

    print(f"SQLite file, {rounds} rounds of /routine + Done + 4 answers")
    show("round (6 messages)", per_round)
    show("one message", per_message)
    show("round: /routine + /checkin 2 yes 7", quick)
    show("baseline: bare transaction", baseline)
    show("bare transaction, stock aiosqlite", stock_baseline)
    ratio = percentile(per_message, 0.99) / percentile(baseline, 0.99)
    print(f"message p99 / bare transaction p99 = {ratio:.2f}")
    ratio = percentile(per_message, 0.99) / percentile(stock_baseline, 0.99)
    print(f"message p99 / stock aiosqlite bare transaction p99 = {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    asyncio.run(main(parser.parse_args().rounds))
