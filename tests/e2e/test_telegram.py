"""The Telegram adapter end to end: the real python-telegram-bot Application against a fake
Bot API server on 127.0.0.1 (tests/e2e/fake_telegram.py).

Most tests talk to a small scripted coach (`ScriptedCoach`) so each adapter rule is checked on
its own; the `real coach` tests at the end run `bot.bootstrap.build_coach` on a SQLite file.
Every result is awaited on the fake's call log (`wait_for`): no sleeps, no wall-clock asserts.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.adapters.telegram import (
    RetryPolicy,
    TelegramApplication,
    TelegramSender,
    build_application,
    serve_telegram,
    webhook_secret,
)
from bot.adapters.telegram.inbound import (
    ANONYMOUS_ADMIN_ID,
    HINT_ANONYMOUS_ADMIN,
    HINT_EDITED,
    HINT_NOT_TEXT,
)
from bot.adapters.telegram.turn import TEXT_SENT_PRIVATELY
from bot.adapters.toolkit import SORRY as TEXT_SORRY
from bot.config import Settings
from bot.core.commands import COMMANDS
from bot.core.messages import Button, Incoming, Platform, Reply
from bot.ports import Delivery
from tests.e2e.fake_telegram import BOT_USERNAME, TOKEN, Call, FakeTelegram

ANA, BEN = 101, 202
GROUP = -100555
FAST = RetryPolicy(attempts=4, backoff=0.01)
QUESTION_ACTION = "v1:ci:pain:{n}:42"


# --------------------------------------------------------------------------- a scripted coach


class ScriptedCoach:
    """A CoachPort with fixed answers; records what it was given."""

    def __init__(self, image: Path | None = None) -> None:
        self.seen: list[Incoming] = []
        self.unreachable: list[tuple[Platform, str]] = []
        self.image = image

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        if incoming.action is not None:
            return self._pressed(incoming)
        text = incoming.text or ""
        command, _, args = text.partition(" ")
        if command == "/routine":
            return [
                Reply(
                    "Today: 1) hip hinge *x10* <b>slow</b> [a](b) & 2) floss_",
                    buttons=((Button("Done", "v1:rt:done:done:0"),),),
                )
            ]
        if command == "/checkin" and args:
            return [Reply(f"Logged {args}: pain noted.", private=True)]
        if command == "/checkin":
            buttons = tuple(
                tuple(Button(str(n), QUESTION_ACTION.format(n=n)) for n in row)
                for row in ((0, 1, 2, 3), (4, 5, 6, 7))
            )
            return [
                Reply("Four quick questions.", private=True),
                Reply("How much did your back hurt?", buttons=buttons, private=True),
            ]
        if command == "/help":
            return [Reply("Use <i>/routine</i> & *enjoy*", title="Help <me> & *you*")]
        if command == "/team":
            return [Reply(f"team can_manage={incoming.can_manage}")]
        if command == "/photo" and args == "long":
            steps = "\n".join(f"{i}. hinge from the hips, back flat" for i in range(60))
            return [Reply(steps, image=self.image, buttons=((Button("Done", "v1:x:d:d:0"),),))]
        if command == "/photo":
            return [Reply("Hip hinge: keep the back flat.", image=self.image, title="Hinge")]
        if command == "/buttons":
            too_long = "v1:" + "x" * 62
            return [
                Reply("Pick one", buttons=((Button("Bad", too_long), Button("Ok", "v1:a:b:c:1")),))
            ]
        if command == "/long":
            return [Reply("\n".join(f"line {i:04d} " + "x" * 60 for i in range(100)))]
        if command == "/two":
            return [Reply("first"), Reply("second")]
        if command == "/boom":
            raise RuntimeError(f"coach crashed on {text}")
        return [Reply(f"echo {text}")]

    def _pressed(self, incoming: Incoming) -> list[Reply]:
        action = incoming.action or ""
        parts = action.split(":")
        if len(parts) != 5 or parts[0] != "v1":
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        if parts[1] == "ci" and incoming.user_ref != str(ANA):
            return [Reply("That button belongs to someone else.", alert=True, private=True)]
        if parts[1] == "ci":
            return [
                Reply(
                    f"Pain {parts[3]} noted. Did pain go down a leg?",
                    buttons=((Button("No", "v1:ci:leg:no:42"), Button("Yes", "v1:ci:leg:yes:42")),),
                    private=True,
                    edit=True,
                )
            ]
        return [Reply(f"pressed {action}")]

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        self.unreachable.append((platform, user_ref))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def telegram_settings(telegram_fake: FakeTelegram, tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3",
        telegram_token=SecretStr(TOKEN),
        telegram_api_url=telegram_fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@asynccontextmanager
async def running(
    fake: FakeTelegram,
    settings: Settings,
    coach: Any,
    *,
    app: TelegramApplication | None = None,
    rate_limit: bool = True,
) -> AsyncIterator[TelegramApplication]:
    """serve_telegram in a task until the block ends (long polling with timeout=1)."""
    app = app or build_application(settings, coach, retry=FAST, rate_limit=rate_limit)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        serve_telegram(settings, coach, stop, application=app, poll_timeout=1, ready=ready)
    )
    ready_wait = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready_wait.cancel()
        task.result()  # start-up failed: raise it here
    try:
        yield app
    finally:
        stop.set()
        await task


def is_to(chat_id: int) -> Any:
    return lambda p: int(p["chat_id"]) == chat_id


def sends(fake: FakeTelegram, *, since: int = 0) -> list[Call]:
    return fake.calls_to("sendMessage", since=since) + fake.calls_to("sendPhoto", since=since)


# --------------------------------------------------------------------------- start-up


async def test_start_publishes_commands_and_long_polls(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        published = await telegram_fake.wait_for("setMyCommands")
        poll = await telegram_fake.wait_for("getUpdates")
    assert [c["command"] for c in published.params["commands"]] == [c.name for c in COMMANDS]
    assert all(c["description"] for c in published.params["commands"])
    assert telegram_fake.calls_to("getMe") and telegram_fake.calls_to("deleteWebhook")
    assert poll.params["timeout"] == "1"
    assert set(poll.params["allowed_updates"]) == {"message", "edited_message", "callback_query"}


async def test_a_missing_token_is_refused(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="TOKEN"):
        build_application(settings, ScriptedCoach())


# --------------------------------------------------------------------------- messages


async def test_routine_has_inline_buttons_and_plain_text(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine", first_name="Ana"))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.chat_id == ANA
    # Coach text is plain: markdown / HTML characters arrive untouched, no parse mode.
    assert sent.text == "Today: 1) hip hinge *x10* <b>slow</b> [a](b) & 2) floss_"
    assert "parse_mode" not in sent.params
    assert sent.callback_data == ["v1:rt:done:done:0"]
    [incoming] = coach.seen
    assert incoming == Incoming(
        platform=Platform.TELEGRAM,
        user_ref=str(ANA),
        chat_ref=str(ANA),
        is_private=True,
        display_name="Ana",
        text="/routine",
    )


async def test_a_title_is_bold_and_everything_is_escaped(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/help"))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.params["parse_mode"] == "HTML"
    assert sent.text == (
        "<b>Help &lt;me&gt; &amp; *you*</b>\nUse &lt;i&gt;/routine&lt;/i&gt; &amp; *enjoy*"
    )


async def test_several_replies_arrive_in_order(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/two"))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"] == "second")
    assert [c.text for c in sends(telegram_fake)] == ["first", "second"]


async def test_a_long_reply_is_split_under_telegrams_limit(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/long"))
        await telegram_fake.wait_for("sendMessage", lambda p: "line 0099" in p["text"])
    pieces = [c.text for c in sends(telegram_fake)]
    assert len(pieces) == 2
    assert all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces).count("line ") == 100


async def test_an_image_goes_out_with_sendphoto(
    telegram_fake: FakeTelegram, telegram_settings: Settings, tmp_path: Path
) -> None:
    image = tmp_path / "hinge.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    async with running(telegram_fake, telegram_settings, ScriptedCoach(image=image)):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/photo"))
        photo = await telegram_fake.wait_for("sendPhoto")
    assert photo.chat_id == ANA
    assert photo.params["photo"]["size"] == image.stat().st_size
    assert photo.params["caption"] == "<b>Hinge</b>\nHip hinge: keep the back flat."
    assert photo.params["parse_mode"] == "HTML"
    assert not telegram_fake.calls_to("sendMessage")


async def test_a_long_text_with_an_image_goes_as_photo_then_text(
    telegram_fake: FakeTelegram, telegram_settings: Settings, tmp_path: Path
) -> None:
    image = tmp_path / "hinge.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    async with running(telegram_fake, telegram_settings, ScriptedCoach(image=image)):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/photo long"))
        text = await telegram_fake.wait_for("sendMessage")
    [photo] = telegram_fake.calls_to("sendPhoto")
    assert "caption" not in photo.params and "reply_markup" not in photo.params
    assert photo.at < text.at
    assert text.text.startswith("0. hinge") and text.callback_data == ["v1:x:d:d:0"]


async def test_a_button_payload_over_64_bytes_is_left_out(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/buttons"))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.callback_data == ["v1:a:b:c:1"]


async def test_stickers_photos_and_voice_get_a_hint_and_change_nothing(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    sticker = {
        "file_id": "s1",
        "file_unique_id": "su1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
    voice = {"file_id": "v1", "file_unique_id": "vu1", "duration": 3}
    async with running(telegram_fake, telegram_settings, coach):
        for extra in (
            {"sticker": sticker},
            {"photo": photo, "caption": "/checkin 3"},
            {"voice": voice},
        ):
            mark = telegram_fake.mark()
            telegram_fake.inject_update(telegram_fake.message(ANA, None, **extra))
            hint = await telegram_fake.wait_for("sendMessage", since=mark)
            assert hint.text == HINT_NOT_TEXT
        # In a group, media not addressed to the bot is other people's chatter: silence.
        telegram_fake.inject_update(telegram_fake.message(BEN, None, chat_id=GROUP, photo=photo))
        telegram_fake.inject_update(telegram_fake.message(ANA, "/two"))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"] == "second")
    assert [i.text for i in coach.seen] == ["/two"]
    assert not telegram_fake.sent_to(GROUP)


async def test_an_edited_message_is_not_rerun_and_the_person_is_told(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin 4 yes 7", edited=True))
        hint = await telegram_fake.wait_for("sendMessage")
        # An edit of group chatter is ignored silently; the next update is still served.
        telegram_fake.inject_update(
            telegram_fake.message(BEN, "lunch?", chat_id=GROUP, edited=True)
        )
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"].startswith("Today"))
    assert hint.chat_id == ANA and hint.text == HINT_EDITED
    assert [i.text for i in coach.seen] == ["/routine"]
    assert not telegram_fake.sent_to(GROUP)


async def test_a_coach_failure_is_an_apology_not_a_crash(
    telegram_fake: FakeTelegram, telegram_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/boom secret-words"))
        sorry = await telegram_fake.wait_for("sendMessage")
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"].startswith("Today"))
    assert sorry.text == TEXT_SORRY
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("RuntimeError" in e for e in errors)
    assert not any("secret-words" in e for e in errors)


# --------------------------------------------------------------------------- buttons


async def test_a_button_press_edits_the_question_and_answers_the_callback(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin"))
        question = await telegram_fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        assert len(question.callback_data) == 8
        mark = telegram_fake.mark()
        telegram_fake.inject_update(
            telegram_fake.callback(ANA, question.callback_data[3], on=question)
        )
        edited = await telegram_fake.wait_for("editMessageText", since=mark)
        answer = await telegram_fake.wait_for("answerCallbackQuery", since=mark)
    assert edited.chat_id == ANA
    assert int(edited.params["message_id"]) == question.result["message_id"]
    assert edited.text == "Pain 3 noted. Did pain go down a leg?"
    assert edited.callback_data == ["v1:ci:leg:no:42", "v1:ci:leg:yes:42"]
    assert "text" not in answer.params  # a plain answer: just stop the spinner
    assert not telegram_fake.calls_to("sendMessage", since=mark)
    assert coach.seen[-1].action == "v1:ci:pain:3:42" and coach.seen[-1].text is None


async def test_a_press_by_someone_else_is_refused_and_changes_nothing(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin"))
        question = await telegram_fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        mark = telegram_fake.mark()
        telegram_fake.inject_update(
            telegram_fake.callback(BEN, question.callback_data[0], on=question, first_name="Ben")
        )
        answer = await telegram_fake.wait_for("answerCallbackQuery", since=mark)
    assert answer.params["text"] == "That button belongs to someone else."
    assert not telegram_fake.calls_to("editMessageText", since=mark)
    assert not telegram_fake.calls_to("sendMessage", since=mark)


async def test_a_forged_payload_gets_an_alert_only(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    forged = "v9:<script>:" + "x" * 40
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.callback(ANA, forged, message_id=77))
        answer = await telegram_fake.wait_for("answerCallbackQuery")
    assert answer.params["text"] == "That button isn't valid any more."
    assert coach.seen[-1].action == forged
    assert not telegram_fake.calls_to("sendMessage")
    assert not telegram_fake.calls_to("editMessageText")


async def test_every_press_is_answered_even_when_the_coach_fails(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    class Failing(ScriptedCoach):
        def _pressed(self, incoming: Incoming) -> list[Reply]:
            raise RuntimeError("down")

    async with running(telegram_fake, telegram_settings, Failing()):
        telegram_fake.inject_update(telegram_fake.callback(ANA, "v1:x:y:z:1", message_id=5))
        await telegram_fake.wait_for("answerCallbackQuery")
        sorry = await telegram_fake.wait_for("sendMessage")
    assert sorry.text == TEXT_SORRY
    assert len(telegram_fake.calls_to("answerCallbackQuery")) == 1


async def test_an_edit_the_api_refuses_becomes_a_new_message(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    telegram_fake.fail_next(
        "editMessageText", 400, description="Bad Request: message can't be edited"
    )
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.callback(ANA, "v1:ci:pain:5:42", message_id=9))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.text.startswith("Pain 5 noted.")
    assert sent.callback_data == ["v1:ci:leg:no:42", "v1:ci:leg:yes:42"]


# --------------------------------------------------------------------------- groups


async def test_a_group_command_with_the_bot_name_is_understood(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine@OtherBot", chat_id=GROUP))
        telegram_fake.inject_update(telegram_fake.message(ANA, "just chatting", chat_id=GROUP))
        telegram_fake.inject_update(
            telegram_fake.message(ANA, f"/routine@{BOT_USERNAME}", chat_id=GROUP)
        )
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.chat_id == GROUP and sent.text.startswith("Today")
    [incoming] = coach.seen
    assert incoming.text == "/routine"
    assert incoming.is_private is False
    assert incoming.chat_ref == incoming.group_ref == str(GROUP)
    assert incoming.user_ref == str(ANA)


async def test_private_replies_in_a_group_go_to_the_private_chat(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(
            telegram_fake.message(ANA, f"/checkin@{BOT_USERNAME} 3 yes 7", chat_id=GROUP)
        )
        private = await telegram_fake.wait_for("sendMessage", lambda p: "Logged" in p["text"])
        notice = await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == GROUP)
    assert private.chat_id == ANA
    assert notice.text == TEXT_SENT_PRIVATELY
    assert [c.text for c in telegram_fake.sent_to(GROUP)] == [TEXT_SENT_PRIVATELY]


async def test_a_deep_link_when_the_bot_may_not_write_privately(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    telegram_fake.fail_next(
        "sendMessage",
        403,
        times=10,
        description="Forbidden: bot can't initiate conversation with a user",
        when=lambda p: int(p["chat_id"]) == ANA,
    )
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin", chat_id=GROUP))
        notice = await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == GROUP)
        # The next update is served: the failure did not wedge anything.
        telegram_fake.inject_update(telegram_fake.message(BEN, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == BEN)
    link = f"https://t.me/{BOT_USERNAME}?start=checkin"
    assert link in notice.text
    assert notice.buttons == [{"text": "Open a private chat", "url": link}]
    group_texts = [c.text for c in telegram_fake.sent_to(GROUP)]
    assert group_texts == [notice.text]  # one notice, no health data, no question
    assert not any("hurt" in t or "questions" in t for t in group_texts)
    assert coach.unreachable == []  # never opened the bot is not "blocked"
    tried = telegram_fake.calls_to("sendMessage", is_to(ANA), ok_only=False)
    assert len(tried) == 1  # two private replies, but one refusal is enough


async def test_a_person_who_blocked_the_bot_gets_the_link_in_the_group_too(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    telegram_fake.blocked.add(ANA)
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin 2 yes 5", chat_id=GROUP))
        notice = await telegram_fake.wait_for("sendMessage", is_to(GROUP))
    assert "?start=checkin" in notice.text and "2 yes 5" not in notice.text
    assert coach.unreachable == [(Platform.TELEGRAM, str(ANA))]


async def test_a_group_press_of_a_private_question_never_lands_in_the_group(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.callback(ANA, "v1:ci:pain:2:42", chat_id=GROUP))
        await telegram_fake.wait_for("answerCallbackQuery")
        private = await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == ANA)
        await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == GROUP)
    assert private.text.startswith("Pain 2 noted.")
    assert not telegram_fake.calls_to("editMessageText")
    assert [c.text for c in telegram_fake.sent_to(GROUP)] == [TEXT_SENT_PRIVATELY]


async def test_team_commands_carry_whether_the_person_is_a_group_admin(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    telegram_fake.admins[GROUP] = {ANA}
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(
            telegram_fake.message(ANA, f"/team@{BOT_USERNAME} setup", chat_id=GROUP)
        )
        await telegram_fake.wait_for("sendMessage", lambda p: "True" in p["text"])
        telegram_fake.inject_update(telegram_fake.message(BEN, "/team setup", chat_id=GROUP))
        await telegram_fake.wait_for("sendMessage", lambda p: "False" in p["text"])
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine", chat_id=GROUP))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"].startswith("Today"))
    assert [(i.text, i.can_manage) for i in coach.seen] == [
        ("/team setup", True),
        ("/team setup", False),
        ("/routine", False),
    ]
    # Only /team asks who is an admin.
    assert len(telegram_fake.calls_to("getChatMember")) == 2


def anonymous_admin(fake: FakeTelegram, text: str, **extra: Any) -> dict[str, Any]:
    """A message an anonymous admin of GROUP writes: sent by GroupAnonymousBot for the group."""
    update = fake.message(ANONYMOUS_ADMIN_ID, text, chat_id=GROUP, **extra)
    message = update["message"]
    message["from"] = {
        "id": ANONYMOUS_ADMIN_ID,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    message["sender_chat"] = fake.chat(GROUP, "supergroup")
    return update


async def test_an_anonymous_admin_may_manage_team_posts_and_nothing_else(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    fake = telegram_fake
    async with running(fake, telegram_settings, coach):
        allowed = (
            "/team setup 07:30 Europe/Berlin",
            f"/team@{BOT_USERNAME} show",
            "/team off",
            "/team",
        )
        for text in allowed:
            mark = fake.mark()
            fake.inject_update(anonymous_admin(fake, text))
            answer = await fake.wait_for("sendMessage", is_to(GROUP), since=mark)
            assert answer.text == "team can_manage=True"
        # Anything else would make one shared "person" of every anonymous admin everywhere.
        bot_message = fake.sent_to(GROUP)[-1].result
        refused = (
            "/routine",
            "/checkin 2 yes 5",
            "/team name on",
            f"/remind@{BOT_USERNAME} 07:00 Europe/Berlin",
            "/start",
        )
        for text in refused:
            mark = fake.mark()
            fake.inject_update(anonymous_admin(fake, text))
            hint = await fake.wait_for("sendMessage", is_to(GROUP), since=mark)
            assert hint.text == HINT_ANONYMOUS_ADMIN
        mark = fake.mark()
        fake.inject_update(anonymous_admin(fake, "3", reply_to_message=bot_message))
        hint = await fake.wait_for("sendMessage", is_to(GROUP), since=mark)
        assert hint.text == HINT_ANONYMOUS_ADMIN
        # Group chatter and other bots' commands stay unanswered (the anonymous admin's updates
        # are handled in order, so its next /team answer shows they were handled).
        mark = fake.mark()
        fake.inject_update(anonymous_admin(fake, "good morning"))
        fake.inject_update(anonymous_admin(fake, "/routine@OtherBot"))
        fake.inject_update(anonymous_admin(fake, "/team show"))
        await fake.wait_for("sendMessage", is_to(GROUP), since=mark)
        assert [c.text for c in fake.sent_to(GROUP, since=mark)] == ["team can_manage=True"]
        # A real person in the same group is served as ever.
        mark = fake.mark()
        fake.inject_update(fake.message(BEN, "/routine", chat_id=GROUP))
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Today"), since=mark)
    anonymous = str(ANONYMOUS_ADMIN_ID)
    assert [(i.user_ref, i.text, i.can_manage) for i in coach.seen] == [
        *((anonymous, text.replace(f"@{BOT_USERNAME}", ""), True) for text in allowed),
        (anonymous, "/team show", True),
        (str(BEN), "/routine", False),
    ]
    assert not fake.calls_to("getChatMember")  # the anonymous admin is an admin by definition
    assert not fake.sent_to(ANONYMOUS_ADMIN_ID)  # and never written to privately


async def test_button_presses_never_ask_who_is_an_admin(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    """No button needs `can_manage`: team buttons ("tm") are for every member."""
    coach = ScriptedCoach()
    telegram_fake.admins[GROUP] = {ANA}
    async with running(telegram_fake, telegram_settings, coach):
        for data in ("v1:tm:start:go:7", "v1:tm:name:on:7", "v1:team:start:go:7"):
            mark = telegram_fake.mark()
            telegram_fake.inject_update(telegram_fake.callback(ANA, data, chat_id=GROUP))
            await telegram_fake.wait_for("answerCallbackQuery", since=mark)
            await telegram_fake.wait_for("sendMessage", is_to(GROUP), since=mark)
    assert [(i.action, i.can_manage, i.group_ref) for i in coach.seen] == [
        (data, False, str(GROUP))
        for data in ("v1:tm:start:go:7", "v1:tm:name:on:7", "v1:team:start:go:7")
    ]
    assert not telegram_fake.calls_to("getChatMember")


# --------------------------------------------------------------------------- failures


async def test_a_blocked_person_is_marked_unreachable_without_a_retry_storm(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    coach = ScriptedCoach()
    telegram_fake.blocked.add(ANA)
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/two"))
        telegram_fake.inject_update(telegram_fake.message(BEN, "/routine"))
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == BEN)
        await telegram_fake.wait_for(
            "sendMessage", lambda p: p["text"].startswith("Today"), ok_only=False
        )
    # Leaving `running` stops the Application, which finishes the updates in hand.
    attempts = telegram_fake.calls_to(
        "sendMessage", lambda p: int(p["chat_id"]) == ANA, ok_only=False
    )
    assert len(attempts) == 2  # one per update: no retries, no second reply after the 403
    assert coach.unreachable == [(Platform.TELEGRAM, str(ANA))] * 2


async def test_flood_control_is_waited_out_and_the_message_arrives(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    telegram_fake.fail_next("sendMessage", 429, retry_after=1)
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.text.startswith("Today")
    assert [c.status for c in telegram_fake.calls if c.method == "sendMessage"] == [429, 200]


@pytest.mark.parametrize("rate_limit", [True, False])
async def test_flood_control_without_the_library_limiter_too(
    telegram_fake: FakeTelegram, telegram_settings: Settings, rate_limit: bool
) -> None:
    telegram_fake.fail_next("sendMessage", 429, retry_after=1, times=1)
    async with running(telegram_fake, telegram_settings, ScriptedCoach(), rate_limit=rate_limit):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/help"))
        await telegram_fake.wait_for("sendMessage")
    assert [c.status for c in telegram_fake.calls if c.method == "sendMessage"] == [429, 200]


@pytest.mark.parametrize(
    ("status", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (0, "connection dropped")],
)
async def test_server_errors_are_retried_and_the_message_arrives(
    telegram_fake: FakeTelegram, telegram_settings: Settings, status: int, description: str
) -> None:
    telegram_fake.fail_next("sendMessage", status, times=2, description=description)
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.text.startswith("Today")
    assert len(telegram_fake.calls_to("sendMessage", ok_only=False)) == 3


async def test_a_persistent_outage_gives_up_after_a_few_tries(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    telegram_fake.fail_next(
        "sendMessage", 500, times=FAST.attempts, when=lambda p: p["text"] == "first"
    )
    async with running(telegram_fake, telegram_settings, ScriptedCoach()):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/two"))
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"].startswith("Today"))
    statuses = [(c.text, c.status) for c in telegram_fake.calls if c.method == "sendMessage"]
    # Four tries of "first", then the update is dropped (no "second"), and the next one works.
    assert statuses[: FAST.attempts] == [("first", 500)] * FAST.attempts
    assert [t for t, s in statuses if s == 200] == [statuses[-1][0]]


async def test_updates_the_adapter_cannot_use_are_skipped(
    telegram_fake: FakeTelegram, telegram_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    coach = ScriptedCoach()
    async with running(telegram_fake, telegram_settings, coach):
        # No sender (a channel-style post), a bot as sender, a press on an inline message.
        no_sender = telegram_fake.message(ANA, "/routine Ana-secret")
        del no_sender["message"]["from"]
        telegram_fake.inject_update(no_sender)
        from_bot = telegram_fake.message(ANA, "/routine Ana-secret")
        from_bot["message"]["from"]["is_bot"] = True
        telegram_fake.inject_update(from_bot)
        inline = telegram_fake.callback(ANA, "v1:ci:pain:3:42", message_id=3)
        del inline["callback_query"]["message"]
        inline["callback_query"]["inline_message_id"] = "im1"
        telegram_fake.inject_update(inline)
        # Garbage the library cannot even parse.
        telegram_fake.inject_update({"message": {"text": "Ana-secret"}})
        telegram_fake.inject_update(telegram_fake.message(BEN, "/routine"))
        await telegram_fake.wait_for("sendMessage", lambda p: int(p["chat_id"]) == BEN)
        await telegram_fake.wait_for("answerCallbackQuery")
    assert [i.user_ref for i in coach.seen] == [str(BEN)]
    assert not any("Ana-secret" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- webhook


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_mode_checks_the_secret_token(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    port = _free_port()
    settings = telegram_settings.model_copy(
        update={
            "telegram_webhook_url": f"http://127.0.0.1:{port}/tg/hook",
            "telegram_webhook_secret": SecretStr("s3cret-Token_1"),
            "telegram_listen": "127.0.0.1",
            "telegram_port": port,
        }
    )
    coach = ScriptedCoach()
    url = f"http://127.0.0.1:{port}/tg/hook"
    async with running(telegram_fake, settings, coach), aiohttp.ClientSession() as http:
        hook = await telegram_fake.wait_for("setWebhook")
        assert hook.params["url"] == url
        assert hook.params["secret_token"] == "s3cret-Token_1"
        assert not telegram_fake.calls_to("getUpdates")

        forged = {"update_id": 1, **telegram_fake.message(BEN, "/routine")}
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=forged, headers=headers) as response:
                assert response.status == 403

        good = {"update_id": 2, **telegram_fake.message(ANA, "/routine")}
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
        async with http.post(url, json=good, headers=headers) as response:
            assert response.status == 200
        sent = await telegram_fake.wait_for("sendMessage")
    assert sent.chat_id == ANA
    assert [i.user_ref for i in coach.seen] == [str(ANA)]


def test_without_a_configured_secret_the_webhook_secret_is_derived_from_the_token() -> None:
    one = Settings(telegram_token=SecretStr("1:A"), _env_file=None)  # type: ignore[call-arg]
    two = Settings(telegram_token=SecretStr("2:B"), _env_file=None)  # type: ignore[call-arg]
    assert webhook_secret(one) == webhook_secret(one) != webhook_secret(two)
    assert "1:A" not in webhook_secret(one) and len(webhook_secret(one)) == 64


# --------------------------------------------------------------------------- pushed messages


async def test_the_sender_reports_how_delivery_went(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    app = build_application(telegram_settings, ScriptedCoach(), retry=FAST)
    sender = TelegramSender.from_application(app, RetryPolicy(attempts=2, backoff=0.01))
    assert sender.platform is Platform.TELEGRAM
    reminder = [Reply("Time for today's routine.", buttons=((Button("Start", "v1:rt:go:go:0"),),))]
    async with app:
        assert await sender.send_to_person(str(ANA), reminder) is Delivery.SENT
        sent = telegram_fake.calls_to("sendMessage")[-1]
        assert sent.chat_id == ANA and sent.callback_data == ["v1:rt:go:go:0"]

        telegram_fake.blocked.add(BEN)
        assert await sender.send_to_person(str(BEN), reminder) is Delivery.UNREACHABLE

        telegram_fake.fail_next("sendMessage", 500, times=2)
        assert await sender.send_to_person(str(ANA), reminder) is Delivery.RETRY

        telegram_fake.fail_next("sendMessage", 429, retry_after=3600)
        assert await sender.send_to_person(str(ANA), reminder) is Delivery.RETRY

        telegram_fake.fail_next("sendMessage", 400, description="Bad Request: chat not found")
        assert await sender.send_to_person(str(ANA), reminder) is Delivery.FAILED
        assert await sender.send_to_person("not-a-chat", reminder) is Delivery.FAILED

        mark = telegram_fake.mark()
        mixed = [Reply("Team routine of the day."), Reply("Ana's pain was 7", private=True)]
        assert await sender.send_to_channel(str(GROUP), mixed) is Delivery.SENT
        assert [c.text for c in telegram_fake.sent_to(GROUP, since=mark)] == [
            "Team routine of the day."
        ]
        assert await sender.send_to_channel(str(GROUP), mixed[1:]) is Delivery.FAILED


async def test_a_migrated_group_is_followed(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    app = build_application(telegram_settings, ScriptedCoach(), retry=FAST)
    sender = TelegramSender.from_application(app)
    telegram_fake.migrations[-5] = -1005
    async with app:
        delivery = await sender.send_to_channel("-5", [Reply("Team routine of the day.")])
    assert delivery is Delivery.SENT
    assert [c.text for c in telegram_fake.sent_to(-1005)] == ["Team routine of the day."]


# --------------------------------------------------------------------------- logs


async def test_log_lines_carry_no_token_and_no_message_text(
    telegram_fake: FakeTelegram, telegram_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # httpx too: a test that ran `configure_logging` earlier in the process left it quieted.
    caplog.set_level(logging.DEBUG, logger="httpx")
    coach = ScriptedCoach()
    telegram_fake.fail_next("sendMessage", 500)
    telegram_fake.fail_next("getUpdates", 502)
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/boom Zoe-private-words"))
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        telegram_fake.inject_update(telegram_fake.message(ANA, "Zoe-private-words", edited=True))
        await telegram_fake.wait_for("sendMessage", lambda p: p["text"] == HINT_EDITED)
    lines = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("POST" in line for line in lines)  # httpx logs its requests ...
    assert not any(TOKEN in line for line in lines)  # ... without the token
    assert not any("Zoe" in line or "Ana" in line for line in lines)


# --------------------------------------------------------------------------- the real coach


@pytest.fixture
async def telegram_coach(telegram_settings: Settings) -> AsyncIterator[Any]:
    from bot.bootstrap import build_coach

    coach = await build_coach(telegram_settings)
    try:
        yield coach
    finally:
        await coach.close()


def button(call: Call, label: str) -> str:
    """The callback_data of the button labelled `label` on a message the bot sent."""
    for b in call.buttons:
        if b["text"] == label or b["text"].startswith(f"{label} "):
            return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} among {[b['text'] for b in call.buttons]}")


async def press(fake: FakeTelegram, user: int, on: Call, label: str, until: Any = None) -> Call:
    """Press a button; return what the bot did next (an edit or a new message)."""
    mark = fake.mark()
    fake.inject_update(fake.callback(user, button(on, label), on=on))
    await fake.wait_for("answerCallbackQuery", since=mark)
    return await fake.wait_for(("editMessageText", "sendMessage"), until, since=mark)


async def say(
    fake: FakeTelegram, user: int, text: str, until: Any, chat_id: int | None = None
) -> Call:
    mark = fake.mark()
    fake.inject_update(fake.message(user, text, chat_id=chat_id))
    return await fake.wait_for("sendMessage", until, since=mark)


async def onboard(fake: FakeTelegram, user: int) -> None:
    question = await say(fake, user, "/start", lambda p: "safety check" in p["text"])
    assert question.chat_id == user
    step = await press(fake, user, question, "None of these")
    assert step.method == "editMessageText" and "Does any of these apply" in step.text
    step = await press(fake, user, step, "None of these")
    assert "typical day" in step.text
    step = await press(fake, user, step, "3")
    assert "deadlift" in step.text
    step = await press(fake, user, step, "5")
    assert "Which activities" in step.text and step.method == "editMessageText"
    step = await press(fake, user, step, "Skip")
    assert "time zone" in step.text and step.method == "editMessageText"
    when = await say(fake, user, "Berlin", lambda p: "What time" in p["text"])
    mark = fake.mark()
    fake.inject_update(fake.callback(user, button(when, "07:00"), on=when))
    await fake.wait_for("sendMessage", lambda p: "all set" in p["text"], since=mark)


async def test_real_coach_onboarding(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
    texts = [c.text for c in telegram_fake.sent_to(ANA)]
    assert texts[0].startswith("Hi! I'm your mobility coach")
    assert any("Europe/Berlin" in t for t in texts)
    assert "07:00" in texts[-1]
    presses = telegram_fake.calls_to("answerCallbackQuery")
    assert len(presses) == 6  # every press answered
    assert len(telegram_fake.calls_to("editMessageText")) == 5  # the questions replaced in place


async def test_real_coach_sends_the_report_privately_as_picture_and_pdf(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        await say(telegram_fake, ANA, "/checkin 3 yes 7", lambda p: "Logged" in p["text"])
        mark = telegram_fake.mark()
        await say(telegram_fake, ANA, "/report", lambda p: "privately" in p["text"], GROUP)
        document = await telegram_fake.wait_for("sendDocument", since=mark)
        photo = await telegram_fake.wait_for("sendPhoto", since=mark)
    assert document.chat_id == ANA and photo.chat_id == ANA  # never in the group
    assert document.params["document"]["filename"].endswith(".pdf")
    assert photo.params["photo"]["size"] > 10_000  # the page, not an empty file
    in_group = [c for c in telegram_fake.calls[mark:] if c.chat_id == GROUP]
    assert [c.text for c in in_group] == [
        "I'll send your report privately.",
        "I've sent you a private message.",  # the adapter's own note
    ]


async def test_real_coach_routine_and_checkin_by_buttons(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        routine = await say(telegram_fake, ANA, "/routine", lambda p: "Phase 1" in p["text"])
        assert routine.params["parse_mode"] == "HTML"
        assert routine.text.startswith("<b>Today&#x27;s routine</b>\nPhase 1")
        question = await press(telegram_fake, ANA, routine, "Done", lambda p: "DURING" in p["text"])
        assert "DURING the routine" in question.text and question.method == "sendMessage"
        step = await press(telegram_fake, ANA, question, "2")
        assert "down a leg" in step.text and step.method == "editMessageText"
        step = await press(telegram_fake, ANA, step, "No")
        assert "stay neutral on every rep" in step.text
        step = await press(telegram_fake, ANA, step, "Yes")
        assert "deadlift" in step.text
        mark = telegram_fake.mark()
        telegram_fake.inject_update(telegram_fake.callback(ANA, button(step, "7"), on=step))
        done = await telegram_fake.wait_for(
            "sendMessage", lambda p: "Logged" in p["text"], since=mark
        )
    assert "pain 2/10" in done.text and done.chat_id == ANA


async def test_real_coach_quick_checkin_and_the_other_commands(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        logged = await say(telegram_fake, ANA, "/checkin 3 yes 7", lambda p: "Logged" in p["text"])
        assert "pain 3/10" in logged.text
        expected = {
            "/help": "Here is what I can do",
            "/progress": "Sessions: 1",
            "/remind 08:00 Europe/Berlin": "08:00 (Europe/Berlin)",
            "/snooze": "",
            "/pause 3": "Paused until",
            "/resume": "Welcome back",
            "/exercise": "Which one?",
            "/privacy": "What I store",
            "/export": "baseline_pain",
        }
        for command, start in expected.items():
            reply = await say(telegram_fake, ANA, command, lambda p, s=start: s in p["text"])
            assert reply.chat_id == ANA
        confirm = await say(telegram_fake, ANA, "/delete", lambda p: "reply_markup" in p)
        kept = await press(telegram_fake, ANA, confirm, "Keep")
    assert kept.method == "editMessageText" and kept.text.startswith("Kept")
    export = next(c for c in telegram_fake.sent_to(ANA) if "baseline_pain" in c.text)
    assert export.params["parse_mode"] == "HTML" and "&quot;baseline_pain&quot;" in export.text


async def test_real_coach_in_a_group_keeps_health_data_private(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        mark = telegram_fake.mark()
        routine = await say(
            telegram_fake, ANA, f"/routine@{BOT_USERNAME}", is_to(GROUP), chat_id=GROUP
        )
        assert "Phase 1" in routine.text  # the routine itself is for everyone
        await say(telegram_fake, ANA, "/checkin 4 yes 6", is_to(GROUP), chat_id=GROUP)
        logged = await telegram_fake.wait_for("sendMessage", is_to(ANA), since=mark)
        # "Done" pressed in the group: the check-in questions go to Ana's private chat, and
        # the group is told once they went.
        done = telegram_fake.mark()
        question = await press(telegram_fake, ANA, routine, "Done", lambda p: "DURING" in p["text"])
        await telegram_fake.wait_for("sendMessage", is_to(GROUP), since=done)
        # And when the private chat is closed, the group gets a deep link only.
        telegram_fake.fail_next(
            "sendMessage",
            403,
            times=5,
            description="Forbidden: bot can't initiate conversation with a user",
            when=is_to(ANA),
        )
        link_mark = telegram_fake.mark()
        await say(telegram_fake, ANA, "/progress", is_to(GROUP), chat_id=GROUP)
        link = telegram_fake.calls_to("sendMessage", is_to(GROUP), since=link_mark)[0]
        # Opening the bot through the link sends "/start checkin": understood.
        telegram_fake.clear_faults()
        opened = await say(telegram_fake, ANA, "/start checkin", lambda p: "DURING" in p["text"])
    assert "Logged" in logged.text and "pain 4/10" in logged.text
    assert question.chat_id == ANA and "DURING" in question.text
    assert f"https://t.me/{BOT_USERNAME}?start=checkin" in link.text
    assert opened.chat_id == ANA
    sent = telegram_fake.sent_to(GROUP)
    [album] = [c for c in sent if c.method == "sendMediaGroup"]  # the starter's pictures
    assert sent[0] is album and len(album.files) == 4
    group = [c.text for c in sent if c is not album]
    assert group[0] == routine.text
    assert all(t == routine.text or t == TEXT_SENT_PRIVATELY or "t.me/" in t for t in group)
    others = [t for t in group if t != routine.text]
    assert len(others) == 3  # two "sent you a private message", one deep link
    assert not any("pain" in t.lower() or "Sessions" in t or "Logged" in t for t in others)


async def test_real_coach_refuses_a_press_by_someone_else(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        await say(telegram_fake, BEN, "/help", lambda p: "/start" in p["text"])  # Ben is known
        question = await say(telegram_fake, ANA, "/checkin", lambda p: "DURING" in p["text"])
        mark = telegram_fake.mark()
        telegram_fake.inject_update(telegram_fake.callback(BEN, button(question, "9"), on=question))
        refused = await telegram_fake.wait_for("answerCallbackQuery", since=mark)
        assert not telegram_fake.calls_to("editMessageText", since=mark)
        assert not telegram_fake.calls_to("sendMessage", since=mark)
        # Ana's check-in is untouched: her own press still answers the same question.
        step = await press(telegram_fake, ANA, question, "1")
    assert "someone else" in refused.params["text"]
    assert "down a leg" in step.text


@pytest.mark.parametrize("payload", ["v1:ci:pain:9:999999", "v1:ob:rfe:no:1 OR 1=1", "\u0000" * 8])
async def test_real_coach_refuses_a_forged_payload(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any, payload: str
) -> None:
    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        mark = telegram_fake.mark()
        telegram_fake.inject_update(telegram_fake.callback(ANA, payload, message_id=5))
        answer = await telegram_fake.wait_for("answerCallbackQuery", since=mark)
        progress = await say(telegram_fake, ANA, "/progress", lambda p: "Sessions" in p["text"])
    assert answer.params.get("text")  # an alert, nothing else
    assert not telegram_fake.calls_to("editMessageText", since=mark)
    assert [c.text for c in telegram_fake.sent_to(ANA, since=mark)] == [progress.text]
    assert "Sessions: 0" in progress.text


async def test_real_coach_marks_a_blocked_person_unreachable(
    telegram_fake: FakeTelegram, telegram_settings: Settings, telegram_coach: Any
) -> None:
    from storage.repositories.people import SqlPeople

    async with running(telegram_fake, telegram_settings, telegram_coach):
        await onboard(telegram_fake, ANA)
        telegram_fake.blocked.add(ANA)
        mark = telegram_fake.mark()
        telegram_fake.inject_update(telegram_fake.message(ANA, "/checkin"))
        await telegram_fake.wait_for("sendMessage", since=mark, ok_only=False)
    assert len(telegram_fake.calls_to("sendMessage", since=mark, ok_only=False)) == 1
    async with telegram_coach.sessions() as session:
        identity = await SqlPeople(session).identity("telegram", str(ANA))
        assert identity is not None and identity.unreachable is True


async def test_real_coach_restart_in_the_middle_of_a_checkin(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    from bot.bootstrap import build_coach

    first = await build_coach(telegram_settings)
    try:
        async with running(telegram_fake, telegram_settings, first):
            await onboard(telegram_fake, ANA)
            question = await say(telegram_fake, ANA, "/checkin", lambda p: "DURING" in p["text"])
            leg = await press(telegram_fake, ANA, question, "4")
            assert "down a leg" in leg.text
    finally:
        await first.close()

    # A new process: new coach, new Application, same database.
    second = await build_coach(telegram_settings)
    try:
        async with running(telegram_fake, telegram_settings, second):
            flat = await press(telegram_fake, ANA, leg, "No")
            assert "stay neutral on every rep" in flat.text
            # A typed answer to the next open question is understood as well.
            comfort = await say(telegram_fake, ANA, "yes", lambda p: "deadlift" in p["text"])
            assert comfort.chat_id == ANA
            done = await press(telegram_fake, ANA, comfort, "6")
    finally:
        await second.close()
    assert "Logged" in done.text and "pain 4/10" in done.text


async def test_people_are_served_side_by_side_and_each_in_order(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    class Gated(ScriptedCoach):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()

        async def handle(self, incoming: Incoming) -> list[Reply]:
            if incoming.text == "/slow":
                await self.gate.wait()
            return await super().handle(incoming)

    coach = Gated()
    async with running(telegram_fake, telegram_settings, coach):
        telegram_fake.inject_update(telegram_fake.message(ANA, "/slow"))
        telegram_fake.inject_update(telegram_fake.message(ANA, "/routine"))
        telegram_fake.inject_update(telegram_fake.message(BEN, "/routine"))
        # Ben is not held up by Ana's slow turn ...
        await telegram_fake.wait_for("sendMessage", is_to(BEN))
        assert not telegram_fake.sent_to(ANA)
        coach.gate.set()
        await telegram_fake.wait_for(
            "sendMessage", lambda p: is_to(ANA)(p) and p["text"].startswith("Today")
        )
    # ... and Ana's second message waited for her first.
    assert [c.text for c in telegram_fake.sent_to(ANA)][0] == "echo /slow"
    assert telegram_fake.sent_to(ANA)[1].text.startswith("Today")


async def test_real_coach_team_posts_in_a_group(
    telegram_fake: FakeTelegram, telegram_settings: Settings
) -> None:
    from datetime import UTC, datetime

    from bot.bootstrap import build_coach
    from bot.service import team as team_service
    from tests.chat import FakeClock
    from tests.integration.scheduler_support import scheduler

    tuesday = datetime(2027, 1, 5, 6, 30, 10, tzinfo=UTC)  # 07:30:10 in Berlin
    digest = datetime(2027, 1, 11, 6, 30, 10, tzinfo=UTC)  # a week after the setup
    to_group = is_to(GROUP)
    clock = FakeClock()  # Monday 2027-01-04 09:00 in Berlin
    coach = await build_coach(telegram_settings, clock=clock)
    telegram_fake.admins[GROUP] = {ANA}
    fake = telegram_fake
    try:
        async with running(fake, telegram_settings, coach) as app:
            refused = await say(fake, BEN, "/team setup 07:30 Europe/Berlin", to_group, GROUP)
            assert refused.text == team_service.REFUSE_MANAGE
            command = f"/team@{BOT_USERNAME} setup 07:30 Europe/Berlin"
            done = await say(fake, ANA, command, to_group, GROUP)
            assert "Team posts are on" in done.text and "in this group" in done.text
            await onboard(fake, ANA)

            sender = TelegramSender.from_application(app, RetryPolicy(attempts=2, backoff=0.01))
            reminders = scheduler(coach.sessions, {Platform.TELEGRAM: sender})
            mark = fake.mark()
            clock.now = tuesday
            await reminders.tick(tuesday)
            post = await fake.wait_for(
                "sendMessage", lambda p: to_group(p) and "Team routine" in p["text"], since=mark
            )
            assert "Floor work" in post.text

            # Ben (new here) presses in the group: his onboarding starts in his private chat.
            mark = fake.mark()
            start = button(post, "Start my routine")
            fake.inject_update(fake.callback(BEN, start, on=post, first_name="Ben"))
            welcome = await fake.wait_for(
                "sendMessage", lambda p: "safety check" in p["text"], since=mark
            )
            assert welcome.chat_id == BEN
            # Ana (onboarded) presses: her routine, in her private chat.
            routine = await press(
                fake, ANA, post, "Start my routine", lambda p: "Phase 1" in p["text"]
            )
            assert routine.chat_id == ANA

            mark = fake.mark()
            clock.now = digest
            await reminders.tick(digest)
            found = await fake.wait_for(
                "sendMessage", lambda p: to_group(p) and "Team digest" in p["text"], since=mark
            )
            assert "0 of 2 members trained this week" in found.text
    finally:
        await coach.close()
    group = [c.text.lower() for c in fake.sent_to(GROUP)]
    assert len(group) >= 4  # refusal, setup, post, digest (and any "sent you a private message")
    for text in group:
        assert not any(word in text for word in ("pain", "/10", "tingling", "numbness", "safety"))
        assert "phase 1 of" not in text and "logged" not in text
