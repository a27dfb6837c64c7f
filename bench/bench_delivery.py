"""Reminder delivery: 1,000 reminders through the real TelegramSender (python-telegram-bot) to
the loopback Telegram fake (tests/e2e/fake_telegram.py), which here enforces Telegram's limits,
30 messages a second overall and 1 a second per chat, answering 429 (retry_after 1) beyond.

900 people are due at once; 100 of them also have a second message queued (so per-chat pacing
is exercised). The scheduler claims, enqueues and sends; ticks repeat until the outbox is empty.
Printed: the achieved rate as a fraction of 30/s (target ≥ 0.95), 429s received, messages lost
and duplicated (target 0 and 0). Beside it, in the same run, the same fan-out with pacing off.

With PostgreSQL (`--skip-postgres` leaves it out): the same fan-out sent by two replicas (two
schedulers, each with its own engine, ticking at once on one database), first with the send
budget they share (`storage.send_budget`), then, as the baseline, each pacing on its own.

    .venv/bin/python bench/bench_delivery.py [--people 900] [--doubles 100] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from scratch_database import postgres_database  # noqa: E402
from telegram import Bot  # noqa: E402

from bot.adapters.telegram import RetryPolicy, TelegramSender  # noqa: E402
from bot.config import SOURCE_CONTENT, Settings  # noqa: E402
from bot.core.content import load_library  # noqa: E402
from bot.core.messages import Platform  # noqa: E402
from bot.pacing import TELEGRAM, UNLIMITED, Limits, Pacer, SharedPacer  # noqa: E402
from bot.scheduler import ReminderScheduler  # noqa: E402
from storage import db, outbox  # noqa: E402
from storage.send_budget import SharedBudget  # noqa: E402
from tests.e2e.fake_telegram import Call, FakeTelegram, _error  # noqa: E402
from tests.integration.scheduler_support import PersonSpec, add_people  # noqa: E402

PLANNED = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 5, 6, 30, tzinfo=UTC)
OVERALL, PER_CHAT = 30, 1.0


class LimitedTelegram(FakeTelegram):
    """The fake, with Telegram's send limits enforced on sendMessage."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.window: deque[float] = deque()
        self.last_in_chat: dict[int, float] = {}
        self.accepted: list[tuple[float, int, str]] = []
        self.too_many = 0
        self.too_many_in_chat = 0  # of those, refused for the chat's 1 msg/s

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "sendMessage":
            return await super()._dispatch(request)
        params = await self._params(request)
        now = time.monotonic()
        chat = int(params["chat_id"])
        while self.window and now - self.window[0] >= 1.0:
            self.window.popleft()
        in_chat = now - self.last_in_chat.get(chat, -9.0) < PER_CHAT
        if len(self.window) >= OVERALL or in_chat:
            self.too_many += 1
            self.too_many_in_chat += in_chat
            self._record(Call("sendMessage", params, 429))
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self.window.append(now)
        self.last_in_chat[chat] = now
        self.accepted.append((now, chat, str(params.get("text", ""))))
        return await super()._dispatch(request)


async def fill(url: str, people: int, doubles: int) -> None:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    sessions = db.sessionmaker(engine)
    specs = [PersonSpec(user_ref=str(5_000_000 + n)) for n in range(people)]
    ids = await add_people(sessions, specs, PLANNED)
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.outbox_row(
                    target=outbox.person_target(person_id),
                    kind="evening",
                    local_date=date(2027, 1, 5),
                    platform="telegram",
                    ref=str(5_000_000 + n),
                    fire_at=DUE,
                    now=DUE,
                    payload=[{"text": f"Second message {n}", "private": True}],
                    person_id=person_id,
                )
                for n, person_id in enumerate(ids[:doubles])
            ],
        )
    await engine.dispose()


