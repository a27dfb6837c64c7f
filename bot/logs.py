"""Logging for `coach run`: plain or JSON lines, and no secrets in any of them.

Every record is redacted before any handler writes it: the configured secrets (bot tokens,
webhook secrets, the database password) and anything shaped like a Telegram bot token, a
Discord bot token or a Discord interaction-webhook token are replaced in the message, its
arguments, extra fields, exception tracebacks and stack traces. Three layers do it:

- a record factory, so records reaching handlers that libraries add later are redacted too;
- a `RedactingFilter` on every handler present after `configure_logging` (it also covers the
  `extra=` fields, which are set after the record factory ran);
- the coach's own formatters redact their finished line once more.

Libraries that log request URLs (httpx: the Telegram token is in the path), SQL parameters
(SQLAlchemy, aiosqlite: health answers are parameters) or whole updates and payloads
(python-telegram-bot, discord.py at DEBUG) are held at a quieter level whatever the root level.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.config import Settings

REDACTED = "[redacted]"

TELEGRAM_TOKEN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}")
# https://discord.com/api/v10/webhooks/<application id>/<interaction token>/...
DISCORD_WEBHOOK = re.compile(r"(/webhooks/\d+/)[A-Za-z0-9_.-]{20,}")

# SQLAlchemy's error text lists the statement's parameters (chat ids, message text, health
# answers). The engines hide them (`storage.db`); this catches an engine made elsewhere.
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")

# A secret shorter than this is ignored: replacing a few common characters everywhere would
# make every log line unreadable, and real tokens are far longer.
MIN_SECRET_LENGTH = 8

# The quietest level each library may log at, whatever the configured level.
QUIET: Mapping[str, int] = {
    "httpx": logging.WARNING,  # request lines carry the Telegram token in the URL
    "httpcore": logging.WARNING,
    "sqlalchemy": logging.WARNING,  # SQL parameters are health answers
    "aiosqlite": logging.WARNING,  # DEBUG lines carry the SQL parameters too
    "asyncpg": logging.WARNING,
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,  # a line per tick
    "telegram": logging.INFO,  # DEBUG: whole updates and API parameters (message text)
    "discord": logging.INFO,  # DEBUG: gateway payloads and request bodies (message text)
    "aiohttp.access": logging.WARNING,  # a line per health probe
    "asyncio": logging.WARNING,
}

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# LogRecord attributes that are not `extra=` fields.
_STANDARD = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class Redactor:
    """Replaces secrets and token-shaped strings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms.add(secret)
                forms.add(quote(secret, safe=""))  # as it appears inside a URL
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets: tuple[str, ...] = tuple(sorted(forms, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = TELEGRAM_TOKEN.sub(REDACTED, text)
        text = DISCORD_TOKEN.sub(REDACTED, text)
        text = SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
        return DISCORD_WEBHOOK.sub(rf"\g<1>{REDACTED}", text)

    def redact_value(self, value: Any, depth: int = 0) -> Any:
        """An `extra=` value: strings redacted, containers walked, other objects as text."""
        if isinstance(value, str):
            return self.redact(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if depth < 4 and isinstance(value, Mapping):
            return {str(k): self.redact_value(v, depth + 1) for k, v in value.items()}
        if depth < 4 and isinstance(value, list | tuple | set | frozenset):
            return [self.redact_value(v, depth + 1) for v in value]
        return self.redact(str(value))

    def redact_record(self, record: logging.LogRecord) -> None:
        """Redact a record in place: message and arguments, traceback, stack, extra fields."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep its parts rather than lose the line
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            # The text is kept, the live exception dropped: no handler can format it anew.
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                record.__dict__[key] = self.redact_value(value)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts every record passing through it (never drops one)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        self.redactor.redact_record(record)
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(PLAIN_FORMAT)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, any `extra=`
    fields, and `exception` / `stack` when present."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self.redactor.redact(json.dumps(entry, default=str, ensure_ascii=False))


def failure(exc: BaseException) -> str:
    """An exception for a log line: its type, the database's error code if any, and where it
    happened. Never its message: a database error quotes values (an invalid input, a failing
    row), and any exception may quote what a person typed."""
    orig = getattr(exc, "orig", None)  # the driver's error under SQLAlchemy's
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    kind = type(exc).__name__ + (f" (code {code})" if isinstance(code, str) and code else "")
    return f"{kind}\n{''.join(traceback.format_tb(exc.__traceback__))}".rstrip()


# The record factory ----------------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, Any] = {"redactor": Redactor(), "base_factory": None}


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _state["base_factory"](*args, **kwargs)
    _state["redactor"].redact_record(record)
    return record


def _install_factory(redactor: Redactor) -> None:
    with _lock:
        _state["redactor"] = redactor
        if logging.getLogRecordFactory() is not _redacting_factory:
            _state["base_factory"] = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_redacting_factory)


def uninstall() -> None:
    """Put back the record factory that was there before `configure_logging` (for tests)."""
    with _lock:
        if logging.getLogRecordFactory() is _redacting_factory and _state["base_factory"]:
            logging.setLogRecordFactory(_state["base_factory"])
        _state["base_factory"] = None
        _state["redactor"] = Redactor()


# Configuration ---------------------------------------------------------------------------------


class _CoachHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs on the root logger (replaced on a second call)."""


def configure_logging(
    level: str,
    json_format: bool,
    secrets: Sequence[str] = (),
    *,
    stream: TextIO | None = None,
) -> None:
    """Log to `stream` (standard error) at `level`, as JSON lines or plain text, redacted.

    Safe to call again: the handler of an earlier call is replaced, not stacked.
    """
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    redactor = Redactor(secrets)
    _install_factory(redactor)

    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CoachHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _CoachHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if json_format else PlainFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(numeric)

    for name, quietest in QUIET.items():
        logging.getLogger(name).setLevel(max(numeric, quietest))

    # Every handler there now, the root's and any a library attached to its own logger.
    loggers: list[logging.Logger] = [root]
    loggers += [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    for logger in loggers:
        for each in logger.handlers:
            for old in [f for f in each.filters if isinstance(f, RedactingFilter)]:
                each.removeFilter(old)
            each.addFilter(RedactingFilter(redactor))
    logging.captureWarnings(True)


def settings_secrets(settings: Settings) -> list[str]:
    """The secrets in the settings: bot tokens, the webhook secret, the database password."""
    from sqlalchemy.engine import make_url

    found = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_token,
            settings.discord_token,
            settings.telegram_webhook_secret,
        )
        if secret is not None
    ]
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL fails later, where it is used
        password = None
    if password:
        found.append(str(password))
    return found
