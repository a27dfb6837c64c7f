"""Logs carry no tokens and no health answers, in plain and JSON form, at every level."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.logs import REDACTED, Redactor, configure_logging, settings_secrets
from bot.service.coach import Coach
from tests.chat import Chat

TOKEN = "7123456789:AAH-recognisable_TOKEN_0123456789abcdefXYZ"
DISCORD = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.recognisable-discord-token_0123456789ab"
UNCONFIGURED = "9988776655:BBfZ_another_token_shape_zzzzzzzzzzzzzzzz"
HEALTH = "pain 7/10 secret-pain-marker"
LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)


pytestmark = pytest.mark.usefixtures("restore_logging")


def secrets_absent(text: str) -> None:
    for secret in (TOKEN, TOKEN.split(":", 1)[1], DISCORD, UNCONFIGURED):
        assert secret not in text


def log_everything() -> None:
    """What libraries and the coach log on a bad day, with the token everywhere."""
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    for level in LEVELS:
        logging.getLogger("httpx").log(level, 'HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
        logging.getLogger("httpcore.http11").log(level, "send_request_headers %s", url)
        logging.getLogger("telegram.ext.Updater").log(level, "token %s in the message", TOKEN)
        logging.getLogger("discord.client").log(level, "logging in using static token %r", DISCORD)
        logging.getLogger("bot.scheduler").log(
            level, "extra fields", extra={"url": url, "nested": {"token": DISCORD}}
        )
        logging.getLogger("apscheduler.executors").log(level, "%s", UNCONFIGURED)
        logging.getLogger("bot").log(level, "with stack %s", "x", stack_info=True)
        try:
            raise ConnectionError(f"All connection attempts failed for {url}")
        except ConnectionError:
            logging.getLogger("telegram.ext.Application").log(
                level, "Exception while polling", exc_info=True
            )
    # A percent sign with no arguments, and arguments that do not fit the template.
    logging.getLogger("bot").warning(f"100% of {TOKEN}")
    logging.getLogger("bot").warning("bad template %d", TOKEN)
    # Health answers where chatty libraries put them: SQL parameters, updates, payloads.
    logging.getLogger("sqlalchemy.engine.Engine").info("[generated in 0.0001s] (%r, 7)", HEALTH)
    logging.getLogger("aiosqlite").debug("executing %s", f"execute('UPDATE ..', ({HEALTH!r},))")
    logging.getLogger("telegram.ext.ExtBot").debug("Received data: {'text': %r}", HEALTH)
    logging.getLogger("discord.gateway").debug("WebSocket Event: {'content': %r}", HEALTH)
    logging.getLogger("httpx").info("HTTP Request: POST %s?text=%s", "https://x", HEALTH)


@pytest.mark.parametrize("json_format", [False, True])
def test_no_token_and_no_health_answer_at_any_level(json_format: bool) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", json_format, secrets=[TOKEN, DISCORD], stream=out)
    log_everything()
    text = out.getvalue()
    secrets_absent(text)
    assert HEALTH not in text and "secret-pain-marker" not in text
    # Not vacuous: the lines are there, redacted.
    assert REDACTED in text
    assert "send_request_headers" in text  # httpcore at WARNING and above
    assert "All connection attempts failed" in text  # the traceback is kept
    assert "Traceback (most recent call last)" in text
    assert "with stack" in text and "Stack (most recent call last)" in text
    assert "100% of" in text and "bad template" in text
    # httpx request lines (INFO) are quieted, its warnings are not.
    assert text.count("HTTP Request: POST https://api.telegram.org/bot") == 3


def test_json_is_one_object_per_line() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", True, secrets=[TOKEN], stream=out)
    log_everything()
    lines = out.getvalue().splitlines()
    assert len(lines) > 20
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["time"].endswith("+00:00")
    extra = next(e for e in entries if e["message"] == "extra fields")
    assert extra["url"] == f"https://api.telegram.org/bot{REDACTED}/sendMessage"
    assert extra["nested"] == {"token": REDACTED}
    failed = next(e for e in entries if e["message"] == "Exception while polling")
    assert "ConnectionError" in failed["exception"]
    assert TOKEN not in failed["exception"]


def test_plain_format_and_level() -> None:
    out = io.StringIO()
    configure_logging("WARNING", False, stream=out)
    logging.getLogger("bot.x").info("hidden")
    logging.getLogger("telegram").info("hidden too")  # never below the configured level
    logging.getLogger("bot.x").warning("shown %s", TOKEN)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(f"WARNING bot.x shown {REDACTED}")


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", False, secrets=[TOKEN])
    logging.getLogger("bot").error("token %s", TOKEN)
    captured = capsys.readouterr()
    assert f"token {REDACTED}" in captured.err
    secrets_absent(captured.err + captured.out)


def test_handlers_from_elsewhere_are_redacted_too() -> None:
    before = io.StringIO()
    early = logging.StreamHandler(before)  # a library's handler that was there first
    logging.getLogger("discord").addHandler(early)
    late_out = io.StringIO()
    late = logging.StreamHandler(late_out)  # one added after (discord.utils.setup_logging)
    try:
        configure_logging("DEBUG", False, secrets=[DISCORD], stream=io.StringIO())
        logging.getLogger().addHandler(late)
        logging.getLogger("discord.http").warning("static token %s", DISCORD)
        try:
            raise RuntimeError(f"Improper token {DISCORD}")
        except RuntimeError:
            logging.getLogger("discord.client").exception("login failed")
    finally:
        logging.getLogger("discord").removeHandler(early)
        logging.getLogger().removeHandler(late)
    for text in (before.getvalue(), late_out.getvalue()):
        assert "static token" in text and "Improper token" in text
        secrets_absent(text)


def test_configuring_twice_replaces_the_handler() -> None:
    out = io.StringIO()
    configure_logging("INFO", False, stream=io.StringIO())
    configure_logging("INFO", False, stream=out)
    logging.getLogger("bot").info("once")
    assert out.getvalue().count("once") == 1
    with pytest.raises(ValueError):
        configure_logging("LOUD", False)


def test_redactor_patterns_and_short_secrets() -> None:
    redactor = Redactor(["short", TOKEN])
    assert redactor.redact("a short word") == "a short word"  # too short to be a secret
    assert redactor.redact(f"/bot{TOKEN.replace(':', '%3A')}/x") == f"/bot{REDACTED}/x"
    assert redactor.redact(UNCONFIGURED) == REDACTED
    assert redactor.redact(DISCORD) == REDACTED
    webhook = "https://discord.com/api/v10/webhooks/1234567/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MA/x"
    assert redactor.redact(webhook) == f"https://discord.com/api/v10/webhooks/1234567/{REDACTED}/x"
    assert redactor.redact("update 123456789 took 0.25 s") == "update 123456789 took 0.25 s"


def test_settings_secrets() -> None:
    settings = Settings(
        telegram_token=SecretStr(TOKEN),
        discord_token=SecretStr(DISCORD),
        database_url="postgresql+asyncpg://coach:hunter2-db-pass@db/coach",
    )
    assert settings_secrets(settings) == [TOKEN, DISCORD, "hunter2-db-pass"]


async def test_a_conversation_logs_no_health_answers(coach: Coach) -> None:
    """The coach itself, at DEBUG: check-in answers and replies never reach a log line."""
    out = io.StringIO()
    configure_logging("DEBUG", True, secrets=[TOKEN], stream=out)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    logging.getLogger().addHandler(keep)
    try:
        chat = Chat(coach)
        await chat.onboard(pain=6, comfort="4")
        await chat.say("/routine")
        await chat.say("/checkin 7 mostly 4")
        assert "Logged: pain 7/10" in chat.text  # the marker is in the replies...
        await chat.say(HEALTH)
        assert "didn't catch that" in chat.text
        await chat.say("/checkin")
        await chat.press("7")
        await chat.press("No")
        await chat.say("/progress")
        assert "7/10" in chat.text
        await chat.press_payload("v1:ci:pain:7:999999")  # a check-in that is not theirs
    finally:
        logging.getLogger().removeHandler(keep)
    text = out.getvalue() + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {vars(r)}" for r in records
    )
    assert "secret-pain-marker" not in text
    assert "pain 7/10" not in text
    assert "/checkin 7" not in text
    assert "mostly" not in text
    # SQL parameters are answers: no statement on the check-ins table reaches a log line.
    assert "INSERT INTO checkins" not in text and "UPDATE checkins" not in text
    for line in out.getvalue().splitlines():
        json.loads(line)
