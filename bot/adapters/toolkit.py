"""What every chat adapter does the same way, written once.

- `split_text`: long text in pieces under a platform's limit, at line breaks where possible;
- `public_only`: private replies (health data) never go into a channel post;
- `ask_coach`: the coach's replies, or one apology when it fails (logged by type and frames,
  never the exception's message, which may quote what the person typed);
- `push`: a pushed message's outcome as a `Delivery`, from the platform's own error kinds;
- `require_token`, `numeric_ref`: the checks before talking to a platform;
- `LibraryLogGuard`: keeps tokens and message text out of a chat library's own log lines (the
  redaction rules are `bot.logs.Redactor`'s, the same as the app's handlers use).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from pydantic import SecretStr

from bot.core.messages import Incoming, Reply
from bot.logs import REDACTED, Redactor, failure
from bot.ports import CoachPort, Delivery

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."

# Classifies a platform error: the `Delivery` it means, or None for "not a delivery error".
Classify = Callable[[Exception], Delivery | None]


def split_text(
    text: str, limit: int, *, strip: str = "\n", keep_empty_tail: bool = False
) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break, else a space, else anywhere.
    The separator and `strip` characters at the start of the next piece are dropped."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip(strip)
    if rest or keep_empty_tail or not pieces:
        pieces.append(rest)
    return pieces


def public_only(replies: Sequence[Reply], log: logging.Logger) -> list[Reply]:
    """The replies a channel may show: a private one (health data) is left out, and said so."""
    public = [reply for reply in replies if not reply.private]
    if len(public) < len(replies):
        log.warning("%d private replies left out of a channel post", len(replies) - len(public))
    return public


async def ask_coach(
    coach: CoachPort, incoming: Incoming, log: logging.Logger, what: str
) -> list[Reply]:
    """The coach's replies to one update; one apology instead when the coach fails."""
    try:
        return list(await coach.handle(incoming))
    except Exception as exc:
        log.error("%s: the coach failed: %s", what, failure(exc))
        return [Reply(text=SORRY)]


def numeric_ref(ref: str) -> int | None:
    """A platform id kept as text ("12345", "-100555"); None when it is not one."""
    try:
        return int(ref)
    except ValueError:
        return None


async def push(send: Callable[[], Awaitable[None]], classify: Classify) -> Delivery:
    """Run one push and say how it went; an error the platform does not classify propagates."""
    try:
        await send()
    except Exception as exc:
        delivery = classify(exc)
        if delivery is None:
            raise
        return delivery
    return Delivery.SENT


def require_token(secret: SecretStr | None, variable: str) -> str:
    if secret is None:
        raise ValueError(f"{variable} is not set")
    return secret.get_secret_value()


class LibraryLogGuard(logging.Filter):
    """A filter for a chat library's loggers: the app's secrets are replaced, and lines that
    carry update data (names, message text) keep only their numbers.

    - `drop_below`: records under this level are dropped whatever the app's level (discord.py
      logs request bodies and gateway payloads at DEBUG);
    - `data_markers`: a line whose template mentions one of these has its non-number
      arguments replaced (python-telegram-bot logs whole updates and API parameters);
    - `drop_prefixes`: lines dropped outright (a library message the adapter handles itself).
    Logger names in `keep_args` keep their arguments (httpx: the URL is redacted below).
    """

    def __init__(
        self,
        *,
        drop_below: int = logging.NOTSET,
        data_markers: Sequence[str] = (),
        drop_prefixes: Sequence[str] = (),
        keep_args: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.drop_below = drop_below
        self.data_markers = tuple(data_markers)
        self.drop_prefixes = tuple(drop_prefixes)
        self.keep_args = tuple(keep_args)
        self.secrets: set[str] = set()
        self.redactor = Redactor()

    def add_secret(self, secret: str) -> None:
        self.secrets.add(secret)

    def redact(self, text: str) -> str:
        # Every secret of this library, however short (a test token is), then token shapes.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return self.redactor.redact(text)

    def install(self, loggers: Iterable[str]) -> None:
        for name in loggers:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.drop_below:
            return False
        template = str(record.msg)
        if self.drop_prefixes and template.startswith(self.drop_prefixes):
            return False
        if (
            record.args
            and (
                record.levelno <= logging.DEBUG
                or any(marker in template for marker in self.data_markers)
            )
            and not record.name.startswith(self.keep_args)
        ):
            record.args = _numbers_only(record.args)
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = template
        record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_text is None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
        return True


def _numbers_only(args: Any) -> Any:
    def keep(value: object) -> object:
        return value if isinstance(value, int | float) or value is None else REDACTED

    if isinstance(args, dict):
        return {key: keep(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(keep(value) for value in args)
    return keep(args)
