"""A reply's exercise pictures on Telegram.

Telegram has no alt-text field, so each picture's alt text goes into its caption: folded away
in an expandable quote under the reply's own text, or as the whole caption of an album item.
One picture carries the reply's text and buttons as its caption when they fit; several go as
one album (`sendMediaGroup`, stills only: an album cannot hold a GIF, so an animation goes on
its own with `sendAnimation`), and the text follows. A media group takes no buttons.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardMarkup, InputFile, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.adapters.telegram.api import RetryPolicy, call
from bot.core.messages import Picture, Reply

log = logging.getLogger("bot.adapters.telegram")

CAPTION_LIMIT = 1024
ALBUM_LIMIT = 10  # items in one media group

# Telegram's file id of each picture already uploaded by this process, by file path: a picture
# is sent by its id after the first time, so a routine's album costs no upload once warm. A
# picture's path holds its content hash, so a changed picture is uploaded anew.
_uploaded: dict[str, str] = {}


def caption_with_alt(reply: Reply, alt: str) -> tuple[str, ParseMode | None] | None:
    """The reply's title and text with the alt text folded under them (HTML), the alt text
    alone when the reply has no text, or None when it does not fit a caption."""
    if not reply.text and not reply.title:
        return alt[:CAPTION_LIMIT], None
    shown = len(reply.title or "") + len(reply.text) + len(alt) + 2
    if shown > CAPTION_LIMIT:
        return None
    parts = [f"<b>{html.escape(reply.title)}</b>"] if reply.title else []
    if reply.text:
        parts.append(html.escape(reply.text))
    parts.append(f"<blockquote expandable>{html.escape(alt)}</blockquote>")
    return "\n".join(parts), ParseMode.HTML


def _file(picture: Picture) -> InputFile | str:
    """The picture's file id when it was uploaded before, else the file itself (its name gives
    the upload its content type: image/png, image/gif)."""
    known = _uploaded.get(str(picture.path))
    if known is not None:
        return known
    return InputFile(picture.path.read_bytes(), filename=picture.path.name)


def _remember(picture: Picture, message: Message | None) -> None:
    if message is None:
        return
    if message.animation is not None:
        _uploaded[str(picture.path)] = message.animation.file_id
    elif message.photo:
        _uploaded[str(picture.path)] = message.photo[-1].file_id


async def _one(
    bot: Bot,
    chat_id: int,
    picture: Picture,
    caption: str,
    mode: ParseMode | None,
    markup: InlineKeyboardMarkup | None,
    policy: RetryPolicy,
    paid: bool = False,
) -> Message:
    if picture.kind == "animation":
        sent: Message = await call(
            lambda: bot.send_animation(
                chat_id,
                _file(picture),
                caption=caption,
                parse_mode=mode,
                reply_markup=markup,
                allow_paid_broadcast=paid or None,
            ),
            policy,
            "sendAnimation",
        )
    else:
        sent = await call(
            lambda: bot.send_photo(
                chat_id,
                _file(picture),
                caption=caption,
                parse_mode=mode,
                reply_markup=markup,
                allow_paid_broadcast=paid or None,
            ),
            policy,
            "sendPhoto",
        )
    _remember(picture, sent)
    return sent


async def _album(
    bot: Bot, chat_id: int, stills: Sequence[Picture], policy: RetryPolicy, paid: bool = False
) -> Message | None:
    sent: Message | None = None
    for start in range(0, len(stills), ALBUM_LIMIT):
        chunk = stills[start : start + ALBUM_LIMIT]
        if len(chunk) == 1:  # a media group needs two items at least
            sent = await _one(bot, chat_id, chunk[0], chunk[0].alt, None, None, policy, paid)
            continue
        # A file id when uploaded before; else bytes, not an InputFile: the library then
        # uploads each as its own "attach://" part.
        media = [
            InputMediaPhoto(
                _uploaded.get(str(p.path)) or p.path.read_bytes(),
                caption=p.alt[:CAPTION_LIMIT],
                filename=p.path.name,
            )
            for p in chunk
        ]
        messages = await call(
            functools.partial(
                bot.send_media_group, chat_id, media, allow_paid_broadcast=paid or None
            ),
            policy,
            "sendMediaGroup",
        )
        for picture, message in zip(chunk, messages, strict=False):
            _remember(picture, message)
        sent = messages[-1] if messages else sent
    return sent


async def send_pictures(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    markup: InlineKeyboardMarkup | None,
    policy: RetryPolicy,
    paid: bool = False,
) -> tuple[Message | None, bool]:
    """Send the reply's pictures; returns the last message sent and whether the reply's text
    and buttons went with them (else the caller sends them after). `paid`: as a paid
    broadcast."""
    known = [p for p in reply.pictures if str(p.path) in _uploaded]
    try:
        return await _send_pictures(bot, chat_id, reply, markup, policy, paid)
    except BadRequest:
        if not known:
            raise
        # A file id Telegram no longer knows (another bot token, say): upload them again.
        log.info("telegram: %d picture file ids refused, uploading again", len(known))
        for picture in known:
            _uploaded.pop(str(picture.path), None)
        return await _send_pictures(bot, chat_id, reply, markup, policy, paid)


async def _send_pictures(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    markup: InlineKeyboardMarkup | None,
    policy: RetryPolicy,
    paid: bool,
) -> tuple[Message | None, bool]:
    pictures = [p for p in reply.pictures if p.path.is_file()]
    if len(pictures) < len(reply.pictures):
        log.error("telegram: %d picture files are missing", len(reply.pictures) - len(pictures))
    if len(pictures) == 1:
        [picture] = pictures
        captioned = caption_with_alt(reply, picture.alt)
        if captioned is not None:
            caption, mode = captioned
            return await _one(bot, chat_id, picture, caption, mode, markup, policy, paid), True
        alt = picture.alt[:CAPTION_LIMIT]
        return await _one(bot, chat_id, picture, alt, None, None, policy, paid), False
    stills = [p for p in pictures if p.kind == "still"]
    sent: Message | None = await _album(bot, chat_id, stills, policy, paid)
    for picture in pictures:
        if picture.kind == "animation":
            caption = picture.alt[:CAPTION_LIMIT]
            sent = await _one(bot, chat_id, picture, caption, None, None, policy, paid)
    return sent, False
