"""`Sender` for reminders, team posts and digests: messages nobody asked for just now."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.adapters.telegram.api import RetryPolicy, is_transient
from bot.adapters.telegram.render import send_reply_following
from bot.adapters.toolkit import numeric_ref, public_only, push
from bot.core.messages import Platform, Reply
from bot.ports import Delivery

log = logging.getLogger("bot.adapters.telegram")


def delivery_for(exc: Exception) -> Delivery | None:
    """What a Bot API error means for a pushed message (None: not a Bot API error)."""
    if isinstance(exc, Forbidden):
        return Delivery.UNREACHABLE
    if isinstance(exc, TelegramError):
        log.warning("telegram: pushed message not delivered (%s)", type(exc).__name__)
        return Delivery.RETRY if is_transient(exc) else Delivery.FAILED
    return None


class TelegramSender:
    """Pushes through `bot`; pacing is the scheduler's `bot.pacing.Pacer` (see `runtime`).

    `paid_broadcast`: every push is sent with `allow_paid_broadcast` (Telegram then takes up to
    1000 messages a second and charges the bot's Stars); the scheduler reads this flag to pace
    to the paid limit (`bot.pacing.limits_for`)."""

    platform = Platform.TELEGRAM

    def __init__(
        self, bot: Bot, policy: RetryPolicy | None = None, *, paid_broadcast: bool = False
    ) -> None:
        self.bot = bot
        # A reminder may come back later: wait out short flood waits only.
        self.policy = policy or RetryPolicy(attempts=3, max_retry_after=30.0)
        self.paid_broadcast = paid_broadcast

    @classmethod
    def from_application(
        cls, app: Application[Any, Any, Any, Any, Any, Any], policy: RetryPolicy | None = None
    ) -> TelegramSender:
        """A sender on the Application's own bot (its rate limiter included)."""
        return cls(app.bot, policy)

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        return await self._send(user_ref, list(replies))

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        public = public_only(replies, log)
        if not public:
            return Delivery.FAILED
        return await self._send(channel_ref, public)

    async def _send(self, ref: str, replies: list[Reply]) -> Delivery:
        chat_id = numeric_ref(ref)
        if chat_id is None:
            log.error("telegram: not a chat id; nothing sent")
            return Delivery.FAILED

        async def send() -> None:
            nonlocal chat_id
            assert chat_id is not None
            for reply in replies:
                _, chat_id = await send_reply_following(
                    self.bot, chat_id, reply, self.policy, paid=self.paid_broadcast
                )

        return await push(send, delivery_for)
