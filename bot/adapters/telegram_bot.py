"""Telegram adapter: maps python-telegram-bot updates to `Incoming` and renders `Reply`.

Thin on purpose: every decision about coaching lives behind `CoachPort`. What this module owns
is Telegram itself:

- messages and button presses become `Incoming`; "/cmd@OtherBot" in a group is not for us;
- an anonymous group admin (one user id shared by all of them) may send `/team setup|off|show`
  and nothing else: it is never a person to the coach;
- replies become messages with inline keyboards (no parse mode, or escaped HTML when a reply
  has a title), photos, callback answers, and edits of the question a button belonged to;
- private replies never appear in a group: they go to the person's private chat, and if the
  bot may not write there, the group gets a deep link without any health data;
- 403 (blocked) marks the person unreachable; 429 waits `retry_after`; 5xx / network errors are
  retried with back-off; nothing an update does can stop the process.

In groups the coach hears commands and replies to its own messages only (what Telegram's
privacy mode delivers anyway), never the group's chatter. Different people are served side by
side, one person's updates strictly in order (`PerPersonOrder`). An update the library cannot
parse is skipped by id instead of stalling polling (`_TolerantBot`).

Edited messages are not re-run: an edit can arrive long after the conversation moved on (a
check-in answer or "/delete" edited hours later would act out of context), so the person gets a
short hint to send the corrected text as a new message instead.

Log lines carry update ids and error types only: no message text, names or token.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import html
import logging
import re
import traceback
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    ExtBot,
    TypeHandler,
)
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.core.messages import COMMANDS, Incoming, Platform, Reply
from bot.ports import CoachPort, Delivery

log = logging.getLogger(__name__)

TelegramApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
T = TypeVar("T")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
DEEP_LINK_PAYLOAD = "checkin"
# Telegram's "GroupAnonymousBot": the sender of messages an anonymous group admin writes. It is
# one user id shared by every anonymous admin of every group, so it is never a person to the
# coach: it may manage a group's team posts and nothing else.
ANONYMOUS_ADMIN_ID = 1087968824
ANONYMOUS_ADMIN_TEAM = frozenset({"", "setup", "off", "show"})  # the /team words it may send

HINT_NOT_TEXT = "I understand text and buttons. Send /help to see what I can do."
HINT_EDITED = (
    "I only read new messages, not edits. Please send the corrected text as a new message."
)
HINT_ANONYMOUS_ADMIN = (
    "Anonymous admins can only manage /team (setup, off, show); send other commands as yourself."
)
TEXT_SORRY = "Something went wrong on my side. Please try again in a moment."
TEXT_SENT_PRIVATELY = "I've sent you a private message."
TEXT_OPEN_PRIVATE = "That part is private, so I don't post it here. Open a chat with me: {link}"
LABEL_OPEN_PRIVATE = "Open a private chat"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one Bot API call is retried before giving up."""

    attempts: int = 4  # tries in all, for 429 and for 5xx / network errors
    backoff: float = 0.5  # seconds before the 2nd try after a 5xx / network error; doubles
    max_retry_after: float = 60.0  # a longer flood wait is not waited out here