async def run(
    limits: Limits, people: int, doubles: int, *, url: str | None = None, shared: bool = False
) -> dict[str, Any]:
    """One replica on SQLite, or (`url`: PostgreSQL) two replicas ticking at once, sharing
    the send budget or (`shared` False) each pacing on its own."""
    if url is None:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'delivery.sqlite3'}"
        replicas = 1
    else:
        replicas = 2
    await fill(url, people, doubles)
    engines = [db.create_engine(url) for _ in range(replicas)]
    fake = LimitedTelegram()
    async with fake:
        bots = [Bot(fake.token, base_url=fake.base_url) for _ in engines]
        schedulers = []
        for engine, bot in zip(engines, bots, strict=True):
            await bot.initialize()
            sessions = db.sessionmaker(engine)
            sender = TelegramSender(bot, RetryPolicy(attempts=3, max_retry_after=5))
            pacer = (
                SharedPacer(limits, SharedBudget(sessions), Platform.TELEGRAM)
                if shared
                else Pacer(limits)
            )
            schedulers.append(
                ReminderScheduler(
                    sessions,
                    load_library(SOURCE_CONTENT),
                    {Platform.TELEGRAM: sender},
                    Settings(database_url=url, content_dir=SOURCE_CONTENT),
                    lambda: DUE,
                    pacers={Platform.TELEGRAM: pacer},
                    delivery_budget=None,
                )
            )
        started = time.monotonic()
        now = DUE + timedelta(seconds=5)
        ticks = 0
        while True:
            # Claims first, then every replica sends: replicas mid-way through a big fan-out
            # (a tick's claim would otherwise hold the rows until one replica has them all).
            await asyncio.gather(*(reminders.claim(now) for reminders in schedulers))
            await asyncio.gather(*(reminders.deliver(now) for reminders in schedulers))
            ticks += 1
            async with db.sessionmaker(engines[0])() as session:
                counts = await outbox.counts(session)
            if counts["pending"] == 0 or ticks >= 20:
                break
            now += timedelta(minutes=1)  # retries wait out their back-off in simulated time
        wall = time.monotonic() - started
        for bot in bots:
            await bot.shutdown()
    for engine in engines:
        await engine.dispose()

    accepted = fake.accepted
    times = sorted(at for at, _, _ in accepted)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else float("inf")
    per_message = Counter((chat, text) for _, chat, text in accepted)
    expected = people + doubles
    return {
        "expected": expected,
        "delivered": len(per_message),
        "lost": expected - len(per_message),
        "duplicated": sum(n - 1 for n in per_message.values()),
        "rate": rate,
        "fraction": rate / OVERALL,
        "too_many": fake.too_many,
        "too_many_in_chat": fake.too_many_in_chat,
        "wall": wall,
        "ticks": ticks,
        "states": counts,
        "max_in_a_second": max_in_window(times, 1.0),
    }


async def on_postgres(people: int, doubles: int, *, shared: bool) -> dict[str, Any]:
    async with postgres_database() as url:
        return await run(TELEGRAM, people, doubles, url=url, shared=shared)


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<26} delivered {r['delivered']}/{r['expected']}  lost {r['lost']}  "
        f"duplicated {r['duplicated']}  429s {r['too_many']} ({r['too_many_in_chat']} per chat)  "
        f"rate {r['rate']:.2f}/s = {r['fraction']:.3f} of 30/s  "
        f"busiest second {r['max_in_a_second']}  wall {r['wall']:.1f} s  ticks {r['ticks']}"
    )
    print(f"{'':<26} outbox: {r['states']}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=900)
    parser.add_argument("--doubles", type=int, default=100)
    parser.add_argument("--skip-unpaced", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"Delivery: {args.people + args.doubles} reminders ({args.doubles} chats get two) "
        "to a fake enforcing 30 msg/s overall and 1 msg/s per chat"
    )
    show("paced (bot.pacing)", await run(TELEGRAM, args.people, args.doubles))
    if not args.skip_unpaced:
        show("unpaced (baseline)", await run(UNLIMITED, args.people, args.doubles))
    if not args.skip_postgres:
        people, doubles = args.people, args.doubles
        show("2 replicas, shared budget", await on_postgres(people, doubles, shared=True))
        show("2 replicas, each its own", await on_postgres(people, doubles, shared=False))


if __name__ == "__main__":
    asyncio.run(main())
