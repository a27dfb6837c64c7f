"""Calls to the Bot API: one call retried by policy (429 waited out, 5xx / network errors
retried with back-off), and a bot that survives an update it cannot parse."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

log = logging.getLogger("bot.adapters.telegram")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one Bot API call is retried before giving up."""

    attempts: int = 4  # tries in all, for 429 and for 5xx / network errors
    backoff: float = 0.5  # seconds before the 2nd try after a 5xx / network error; doubles
    max_retry_after: float = 60.0  # a longer flood wait is not waited out here


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` becomes a timedelta; accept either form.
        warnings.simplefilter("ignore")
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def call(op: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str) -> T:
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


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


class TolerantBot(ExtBot[Any]):
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