# --------------------------------------------------------------------------- Bot API calls


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` becomes a timedelta; accept either form.
        warnings.simplefilter("ignore")
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _call(op: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str) -> T:
    """Run one Bot API call, waiting out 429 and retrying 5xx / network errors with back-off.

    Forbidden, BadRequest and other permanent errors propagate at once; transient errors that
    outlive the policy propagate as they are (RetryAfter / NetworkError).
    """
    for attempt in range(1, policy.attempts + 1):
        last = attempt == policy.attempts
        try:
            return await op()
        except RetryAfter as exc:
            wait = _retry_after_seconds(exc)
            if last or wait > policy.max_retry_after:
                raise
            log.info("telegram %s: flood control, retrying in %.1f s", what, wait)
            await asyncio.sleep(wait)
        except BadRequest:
            raise  # a subclass of NetworkError, but permanent
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            if last:
                raise
            delay = policy.backoff * 2 ** (attempt - 1)
            log.info(
                "telegram %s: %s, retry %d in %.2f s", what, type(exc).__name__, attempt, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


def _chunks(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line breaks where possible."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest:
        pieces.append(rest)
    return pieces


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
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


def _render(text: str, title: str | None) -> tuple[str, ParseMode | None]:
    """The coach writes plain text: send it without a parse mode, or escaped under a bold title."""
    if not title:
        return text, None
    return f"<b>{html.escape(title)}</b>\n{html.escape(text)}", ParseMode.HTML


async def _send_reply(bot: Bot, chat_id: int, reply: Reply, policy: RetryPolicy) -> Message:
    """Send one reply to one chat (photo, then text in pieces; buttons on the last piece)."""
    markup = _keyboard(reply)
    title_room = len(reply.title) + 1 if reply.title else 0
    pieces = _chunks(reply.text, TEXT_LIMIT - title_room) if reply.text else []
    sent: Message | None = None

    if reply.image is not None:
        if reply.image.is_file():
            caption_fits = len(reply.text) + title_room <= CAPTION_LIMIT
            caption, mode = _render(reply.text, reply.title) if caption_fits else ("", None)
            photo = reply.image.read_bytes()
            sent = await _call(
                lambda: bot.send_photo(
                    chat_id,
                    photo,
                    caption=caption or None,
                    parse_mode=mode,
                    reply_markup=markup if caption_fits else None,
                ),
                policy,
                "sendPhoto",
            )
            if caption_fits:
                pieces = []
        else:
            log.error("telegram: a reply image file is missing; sending the text only")

    for index, piece in enumerate(pieces):
        text, mode = _render(piece, reply.title if index == 0 else None)
        keys = markup if index == len(pieces) - 1 else None
        sent = await _call(
            functools.partial(bot.send_message, chat_id, text, parse_mode=mode, reply_markup=keys),
            policy,
            "sendMessage",
        )
    if sent is None:  # an empty reply with buttons only
        sent = await _call(
            lambda: bot.send_message(chat_id, "\u2063", reply_markup=markup),
            policy,
            "sendMessage",
        )
    return sent


async def _send_reply_following(
    bot: Bot, chat_id: int, reply: Reply, policy: RetryPolicy
) -> tuple[Message, int]:
    """`_send_reply`, following a group that was upgraded to a supergroup once."""
    try:
        return await _send_reply(bot, chat_id, reply, policy), chat_id
    except ChatMigrated as exc:
        new_id = int(exc.new_chat_id)
        log.info("telegram: a group moved to a new chat id; following it")
        return await _send_reply(bot, new_id, reply, policy), new_id


# --------------------------------------------------------------------------- one update


def _strip_bot_mention(text: str, username: str | None) -> str | None:
    """ "/cmd@Bot args" -> "/cmd args"; None when the command names another bot."""
    match = re.match(r"/([A-Za-z0-9_]+)@([A-Za-z0-9_]+)(.*)\Z", text, re.DOTALL)
    if match is None:
        return text
    if username and match.group(2).lower() != username.lower():
        return None
    return f"/{match.group(1)}{match.group(3)}"


def _command_name(text: str | None) -> str | None:
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


def _is_team_management(text: str) -> bool:
    """`/team`, `/team setup ...`, `/team off`, `/team show`: what an anonymous admin may send
    (not `/team name`, which is a person's own choice)."""
    if _command_name(text) != "team":
        return False
    words = text.split(maxsplit=2)
    return (words[1].lower() if len(words) > 1 else "") in ANONYMOUS_ADMIN_TEAM


@dataclass
class _Turn:
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
            await _call(
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
                if _is_transient(exc):
                    return  # the API is struggling: do not pile more calls on it

    async def _send_here(self, reply: Reply) -> None:
        if await self._try_edit(reply):
            return
        _, self.chat_id = await _send_reply_following(self.bot, self.chat_id, reply, self.policy)

    async def _try_edit(self, reply: Reply) -> bool:
        """Replace the question the pressed button belonged to, when the reply continues it."""
        query = self.query
        if (
            not reply.edit
            or query is None
            or query.message is None
            or self.edited_question
            or reply.image is not None
            or len(reply.text) + (len(reply.title) + 1 if reply.title else 0) > TEXT_LIMIT
            or not reply.text
        ):
            return False
        self.edited_question = True
        message = query.message
        text, mode = _render(reply.text, reply.title)
        markup = _keyboard(reply)
        try:
            await _call(
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
            await _send_reply(self.bot, private_chat, reply, self.policy)
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
            await _call(
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


class _UpdateHandler:
    """The one handler: every update the bot asks for goes through here."""

    def __init__(self, coach: CoachPort, policy: RetryPolicy) -> None:
        self.coach = coach
        self.policy = policy

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        bot = context.bot
        try:
            if update.callback_query is not None:
                await self._on_press(update, update.callback_query, bot)
            elif update.message is not None:
                await self._on_message(update, update.message, bot, edited=False)
            elif update.edited_message is not None:
                await self._on_message(update, update.edited_message, bot, edited=True)
            else:
                log.debug("telegram update %s ignored: not a kind we handle", update.update_id)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning(
                "telegram update %s skipped: cannot map it (%s)",
                update.update_id,
                type(exc).__name__,
            )

    async def _on_message(
        self, update: Update, message: Message, bot: Bot, *, edited: bool
    ) -> None:
        user, chat = message.from_user, message.chat
        anonymous_admin = (
            user is not None
            and user.id == ANONYMOUS_ADMIN_ID
            and message.sender_chat is not None
            and message.sender_chat.id == chat.id
        )
        if user is None or (user.is_bot and not anonymous_admin):
            log.debug("telegram update %s ignored: no person sent it", update.update_id)
            return
        is_private = chat.type == ChatType.PRIVATE
        turn = _Turn(
            bot, self.coach, self.policy, str(user.id), chat.id, is_private, update.update_id
        )
        replying_to_me = (
            message.reply_to_message is not None
            and message.reply_to_message.from_user is not None
            and message.reply_to_message.from_user.id == bot.id
        )

        text = message.text
        if text is None:
            if message.effective_attachment is not None and (is_private or replying_to_me):
                await turn.say(HINT_NOT_TEXT)
            return  # service messages (joins, pins) and group media: nothing to say
        stripped = _strip_bot_mention(text, bot.username)
        if stripped is None:
            return  # a command for another bot in the same group
        is_command = stripped.startswith("/")
        if not is_private and not is_command and not replying_to_me:
            return  # group chatter is not addressed to the coach
        if anonymous_admin and not _is_team_management(stripped):
            # Not a person: a check-in, a reminder or `/team name` would land on one record
            # shared by every anonymous admin everywhere.
            await turn.say(HINT_ANONYMOUS_ADMIN)
            return
        if edited:
            if is_private or is_command:
                await turn.say(HINT_EDITED)
            return

        can_manage = False
        if not is_private and _command_name(stripped) == "team":
            can_manage = anonymous_admin or await self._is_admin(bot, chat.id, user.id, turn)
        incoming = Incoming(
            platform=Platform.TELEGRAM,
            user_ref=str(user.id),
            chat_ref=str(chat.id),
            is_private=is_private,
            display_name=user.first_name,
            text=stripped,
            group_ref="" if is_private else str(chat.id),
            can_manage=can_manage,
        )
        await self._run(incoming, turn)

    async def _on_press(self, update: Update, query: CallbackQuery, bot: Bot) -> None:
        user: User = query.from_user
        message = query.message
        if message is None or not query.data:
            # An inline-mode message or a game: not ours. Stop the spinner anyway.
            await _Turn(
                bot, self.coach, self.policy, str(user.id), 0, True, update.update_id, query
            ).answer()
            return
        chat = message.chat
        is_private = chat.type == ChatType.PRIVATE
        turn = _Turn(
            bot,
            self.coach,
            self.policy,
            str(user.id),
            chat.id,
            is_private,
            update.update_id,
            query,
        )
        # No button needs `can_manage` (team buttons, flow "tm", are for any member; only the
        # typed `/team setup|off` do), so a press never costs a getChatMember call.
        incoming = Incoming(
            platform=Platform.TELEGRAM,
            user_ref=str(user.id),
            chat_ref=str(chat.id),
            is_private=is_private,
            display_name=user.first_name,
            action=query.data,
            group_ref="" if is_private else str(chat.id),
        )
        try:
            await self._run(incoming, turn)
        finally:
            await turn.answer()

    async def _is_admin(self, bot: Bot, chat_id: int, user_id: int, turn: _Turn) -> bool:
        try:
            member = await _call(
                lambda: bot.get_chat_member(chat_id, user_id), self.policy, "getChatMember"
            )
        except TelegramError as exc:
            log.warning(
                "telegram update %s: admin check failed (%s)", turn.update_id, type(exc).__name__
            )
            return False
        return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)

    async def _run(self, incoming: Incoming, turn: _Turn) -> None:
        try:
            replies = await self.coach.handle(incoming)
        except Exception as exc:
            log.error(
                "telegram update %s: the coach failed (%s)", turn.update_id, type(exc).__name__
            )
            log.debug("coach failure at:\n%s", _where(exc))
            await turn.answer()
            await turn.say(TEXT_SORRY)
            return
        await turn.render(replies)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Last line: whatever escaped the handler is logged by type and the process goes on."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    log.error("telegram update %s: unhandled %s", update_id, type(error).__name__)
    if error is not None:
        log.debug("unhandled error at:\n%s", _where(error))


def _where(exc: BaseException) -> str:
    """The traceback frames without the exception's message (which may quote a person)."""
    return "".join(traceback.format_tb(exc.__traceback__))


# --------------------------------------------------------------------------- ordering


def _order_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerPersonOrder(BaseUpdateProcessor):
    """Different people are served concurrently; one person's updates strictly in order.

    A check-in answer must not overtake the question before it, but one slow database call or
    flood wait must not hold up everybody else.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class _TolerantBot(ExtBot[Any]):
    """An ExtBot that survives an update it cannot parse.

    python-telegram-bot parses a getUpdates batch as a whole; one malformed update makes the
    whole batch fail, the offset never moves past it and polling fetches the same batch again
    and again. Here the batch is fetched once more and parsed one update at a time; an update
    that cannot be parsed is replaced by an empty `Update` with its id (the handler ignores it),
    so the offset moves on.
    """

    __slots__ = ()

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception:
            names = ("offset", "limit", "timeout", "allowed_updates")
            given = dict(zip(names, args, strict=False)) | kwargs
            return await self._one_by_one(
                given.get("offset"), given.get("limit"), given.get("allowed_updates")
            )

    async def _one_by_one(
        self, offset: int | None, limit: int | None, allowed: Sequence[str] | None
    ) -> tuple[Update, ...]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "use get_updates": that is what just failed
            raw = await self.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": offset,
                    "limit": limit,
                    "timeout": 0,
                    "allowed_updates": list(allowed) if allowed is not None else None,
                },
            )
        updates: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                update = Update.de_json(item, self)
            except Exception as exc:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                if not isinstance(update_id, int):
                    continue
                log.warning(
                    "telegram update %s skipped: cannot parse it (%s)",
                    update_id,
                    type(exc).__name__,
                )
                update = Update(update_id=update_id)
            updates.append(update)
        return tuple(updates)


# --------------------------------------------------------------------------- logging


class _Redact(logging.Filter):
    """Keeps the token and update data (names, message text) out of library log lines.

    python-telegram-bot logs whole updates and API parameters at DEBUG (and a batch it cannot
    parse at CRITICAL); httpx logs request URLs, which contain the token, at INFO. Numbers
    (update ids, counts, seconds) are kept; any other argument of such a line is replaced.
    """

    _DATA_MARKERS = ("Received data", "received data", "return value", "parameters", "update")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if template.startswith("Rate limit hit after maximum"):
            return False  # AIORateLimiter(max_retries=0) passing a 429 on: `_call` handles it
        if (
            record.args
            and (
                record.levelno <= logging.DEBUG
                or any(marker in template for marker in self._DATA_MARKERS)
            )
            and not record.name.startswith("httpx")
        ):
            record.args = self._scrub(record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = template
        for secret in self.secrets:
            message = message.replace(secret, "<token>")
        record.msg, record.args = message, None
        if record.exc_info and record.exc_text is None and self.secrets:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, "<token>")
            record.exc_text = text
        return True

    @staticmethod
    def _scrub(args: Any) -> Any:
        def keep(value: object) -> object:
            return value if isinstance(value, int | float) or value is None else "<redacted>"

        if isinstance(args, dict):
            return {key: keep(value) for key, value in args.items()}
        if isinstance(args, tuple):
            return tuple(keep(value) for value in args)
        return keep(args)


_REDACT = _Redact()
_REDACTED_LOGGERS = (
    "httpx",
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "telegram.ext.AIORateLimiter",
)


def _install_redaction(token: str) -> None:
    _REDACT.secrets.add(token)
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


# --------------------------------------------------------------------------- wiring


async def _post_init(app: TelegramApplication) -> None:
    """Publish the command menu; a failure here is cosmetic and does not stop the bot."""
    commands = [BotCommand(c.name, c.description) for c in COMMANDS]
    try:
        await _call(lambda: app.bot.set_my_commands(commands), RetryPolicy(), "setMyCommands")
    except TelegramError as exc:
        log.warning("telegram: publishing the command list failed (%s)", type(exc).__name__)


def _file_url(settings: Settings) -> str | None:
    if settings.telegram_file_url:
        return settings.telegram_file_url
    api = settings.telegram_api_url.rstrip("/")
    if api.endswith("/bot"):
        return api[: -len("/bot")] + "/file/bot"
    return None


def build_application(
    settings: Settings,
    coach: CoachPort,
    *,
    rate_limit: bool = True,
    retry: RetryPolicy | None = None,
    max_concurrent_updates: int = 256,
) -> TelegramApplication:
    """The python-telegram-bot Application with the coach's handler, error handler and limits.

    `rate_limit` keeps the bot inside Telegram's limits (30 msg/s overall, 20 msg/min per group)
    with the library's AIORateLimiter; it paces bursts, so a latency bench may switch it off.
    """
    if settings.telegram_token is None:
        raise ValueError("COACH_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    _install_redaction(token)
    bot = _TolerantBot(
        token,
        base_url=settings.telegram_api_url,
        base_file_url=_file_url(settings) or "https://api.telegram.org/file/bot",
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        # max_retries=0: `_call` waits out a 429 itself, with a cap; the limiter would wait out
        # any retry_after (an hour included) while holding back every other request.
        rate_limiter=AIORateLimiter(max_retries=0) if rate_limit else None,
    )
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerPersonOrder(max_concurrent_updates))
        .job_queue(None)
        .post_init(_post_init)
    )
    app: TelegramApplication = builder.build()
    app.add_handler(TypeHandler(Update, _UpdateHandler(coach, retry or RetryPolicy())))
    app.add_error_handler(_on_error)
    return app


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the token (stable across replicas)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    if settings.telegram_token is None:
        raise ValueError("COACH_TELEGRAM_TOKEN is not set")
    key = settings.telegram_token.get_secret_value().encode()
    return hmac.new(key, b"mobility-coach webhook", hashlib.sha256).hexdigest()


def _polling_error(exc: TelegramError) -> None:
    log.warning("telegram: polling failed (%s); retrying", type(exc).__name__)


async def serve_telegram(
    settings: Settings,
    coach: CoachPort,
    stop: asyncio.Event,
    *,
    application: TelegramApplication | None = None,
    poll_timeout: float = 10.0,
    ready: asyncio.Event | None = None,
) -> None:
    """Run the bot until `stop` is set: long polling, or webhook when a webhook URL is set.

    Pass `application` to serve one built beforehand (e.g. to make a `TelegramSender` from it);
    `ready` is set once updates are being received.
    """
    app = application if application is not None else build_application(settings, coach)
    async with app:  # initialize (getMe) ... shutdown
        if app.post_init is not None:
            await app.post_init(app)  # run_polling would call it; we drive the app by hand
        await app.start()
        updater = app.updater
        assert updater is not None
        try:
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
                    timeout=timedelta(seconds=poll_timeout),
                    allowed_updates=ALLOWED_UPDATES,
                    error_callback=_polling_error,
                )
                log.info("telegram: long polling started")
            if ready is not None:
                ready.set()
            await stop.wait()
        finally:
            if updater.running:
                await updater.stop()
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


# --------------------------------------------------------------------------- pushed messages


class TelegramSender:
    """`Sender` for reminders, team posts and digests, on the Application's bot."""

    platform = Platform.TELEGRAM

    def __init__(self, bot: Bot, policy: RetryPolicy | None = None) -> None:
        self.bot = bot
        # A reminder may come back later: wait out short flood waits only.
        self.policy = policy or RetryPolicy(attempts=3, max_retry_after=30.0)

    @classmethod
    def from_application(
        cls, app: TelegramApplication, policy: RetryPolicy | None = None
    ) -> TelegramSender:
        return cls(app.bot, policy)

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        return await self._send(user_ref, list(replies))

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        public = [reply for reply in replies if not reply.private]
        if len(public) < len(replies):
            log.error("telegram: private replies left out of a channel post")
        if not public:
            return Delivery.FAILED
        return await self._send(channel_ref, public)

    async def _send(self, ref: str, replies: list[Reply]) -> Delivery:
        try:
            chat_id = int(ref)
        except ValueError:
            log.error("telegram: not a chat id; nothing sent")
            return Delivery.FAILED
        try:
            for reply in replies:
                _, chat_id = await _send_reply_following(self.bot, chat_id, reply, self.policy)
        except Forbidden:
            return Delivery.UNREACHABLE
        except TelegramError as exc:
            log.warning("telegram: pushed message not delivered (%s)", type(exc).__name__)
            return Delivery.RETRY if _is_transient(exc) else Delivery.FAILED
        return Delivery.SENT
