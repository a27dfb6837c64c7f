"""Telegram adapter latency: update injected → sendMessage seen at the fake.

Four bots poll the same loopback fake (tests/e2e/fake_telegram.py) in one process, each with
its own token and so its own update queue:

- bare:  a plain python-telegram-bot Application whose MessageHandler echoes the text with
         one `bot.send_message` (the library's floor for one call);
- same:  a plain python-telegram-bot Application whose handler makes exactly the Bot API
         calls our adapter makes for "/routine", in the same order and with the same
         parameters: the routine's album (`send_media_group`, the pictures by their cached
         file ids) and then the routine text with its inline keyboard (`send_message`). The
         calls are read from the fake's log of one warmed-up "/routine" of ours, the
         library's objects (InputMediaPhoto, InlineKeyboardMarkup) are built from them once,
         and the bench checks that the fake records the same calls from this bot as from
         ours. Ours answers "/routine" with two HTTP calls where the echo makes one: this is
         the library's floor for the same output, the baseline our ratio is to be read
         against (the ratio to the echo also counts the album's extra round trip);
- stub:  our adapter (`build_application`) with a stub coach returning one fixed reply,
         i.e. the adapter's own overhead;
- ours:  our adapter with the real coach on a fresh SQLite file, "/routine" for an onboarded
         person (database read, routine rendering, album, inline keyboard).

Commands go one at a time, alternating bare, same, stub, ours, ..., so all four see the same
machine state. The time is taken by the fake when it receives the sendMessage (for same and
ours, the second call, after the album). None of the four uses the rate limiter (it paces
bursts to 30 msg/s and would measure the pacing, not the code); a last, shorter run shows
ours with it on, for reference.

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
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto, Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.adapters.telegram import build_application, serve_telegram  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.messages import Incoming, Platform, Reply  # noqa: E402
from tests.e2e.fake_telegram import Call, FakeTelegram  # noqa: E402

BARE, STUB, OURS, LIMITED, SAME = "1:BARE", "2:STUB", "3:OURS", "4:LIMITED", "5:SAME"
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


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@contextlib.asynccontextmanager
async def bare_bot(fake: FakeTelegram, token: str, handler: Handler) -> AsyncIterator[None]:
    """A plain python-telegram-bot Application polling the fake, `handler` on every text."""
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(fake.base_url)
        .base_file_url(fake.file_url)
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, handler))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


def bare_echo(fake: FakeTelegram) -> contextlib.AbstractAsyncContextManager[None]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    return bare_bot(fake, BARE, echo)


Step = Callable[[Bot, int], Awaitable[object]]


def replay_step(call: Call) -> Step:
    """One recorded Bot API call of ours as the library's own method, its objects built once.

    Only the parameters ours sends are known here: a new one fails loudly, so the same-calls
    bot never quietly drifts from what ours sends."""
    params = {key: value for key, value in call.params.items() if key != "chat_id"}
    if call.method == "sendMediaGroup":
        items = params.pop("media")
        media = []
        for item in items:
            assert item.get("type") == "photo", item
            assert not str(item["media"]).startswith("attach://"), "album not warmed up"
            extra = set(item) - {"type", "media", "caption", "parse_mode"}
            assert not extra, f"replay more media fields: {extra}"
            media.append(
                InputMediaPhoto(
                    item["media"], caption=item.get("caption"), parse_mode=item.get("parse_mode")
                )
            )
        assert not params, f"replay more sendMediaGroup parameters: {set(params)}"
        return lambda bot, chat: bot.send_media_group(chat, media)
    if call.method == "sendMessage":
        text = params.pop("text")
        mode = params.pop("parse_mode", None)
        markup = params.pop("reply_markup", None)
        keyboard = InlineKeyboardMarkup.de_json(markup) if markup is not None else None
        assert not params, f"replay more sendMessage parameters: {set(params)}"
        return lambda bot, chat: bot.send_message(
            chat, text, parse_mode=mode, reply_markup=keyboard
        )
    if call.method == "sendChatAction":
        action = params.pop("action")
        assert not params, f"replay more sendChatAction parameters: {set(params)}"
        return lambda bot, chat: bot.send_chat_action(chat, action)
    raise NotImplementedError(f"replay {call.method} in the same-calls bot")


def bare_same_calls(
    fake: FakeTelegram, script: list[Step]
) -> contextlib.AbstractAsyncContextManager[None]:
    """A plain PTB bot making `script`'s calls, one after the other, for every command (the
    script is filled in once ours has answered a warmed-up "/routine")."""

    async def same(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        for step in script:
            await step(context.bot, update.effective_chat.id)

    return bare_bot(fake, SAME, same)


async def calls_for(fake: FakeTelegram, token: str, text: str) -> list[Call]:
    """The Bot API calls `token`'s bot makes for one command (all of them, getUpdates aside:
    up to its sendMessage and a quiet moment after it, for any call that follows)."""
    mark = fake.mark()
    fake.inject_update(fake.message(PERSON, text), token=token)
    await fake.wait_for(
        "sendMessage", lambda p: int(p["chat_id"]) == PERSON, since=mark, timeout=30
    )
    await asyncio.sleep(0.5)
    calls = [c for c in fake.calls[mark:] if c.token == token and c.method != "getUpdates"]
    del fake.calls[mark:]
    return calls


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
            for token in (BARE, SAME, STUB, OURS, LIMITED):
                fake.add_bot(token)

            ours_settings = settings_for(fake, OURS, Path(folder) / "bench.sqlite3")
            stub_settings = settings_for(fake, STUB, Path(folder) / "unused.sqlite3")
            coach = await onboarded_coach(ours_settings)
            try:
                order = (BARE, SAME, STUB, OURS)
                times: dict[str, list[float]] = {token: [] for token in order}
                script: list[Step] = []
                async with (
                    bare_echo(fake),
                    bare_same_calls(fake, script),
                    serving(stub_settings, StubCoach(), rate_limit=False),
                    serving(ours_settings, coach, rate_limit=False),
                ):
                    # The first "/routine" uploads the album; the next ones send file ids.
                    ours_calls: list[Call] = []
                    for _ in range(3):
                        ours_calls = await calls_for(fake, OURS, "/routine")
                    script.extend(replay_step(call) for call in ours_calls)
                    same_calls = await calls_for(fake, SAME, "/routine")
                    assert [(c.method, c.status, c.params) for c in same_calls] == [
                        (c.method, c.status, c.params) for c in ours_calls
                    ], "the same-calls bot does not make ours' calls"
                    for i in range(warmup + n):
                        for token in order:
                            elapsed = await one(fake, token, "/routine")
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
    print("  same calls: " + ", ".join(describe(call) for call in ours_calls))
    _, bare_p99 = summary("bare PTB echo handler (1 call)", times[BARE])
    _, same_p99 = summary(f"bare PTB, same calls ({len(ours_calls)})", times[SAME])
    _, stub_p99 = summary("adapter + stub coach", times[STUB])
    _, ours_p99 = summary("adapter + real coach (/routine)", times[OURS])
    if limited_times:
        summary("adapter + real coach, rate limiter on", limited_times)
    print(f"  p99 ratio adapter+real coach / bare same calls: {ours_p99 / same_p99:5.2f}x")
    print(f"  p99 ratio adapter+real coach / bare echo:       {ours_p99 / bare_p99:5.2f}x")
    print(f"  p99 ratio adapter+stub coach / bare echo:       {stub_p99 / bare_p99:5.2f}x")


def describe(call: Call) -> str:
    if call.method == "sendMediaGroup":
        return f"sendMediaGroup ({len(call.params['media'])} file ids)"
    if call.method == "sendMessage":
        buttons = len(call.buttons)
        return f"sendMessage ({len(call.text)} chars, {buttons} button{'s' * (buttons != 1)})"
    return call.method


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="measured commands per bot")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--limited", type=int, default=200, help="commands with the limiter on")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.warmup, args.limited))
