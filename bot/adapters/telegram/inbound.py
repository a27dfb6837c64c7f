"""Telegram updates in: messages and button presses become one `Incoming` for the coach.

- "/cmd@OtherBot" in a group is not for us; in groups the coach hears commands and replies to
  its own messages only (what privacy mode delivers anyway), never the group's chatter;
- a command some of whose forms are for managers (`/team`) asks Telegram whether the sender is
  a group admin;
- an anonymous group admin (one user id shared by all of them) may send the managers' forms
  and nothing else: it is never a person to the coach;
- edited messages are not re-run: an edit can arrive long after the conversation moved on (a
  check-in answer or "/delete" edited hours later would act out of context), so the person
  gets a short hint to send the corrected text as a new message instead.

Log lines carry update ids and error types only: no message text, names or token.
"""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.api import RetryPolicy, call
from bot.adapters.telegram.turn import UpdateTurn
from bot.adapters.toolkit import ask_coach
from bot.core.commands import Typed, needs_manager, read_command
from bot.core.messages import Incoming, Platform
from bot.logs import failure
from bot.ports import CoachPort

log = logging.getLogger("bot.adapters.telegram")

# Telegram's "GroupAnonymousBot": the sender of messages an anonymous group admin writes. It is
# one user id shared by every anonymous admin of every group, so it is never a person to the
# coach: it may manage a group's team posts and nothing else.
ANONYMOUS_ADMIN_ID = 1087968824

HINT_NOT_TEXT = "I understand text and buttons. Send /help to see what I can do."
HINT_EDITED = (
    "I only read new messages, not edits. Please send the corrected text as a new message."
)
HINT_ANONYMOUS_ADMIN = (
    "Anonymous admins can only manage /team (setup, off, show); send other commands as yourself."
)


def without_mention(text: str, username: str | None) -> str | None:
    """ "/cmd@Bot args" -> "/cmd args"; None when the command names another bot."""
    typed = read_command(text)
    if typed is None or not typed.bot:
        return text
    if username and typed.bot.lower() != username.lower():
        return None
    return f"/{typed.word}{typed.rest}"


def for_managers(typed: Typed | None) -> bool:
    """A managers' form ("/team setup|off|show", or the bare "/team"), which is all an
    anonymous admin may send (not `/team name`, which is a person's own choice)."""
    if typed is None or typed.declared is None or not typed.declared.managed:
        return False
    return not typed.args or needs_manager(typed)


class UpdateHandler:
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
        turn = UpdateTurn(
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
        stripped = without_mention(text, bot.username)
        if stripped is None:
            return  # a command for another bot in the same group
        is_command = stripped.startswith("/")
        if not is_private and not is_command and not replying_to_me:
            return  # group chatter is not addressed to the coach
        typed = read_command(stripped)
        if anonymous_admin and not for_managers(typed):
            # Not a person: a check-in, a reminder or `/team name` would land on one record
            # shared by every anonymous admin everywhere.
            await turn.say(HINT_ANONYMOUS_ADMIN)
            return
        if edited:
            if is_private or is_command:
                await turn.say(HINT_EDITED)
            return

        can_manage = False
        if not is_private and typed is not None and typed.declared and typed.declared.managed:
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
            await UpdateTurn(
                bot, self.coach, self.policy, str(user.id), 0, True, update.update_id, query
            ).answer()
            return
        chat = message.chat
        is_private = chat.type == ChatType.PRIVATE
        turn = UpdateTurn(
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

    async def _is_admin(self, bot: Bot, chat_id: int, user_id: int, turn: UpdateTurn) -> bool:
        try:
            member = await call(
                lambda: bot.get_chat_member(chat_id, user_id), self.policy, "getChatMember"
            )
        except TelegramError as exc:
            log.warning(
                "telegram update %s: admin check failed (%s)", turn.update_id, type(exc).__name__
            )
            return False
        return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)

    async def _run(self, incoming: Incoming, turn: UpdateTurn) -> None:
        replies = await ask_coach(self.coach, incoming, log, f"telegram update {turn.update_id}")
        await turn.render(replies)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Last line: whatever escaped the handler is logged by type and the process goes on."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    log.error(
        "telegram update %s: unhandled %s",
        update_id,
        failure(error) if error is not None else None,
    )
