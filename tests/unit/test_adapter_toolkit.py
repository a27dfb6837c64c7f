"""The adapters' shared toolkit: text pieces, channel privacy, the coach-failed apology, push
outcomes and library log lines."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.toolkit import (
    SORRY,
    LibraryLogGuard,
    ask_coach,
    numeric_ref,
    public_only,
    push,
    require_token,
    split_text,
)
from bot.core.messages import Incoming, Platform, Reply
from bot.ports import Delivery

INCOMING = Incoming(Platform.CONSOLE, "ann", "ann", True, text="/progress secret-words")


@given(st.text(alphabet="ab \n", max_size=300), st.integers(min_value=5, max_value=60))
def test_pieces_fit_the_limit_and_lose_only_the_breaks(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == (
        text.replace(" ", "").replace("\n", "")
    )


def test_pieces_are_cut_at_a_line_break_first() -> None:
    assert split_text("one two\nthree", 10) == ["one two", "three"]
    assert split_text("short", 10) == ["short"]
    assert split_text("", 10) == [""]
    assert split_text("abcdefgh\n\n", 8) == ["abcdefgh"]
    assert split_text("abcdefgh\n\n", 8, keep_empty_tail=True) == ["abcdefgh", ""]


def test_private_replies_never_reach_a_channel(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.toolkit")
    replies = [Reply("Team routine"), Reply("Ana's pain was 7", private=True)]
    assert public_only(replies, log) == [Reply("Team routine")]
    assert "1 private replies left out" in caplog.text and "Ana" not in caplog.text


class _Failing:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        raise RuntimeError(f"crashed on {incoming.text}")

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


async def test_a_failing_coach_gets_one_apology_and_a_log_line_without_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    replies = await ask_coach(_Failing(), INCOMING, logging.getLogger("test.toolkit"), "update 7")
    assert replies == [Reply(SORRY)]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "update 7" in record.getMessage() and "RuntimeError" in record.getMessage()
    assert "secret-words" not in record.getMessage()


async def test_push_outcomes_come_from_the_platforms_classification() -> None:
    def classify(exc: Exception) -> Delivery | None:
        return Delivery.UNREACHABLE if isinstance(exc, PermissionError) else None

    async def fine() -> None:
        return None

    async def refused() -> None:
        raise PermissionError

    async def broken() -> None:
        raise KeyError("not a delivery error")

    assert await push(fine, classify) is Delivery.SENT
    assert await push(refused, classify) is Delivery.UNREACHABLE
    with pytest.raises(KeyError):
        await push(broken, classify)


def test_refs_and_tokens() -> None:
    assert numeric_ref("-100555") == -100555 and numeric_ref("ann") is None
    with pytest.raises(ValueError, match="COACH_X_TOKEN is not set"):
        require_token(None, "COACH_X_TOKEN")


def test_library_lines_lose_secrets_and_update_data() -> None:
    guard = LibraryLogGuard(drop_below=logging.INFO, data_markers=("update",))
    guard.add_secret("123:ABC")

    def record(level: int, msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("lib", level, __file__, 1, msg, args, None)

    assert not guard.filter(record(logging.DEBUG, "payload %s", "Ana's text"))
    line = record(logging.INFO, "update %s from %s", 42, "Ana")
    assert guard.filter(line) and line.getMessage() == "update 42 from [redacted]"
    url = record(logging.INFO, "POST %s", "http://x/bot123:ABC/sendMessage")
    assert guard.filter(url) and "123:ABC" not in url.getMessage()
