"""Telegram adapter latency: update injected → sendMessage seen at the fake.

Three bots poll the same loopback fake (tests/e2e/fake_telegram.py) in one process, each with
its own token and so its own update queue:

- bare:  a plain python-telegram-bot Application whose MessageHandler echoes the text with
         `bot.send_message` (the library's floor for the same path);
- stub:  our adapter (`build_application`) with a stub coach returning one fixed reply,
         i.e. the adapter's own overhead;
- ours:  our adapter with the real coach on a fresh SQLite file, "/routine" for an onboarded
         person (database read, routine rendering, inline keyboard).

Commands go one at a time, alternating bare, stub, ours, ..., so all three see the same machine
state. The time is taken by the fake when it receives the sendMessage. None of the three uses
the rate limiter (it paces bursts to 30 msg/s and would measure the pacing, not the code);
a last, shorter run shows ours with it on, for reference.

    .venv/bin/python bench/bench_telegram.py [-n 1000] [--warmup 100] [--limited 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.adapters.telegram import build_application, serve_telegram  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.messages import Incoming, Platform, Reply  # noqa: E402
from tests.e2e.fake_telegram import FakeTelegram  # noqa: E402

BARE, STUB, OURS, LIMITED = "1:BARE", "2:STUB", "3:OURS", "4:LIMITED"
PERSON = 424_242


class StubCoach:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        return [Reply("Here is what I can do: /routine, /checkin, /remind.")]

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


async def onboarded_coach(settings: Settings) -> Any:
    """The real coach, with PERSON through onboarding (so /routine is the real routine)."""
    from bot.bootstrap import build_coach

    coach = await build_coach(settings)

    async def say(text: str | None = None, action: str | None = None) -> list[Reply]:
        incoming = Incoming(
            Platform.TELEGRAM, str(PERSON), str(PERSON), True, "Bench", text=text, action=action
        )
        return list(await coach.handle(incoming))

    replies = await say("/start")
    for pick in (0, 0, 3, 5):  # no red flags (x2), pain 3, comfort 5
        replies = await say(action=replies[-1].all_buttons()[pick].action)
    replies = await say("Skip")  # no activities of their own
    replies = await say("Berlin")
    replies = await say(action=replies[-1].all_buttons()[-1].action)  # no reminders
    assert "all set" in replies[-1].text, replies[-1].text
    return coach


def settings_for(fake: FakeTelegram, token: str, database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        telegram_token=SecretStr(token),
        telegram_api_url=fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings, coach: Any, *, rate_limit: bool) -> AsyncIterator[None]:
    app = build_application(settings, coach, rate_limit=rate_limit)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        serve_telegram(settings, coach, stop, application=app, poll_timeout=10, ready=ready)
    )
    await ready.wait()
    try:
        yield
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def bare_echo(fake: FakeTelegram) -> AsyncIterator[None]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(BARE)
        .base_url(fake.base_url)
        .base_file_url(fake.file_url)
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def one(fake: FakeTelegram, token: str, text: str) -> float:
    """Inject one command for `token`'s bot; seconds until its sendMessage reached the fake."""
    mark = fake.mark()
    update = fake.message(PERSON, text)
    started = time.perf_counter()  # the fake stamps calls with the same clock
    fake.inject_update(update, token=token)
    call = await fake.wait_for(
        "sendMessage", lambda p: int(p["chat_id"]) == PERSON, since=mark, timeout=30
    )
    assert call.token == token, (call.token, token)
    del fake.calls[mark:]  # keep the call log short: a long log slows wait_for's scan
    return call.at - started


def summary(name: str, samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(
        f"  {name:<38} n={len(samples):>5}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        f"  max {max(samples) * 1000:7.2f} ms"
    )
    return p50, p99


async def main(n: int, warmup: int, limited: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as fake:
            for token in (BARE, STUB, OURS, LIMITED):
                fake.add_bot(token)

            ours_settings = settings_for(fake, OURS, Path(folder) / "bench.sqlite3")
            stub_settings = settings_for(fake, STUB, Path(folder) / "unused.sqlite3")
            coach = await onboarded_coach(ours_settings)
            try:
                times: dict[str, list[float]] = {BARE: [], STUB: [], OURS: []}
                commands = {BARE: "/routine", STUB: "/routine", OURS: "/routine"}
                async with (
                    bare_echo(fake),
                    serving(stub_settings, StubCoach(), rate_limit=False),
                    serving(ours_settings, coach, rate_limit=False),
                ):
                    for i in range(warmup + n):
                        for token in (BARE, STUB, OURS):
                            elapsed = await one(fake, token, commands[token])
                            if i >= warmup:
                                times[token].append(elapsed)

                limited_times: list[float] = []
                if limited:
                    limited_settings = ours_settings.model_copy(
                        update={"telegram_token": SecretStr(LIMITED)}
                    )
                    async with serving(limited_settings, coach, rate_limit=True):
                        for _ in range(limited):
                            limited_times.append(await one(fake, LIMITED, "/routine"))
            finally:
                await coach.close()

    print("Telegram: update in -> sendMessage seen at the fake (loopback, one process)")
    _, bare_p99 = summary("bare PTB echo handler", times[BARE])
    _, stub_p99 = summary("adapter + stub coach", times[STUB])
    _, ours_p99 = summary("adapter + real coach (/routine)", times[OURS])
    if limited_times:
        summary("adapter + real coach, rate limiter on", limited_times)
    print(f"  p99 ratio adapter+real coach / bare: {ours_p99 / bare_p99:5.2f}x")
    print(f"  p99 ratio adapter+stub coach / bare: {stub_p99 / bare_p99:5.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="measured commands per bot")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--limited", type=int, default=200, help="commands with the limiter on")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.warmup, args.limited))
