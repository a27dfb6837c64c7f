"""Telegram adapter: python-telegram-bot updates in, `Reply` out.

Thin on purpose: every decision about coaching lives behind `CoachPort`. One module per job:
`api` (Bot API calls and retries), `render` (a Reply as messages), `inbound` (an Update as
`Incoming`), `turn` (answering one update, privacy in groups), `order` (one person's updates in
order), `sender` (pushed messages), `runtime` (the Application, polling or webhook, the
adapter contract).
"""

from bot.adapters.telegram.api import RetryPolicy
from bot.adapters.telegram.runtime import (
    TelegramAdapter,
    TelegramApplication,
    build_application,
    serve_telegram,
    webhook_secret,
)
from bot.adapters.telegram.sender import TelegramSender

__all__ = [
    "RetryPolicy",
    "TelegramAdapter",
    "TelegramApplication",
    "TelegramSender",
    "build_application",
    "serve_telegram",
    "webhook_secret",
]
