"""Running the Telegram bot: the Application with its one handler, the command menu, long
polling or a webhook, and `TelegramAdapter`, the adapter contract for `coach run`.

Pacing, once per path: replies to what a person just did go through the Application's bot and
its `AIORateLimiter` (30 msg/s overall, 20 msg/min per group); pushed messages (reminders, team
posts, digests) go through a second bot without it, because the scheduler already paces them
with `bot.pacing.Pacer`, which also knows Telegram's 1 msg/s per chat, spaces a fan-out evenly
and runs on a fake clock in tests. Pacing pushes in both would wait twice for one budget.
With `COACH_TELEGRAM_PAID_BROADCAST` the pushes go as paid broadcasts (`TelegramSender`); the
replies never do.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler
from telegram.request import HTTPXRequest

from bot.adapters.telegram.api import RetryPolicy, TolerantBot, call
from bot.adapters.telegram.inbound import UpdateHandler, on_error
from bot.adapters.telegram.order import PerPersonOrder
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.toolkit import LibraryLogGuard, require_token
from bot.config import Settings
from bot.core.commands import COMMANDS
from bot.core.content import Library
from bot.core.messages import Platform
from bot.ports import CoachPort

log = logging.getLogger("bot.adapters.telegram")

TelegramApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
TOKEN_VARIABLE = "COACH_TELEGRAM_TOKEN"

# python-telegram-bot logs whole updates and API parameters at DEBUG (and a batch it cannot
# parse at CRITICAL); httpx logs request URLs, which contain the token, at INFO. Numbers
# (update ids, counts, seconds) are kept; any other argument of such a line is replaced.
LOG_GUARD = LibraryLogGuard(
    data_markers=("Received data", "received data", "return value", "parameters", "update"),
    # AIORateLimiter(max_retries=0) passing a 429 on: `call` handles it.
    drop_prefixes=("Rate limit hit after maximum",),
    keep_args=("httpx",),
)
GUARDED_LOGGERS = (
    "httpx",
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "telegram.ext.AIORateLimiter",
)


async def _post_init(app: TelegramApplication) -> None:
    """Publish the command menu; a failure here is cosmetic and does not stop the bot."""
    commands = [BotCommand(c.name, c.description) for c in COMMANDS]
    try:
        await call(lambda: app.bot.set_my_commands(commands), RetryPolicy(), "setMyCommands")
    except TelegramError as exc:
        log.warning("telegram: publishing the command list failed (%s)", type(exc).__name__)


def _file_url(settings: Settings) -> str | None:
    if settings.telegram_file_url:
        return settings.telegram_file_url
    api = settings.telegram_api_url.rstrip("/")
    if api.endswith("/bot"):
        return api[: -len("/bot")] + "/file/bot"
    return None


def _bot(settings: Settings, *, rate_limit: bool, pool: int) -> TolerantBot:
    token = require_token(settings.telegram_token, TOKEN_VARIABLE)
    LOG_GUARD.add_secret(token)
    LOG_GUARD.install(GUARDED_LOGGERS)
    return TolerantBot(
        token,
        base_url=settings.telegram_api_url,
        base_file_url=_file_url(settings) or "https://api.telegram.org/file/bot",
        request=HTTPXRequest(connection_pool_size=pool),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        # max_retries=0: `call` waits out a 429 itself, with a cap; the limiter would wait out
        # any retry_after (an hour included) while holding back every other request.
        rate_limiter=AIORateLimiter(max_retries=0) if rate_limit else None,
    )


def build_application(
    settings: Settings,
    coach: CoachPort,
    *,
    rate_limit: bool = True,
    retry: RetryPolicy | None = None,
    max_concurrent_updates: int = 256,
) -> TelegramApplication:
    """The python-telegram-bot Application with the coach's handler, error handler and limits.

    `rate_limit` keeps replies inside Telegram's limits (30 msg/s overall, 20 msg/min per
    group) with the library's AIORateLimiter; it paces bursts, so a latency bench may switch it
    off.
    """
    bot = _bot(settings, rate_limit=rate_limit, pool=256)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerPersonOrder(max_concurrent_updates))
        .job_queue(None)
        .post_init(_post_init)
    )
    app: TelegramApplication = builder.build()
    app.add_handler(TypeHandler(Update, UpdateHandler(coach, retry or RetryPolicy())))
    app.add_error_handler(on_error)
    return app


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the token (stable across replicas)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    key = require_token(settings.telegram_token, TOKEN_VARIABLE).encode()
    return hmac.new(key, b"mobility-coach webhook", hashlib.sha256).hexdigest()


def _polling_error(exc: TelegramError) -> None:
    log.warning("telegram: polling failed (%s); retrying", type(exc).__name__)


class TelegramAdapter:
    """The adapter contract for Telegram: long polling, or a webhook when its URL is set."""

    platform = Platform.TELEGRAM

    def __init__(
        self,
        settings: Settings,
        coach: CoachPort,
        *,
        application: TelegramApplication | None = None,
        poll_timeout: float = 10.0,
        pushes: TelegramSender | None = None,
    ) -> None:
        self.settings = settings
        self.app = application if application is not None else build_application(settings, coach)
        self.poll_timeout = poll_timeout
        self._push_bot: TolerantBot | None = None
        if pushes is None:
            self._push_bot = _bot(settings, rate_limit=False, pool=64)
            pushes = TelegramSender(self._push_bot, paid_broadcast=settings.telegram_paid_broadcast)
        self.sender = pushes
        self._closed = asyncio.Event()
        self._started = False

    @classmethod
    def from_settings(
        cls, settings: Settings, coach: CoachPort, library: Library
    ) -> TelegramAdapter:
        return cls(settings, coach)

    def healthy(self) -> bool:
        return self.app.running

    async def start(self) -> None:
        app, settings = self.app, self.settings
        await app.initialize()  # getMe
        self._started = True
        try:
            if app.post_init is not None:
                await app.post_init(app)  # run_polling would call it; we drive the app by hand
            await app.start()
            updater = app.updater
            assert updater is not None
            if settings.telegram_webhook_url:
                url = settings.telegram_webhook_url
                await updater.start_webhook(
                    listen=settings.telegram_listen,
                    port=settings.telegram_port,
                    url_path=urlsplit(url).path.lstrip("/"),
                    webhook_url=url,
                    secret_token=webhook_secret(settings),
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("telegram: webhook server listening")
            else:
                await updater.start_polling(
                    timeout=timedelta(seconds=self.poll_timeout),
                    allowed_updates=ALLOWED_UPDATES,
                    error_callback=_polling_error,
                )
                log.info("telegram: long polling started")
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._closed.is_set():
            return
        app = self.app
        try:
            if self._started:
                try:
                    if app.updater is not None and app.updater.running:
                        await app.updater.stop()
                    if app.running:
                        await app.stop()
                    if app.post_stop is not None:
                        await app.post_stop(app)
                finally:
                    await app.shutdown()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
        finally:
            if self._push_bot is not None:
                await self._push_bot.request.shutdown()
            self._closed.set()

    async def stopped(self) -> None:
        """Telegram never stops by itself: polling retries, the webhook server keeps serving."""
        await self._closed.wait()


async def serve_telegram(
    settings: Settings,
    coach: CoachPort,
    stop: asyncio.Event,
    *,
    application: TelegramApplication | None = None,
    poll_timeout: float = 10.0,
    ready: asyncio.Event | None = None,
) -> None:
    """Run the bot until `stop` is set. Pass `application` to serve one built beforehand (e.g.
    to make a `TelegramSender` from it); `ready` is set once updates are being received."""
    app = application if application is not None else build_application(settings, coach)
    adapter = TelegramAdapter(
        settings,
        coach,
        application=app,
        poll_timeout=poll_timeout,
        pushes=TelegramSender.from_application(app),
    )
    await adapter.start()
    try:
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await adapter.stop()
