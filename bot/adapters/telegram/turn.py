"""Answering one update: the coach's replies rendered in the chat it came from.

Private replies never appear in a group: they go to the person's private chat, and if the bot
may not write there, the group gets a deep link without any health data. A reply that
continues a question edits the message the pressed button belonged to. 403 marks the person
unreachable; after a transient error nothing more is piled on the struggling API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.telegram.api import RetryPolicy, call, is_transient
from bot.adapters.telegram.render import (
    TEXT_LIMIT,
    keyboard,
    render,
    send_reply,
    send_reply_following,
)
from bot.core.messages import Platform, Reply
from bot.ports import CoachPort

log = logging.getLogger("bot.adapters.telegram")

CALLBACK_ANSWER_LIMIT = 200
DEEP_LINK_PAYLOAD = "checkin"
TEXT_SENT_PRIVATELY = "I've sent you a private message."
TEXT_OPEN_PRIVATE = "That part is private, so I don't post it here. Open a chat with me: {link}"
LABEL_OPEN_PRIVATE = "Open a private chat"


@dataclass
class UpdateTurn:
    """Renders the coach's replies to one update and remembers what happened on the way."""

    bot: Bot
    coach: CoachPort
    policy: RetryPolicy
    user_ref: str
    chat_id: int
    is_private: bool
    update_id: int
    query: CallbackQuery | None = None
    halted: bool = False  # the person blocked the bot: nothing more for this update
    answered: bool = False
    edited_question: bool = False
    told_group: bool = False
    private_closed: bool = False  # the bot may not write to the person's private chat

    async def answer(self, text: str | None = None) -> None:
        """Answer the button press exactly once (Telegram shows a spinner until then)."""
        if self.query is None or self.answered:
            return
        self.answered = True
        query = self.query
        try:
            await call(
                lambda: query.answer(text=text[:CALLBACK_ANSWER_LIMIT] if text else None),
                self.policy,
                "answerCallbackQuery",
            )
        except TelegramError as exc:  # too old, network down: the press still counted
            log.info(
                "telegram update %s: callback answer failed (%s)",
                self.update_id,
                type(exc).__name__,
            )

    async def render(self, replies: Sequence[Reply]) -> None:
        alert = next((r for r in replies if r.alert), None) if self.query else None
        await self.answer(alert.text if alert else None)
        for reply in replies:
            if self.halted:
                return
            if reply.alert and self.query is not None:
                continue  # shown as the callback answer
            try:
                if reply.private and not self.is_private:
                    await self._send_private_from_group(reply)
                else:
                    await self._send_here(reply)
            except Forbidden:
                await self._refused()
            except TelegramError as exc:
                log.warning(
                    "telegram update %s: a reply was not delivered (%s)",
                    self.update_id,
                    type(exc).__name__,
                )
                if is_transient(exc):
                    return  # the API is struggling: do not pile more calls on it

    async def _send_here(self, reply: Reply) -> None:
        if await self._try_edit(reply):
            return
        _, self.chat_id = await send_reply_following(self.bot, self.chat_id, reply, self.policy)

    async def _try_edit(self, reply: Reply) -> bool:
        """Replace the question the pressed button belonged to, when the reply continues it."""
        query = self.query
        if (
            not reply.edit
            or query is None
            or query.message is None
            or self.edited_question
            or reply.image is not None
            or reply.document is not None
            or reply.pictures
            or len(reply.text) + (len(reply.title) + 1 if reply.title else 0) > TEXT_LIMIT
            or not reply.text
        ):
            return False
        self.edited_question = True
        message = query.message
        text, mode = render(reply.text, reply.title)
        markup = keyboard(reply)
        try:
            await call(
                lambda: self.bot.edit_message_text(
                    text,
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    parse_mode=mode,
                    reply_markup=markup,
                ),
                self.policy,
                "editMessageText",
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            # Too old, a photo, deleted: say it in a new message instead.
            log.info("telegram update %s: edit refused, sending anew", self.update_id)
            return False
        return True

    async def _send_private_from_group(self, reply: Reply) -> None:
        """Health data goes to the person's private chat, never to the group."""
        if self.private_closed:
            return
        private_chat = int(self.user_ref)
        try:
            await send_reply(self.bot, private_chat, reply, self.policy)
        except Forbidden as exc:
            self.private_closed = True
            if "blocked" in str(exc).lower():
                await self._mark_unreachable()
            await self._tell_group(deep_link=True)
            return
        await self._tell_group(deep_link=False)

    async def _tell_group(self, *, deep_link: bool) -> None:
        if self.told_group:
            return
        self.told_group = True
        if deep_link and self.bot.username:
            link = f"https://t.me/{self.bot.username}?start={DEEP_LINK_PAYLOAD}"
            notice = Reply(text=TEXT_OPEN_PRIVATE.format(link=link))
            markup: InlineKeyboardMarkup | None = InlineKeyboardMarkup(
                [[InlineKeyboardButton(LABEL_OPEN_PRIVATE, url=link)]]
            )
        else:
            notice, markup = Reply(text=TEXT_SENT_PRIVATELY), None
        chat_id = self.chat_id
        try:
            await call(
                lambda: self.bot.send_message(chat_id, notice.text, reply_markup=markup),
                self.policy,
                "sendMessage",
            )
        except TelegramError as exc:
            log.warning(
                "telegram update %s: group notice not delivered (%s)",
                self.update_id,
                type(exc).__name__,
            )

    async def _refused(self) -> None:
        if self.is_private:
            await self._mark_unreachable()
        else:
            log.warning("telegram update %s: the group refused the bot", self.update_id)
        self.halted = True

    async def _mark_unreachable(self) -> None:
        log.info("telegram update %s: the person blocked the bot", self.update_id)
        try:
            await self.coach.mark_unreachable(Platform.TELEGRAM, self.user_ref)
        except Exception as exc:
            log.error("telegram: mark_unreachable failed (%s)", type(exc).__name__)

    async def say(self, text: str) -> None:
        """A fixed adapter message (hints, apologies): never health data."""
        try:
            await self._send_here(Reply(text=text))
        except Forbidden:
            await self._refused()
        except TelegramError as exc:
            log.warning(
                "telegram update %s: hint not delivered (%s)", self.update_id, type(exc).__name__
            )
