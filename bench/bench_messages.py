"""Messages the bot sends for one person's day, through the real Telegram client and the
loopback fake (tests/e2e/fake_telegram.py): the coach's replies joined into one message where
one will do (`bot.core.joining`), against the same days with every reply its own message (the
baseline, in the same run).

The days are those of tests/e2e/one_day.py: day one is onboarding, the routine and a check-in;
day two, a usual day, is the 07:00 reminder, "Start", the morning answer, the routine,
"Done - check in" and the four answers. Counted per day: new messages (sendMessage, sendPhoto,
sendMediaGroup ...; an album once), the pictures in albums (Telegram's flood limit counts each
item), edits of a question in place, and the answers to button presses.

    .venv/bin/python bench/bench_messages.py
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

import bot.service.coach as coach_module  # noqa: E402
from bot.adapters.telegram import RetryPolicy, TelegramSender  # noqa: E402
from bot.bootstrap import build_coach  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.messages import Platform, Reply  # noqa: E402
from tests.chat import FakeClock  # noqa: E402
from tests.e2e.fake_telegram import TOKEN, FakeTelegram  # noqa: E402
from tests.e2e.one_day import Person, Turn, two_days  # noqa: E402
from tests.e2e.test_telegram import running  # noqa: E402
from tests.integration.scheduler_support import scheduler  # noqa: E402

PERSON = 101


async def days(join: Callable[[Sequence[Reply]], list[Reply]]) -> list[Turn]:
    """The two days with `join` applied to each turn's replies."""
    joining = coach_module.join_replies
    coach_module.join_replies = join
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with FakeTelegram() as fake:
                settings = Settings(
                    database_url=f"sqlite+aiosqlite:///{folder}/bench.sqlite3",
                    telegram_token=SecretStr(TOKEN),
                    telegram_api_url=fake.base_url,
                    _env_file=None,  # type: ignore[call-arg]
                )
                clock = FakeClock()
                coach = await build_coach(settings, clock=clock)
                try:
                    async with running(fake, settings, coach) as app:
                        policy = RetryPolicy(attempts=2, backoff=0.01)
                        sender = TelegramSender.from_application(app, policy)
                        reminders = scheduler(coach.sessions, {Platform.TELEGRAM: sender})
                        return await two_days(Person(fake, PERSON), reminders, clock)
                finally:
                    await coach.close()
    finally:
        coach_module.join_replies = joining


def totals(turns: list[Turn], day: int) -> tuple[int, int, int, int]:
    of_day = [t for t in turns if t.day == day]
    return (
        sum(len(t.messages) for t in of_day),
        sum(t.album_items for t in of_day),
        sum(len(t.edits) for t in of_day),
        sum(len(t.calls) - len(t.messages) - len(t.edits) for t in of_day),
    )


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    before = await days(list)
    after = await days(coach_module.join_replies)
    print("Telegram messages per turn (new messages; an album counts once): each reply / joined")
    for old, new in zip(before, after, strict=True):
        assert old.name == new.name
        was, now = len(old.messages), len(new.messages)
        marker = "  <-" if now < was else ""
        print(f"  day {old.day}  {old.name:<28} {was:>2} / {now:<2}{marker}")
    print("Per day:                     messages  album items  edits  press answers")
    for day, name in ((1, "day one (onboarding)"), (2, "day two (a usual day)")):
        for label, turns in (("each reply", before), ("joined", after)):
            sent, items, edits, answers = totals(turns, day)
            print(f"  {name:<22} {label:<10} {sent:>5} {items:>12} {edits:>6} {answers:>14}")
        old_sent, new_sent = totals(before, day)[0], totals(after, day)[0]
        print(f"  {'':<22} {'saved':<10} {old_sent - new_sent:>5} ({1 - new_sent / old_sent:.0%})")


if __name__ == "__main__":
    asyncio.run(main())
