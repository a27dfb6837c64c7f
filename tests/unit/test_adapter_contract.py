"""`coach run` serves whatever `bot.adapters.contract.configured` returns: one adapter per
platform whose token is set, each with its own sender and health check. Building them does not
connect anywhere."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.adapters.contract import Adapter, configured
from bot.config import Settings
from bot.core.messages import Incoming, Platform, Reply


class _Coach:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        return []

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


class _Library:
    exercises: dict[str, Any] = {}


def _adapters(**tokens: str) -> list[Adapter]:
    settings = Settings(**{key: SecretStr(value) for key, value in tokens.items()})
    return configured(settings, _Coach(), _Library())  # type: ignore[arg-type]


def test_one_adapter_per_platform_that_has_a_token() -> None:
    assert _adapters() == []
    [telegram] = _adapters(telegram_token="123:ABC")
    assert telegram.platform is Platform.TELEGRAM
    both = _adapters(telegram_token="123:ABC", discord_token="discord-token")
    assert [a.platform for a in both] == [Platform.TELEGRAM, Platform.DISCORD]
    for adapter in both:
        assert adapter.sender.platform is adapter.platform
        assert adapter.healthy() is False  # not started


def test_telegram_pushes_are_paced_once() -> None:
    """Replies use the Application's bot with AIORateLimiter; pushes a bot without it (the
    scheduler's Pacer paces them)."""
    [telegram] = _adapters(telegram_token="123:ABC")
    reply_bot = telegram.app.bot  # type: ignore[attr-defined]
    push_bot = telegram.sender.bot  # type: ignore[attr-defined]
    assert reply_bot.rate_limiter is not None
    assert push_bot is not reply_bot and push_bot.rate_limiter is None
