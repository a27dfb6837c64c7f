"""A `Reply` as Telegram messages: inline keyboards, escaped HTML under a title, photos with
captions, long text in pieces (buttons on the last), a group that moved to a supergroup."""

from __future__ import annotations

import functools
import html
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import ChatMigrated

from bot.adapters.telegram.api import RetryPolicy, call
from bot.adapters.telegram.pictures import send_pictures
from bot.adapters.toolkit import split_text
from bot.core.messages import Reply

log = logging.getLogger("bot.adapters.telegram")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for row in reply.buttons:
        buttons = []
        for button in row:
            if not 1 <= len(button.action.encode()) <= CALLBACK_DATA_LIMIT:
                log.error("telegram: a button payload is not 1-64 bytes; button left out")
                continue
            buttons.append(InlineKeyboardButton(button.label, callback_data=button.action))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def render(text: str, title: str | None) -> tuple[str, ParseMode | None]:
    """The coach writes plain text: send it without a parse mode, or escaped under a bold title."""
    if not title:
        return text, None
    return f"<b>{html.escape(title)}</b>\n{html.escape(text)}", ParseMode.HTML


async def send_reply(
    bot: Bot, chat_id: int, reply: Reply, policy: RetryPolicy, *, paid: bool = False
) -> Message:
    """Send one reply to one chat (pictures, a photo or a document, then text in pieces; buttons
    on the last piece). `paid`: as a Telegram paid broadcast (scheduled pushes only)."""
    broadcast = paid or None  # left out of the request unless paid
    markup = keyboard(reply)
    title_room = len(reply.title) + 1 if reply.title else 0
    pieces = split_text(reply.text, TEXT_LIMIT - title_room) if reply.text else []
    sent: Message | None = None

    if reply.pictures:  # an album before the text, or one picture with it as its caption
        sent, with_text = await send_pictures(bot, chat_id, reply, markup, policy, paid)
        if sent is not None and (with_text or (not pieces and markup is None)):
            return sent

    if reply.image is not None:
        if reply.image.is_file():
            caption_fits = len(reply.text) + title_room <= CAPTION_LIMIT
            caption, mode = render(reply.text, reply.title) if caption_fits else ("", None)
            photo = reply.image.read_bytes()
            sent = await call(
                lambda: bot.send_photo(
                    chat_id,
                    photo,
                    caption=caption or None,
                    parse_mode=mode,
                    reply_markup=markup if caption_fits else None,
                    allow_paid_broadcast=broadcast,
                ),
                policy,
                "sendPhoto",
            )
            if caption_fits:
                pieces = []
        else:
            log.error("telegram: a reply image file is missing; sending the text only")

    if reply.document is not None and reply.image is None:
        if reply.document.is_file():
            caption_fits = len(reply.text) + title_room <= CAPTION_LIMIT
            caption, mode = render(reply.text, reply.title) if caption_fits else ("", None)
            document, name = reply.document.read_bytes(), reply.document.name
            sent = await call(
                lambda: bot.send_document(
                    chat_id,
                    document,
                    filename=name,
                    caption=caption or None,
                    parse_mode=mode,
                    reply_markup=markup if caption_fits else None,
                    allow_paid_broadcast=broadcast,
                ),
                policy,
                "sendDocument",
            )
            if caption_fits:
                pieces = []
        else:
            log.error("telegram: a reply document file is missing; sending the text only")

    for index, piece in enumerate(pieces):
        text, mode = render(piece, reply.title if index == 0 else None)
        keys = markup if index == len(pieces) - 1 else None
        sent = await call(
            functools.partial(
                bot.send_message,
                chat_id,
                text,
                parse_mode=mode,
                reply_markup=keys,
                allow_paid_broadcast=broadcast,
            ),
            policy,
            "sendMessage",
        )
    if sent is None:  # an empty reply with buttons only
        sent = await call(
            lambda: bot.send_message(
                chat_id, "\u2063", reply_markup=markup, allow_paid_broadcast=broadcast
            ),
            policy,
            "sendMessage",
        )
    return sent


async def send_reply_following(
    bot: Bot, chat_id: int, reply: Reply, policy: RetryPolicy, *, paid: bool = False
) -> tuple[Message, int]:
    """`send_reply`, following a group that was upgraded to a supergroup once."""
    try:
        return await send_reply(bot, chat_id, reply, policy, paid=paid), chat_id
    except ChatMigrated as exc:
        new_id = int(exc.new_chat_id)
        log.info("telegram: a group moved to a new chat id; following it")
        return await send_reply(bot, new_id, reply, policy, paid=paid), new_id
