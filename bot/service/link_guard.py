"""How many wrong `/link` codes the coach takes: the bound on guessing someone else's code.

A code is 8 characters from a 31-letter alphabet (31^8 ≈ 8.5e11 codes), lives 10 minutes and is
used once. Each chat account may send 5 wrong codes per 15 minutes; all accounts together 1,000
per 10 minutes (an attacker with many accounts, or one who deletes and re-creates theirs, meets
that bound). So at most 144,000 guesses a day reach the code table: with 1,000 live codes at
every moment, one lucky guess is expected about once in 16 years. The price: while someone
burns the shared bound, `/link CODE` waits for everyone (everything else keeps working).

The counts live in the database (`Links` of `bot.storage_port`), so replicas share them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot.service.turn import Turn

ACCOUNT_TRIES = 5
ACCOUNT_WINDOW = timedelta(minutes=15)
ALL_TRIES = 1000
ALL_WINDOW = timedelta(minutes=10)


def _minutes(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


async def refusal(turn: Turn) -> str | None:
    """Why this `/link CODE` is not even looked at, or None when it may be."""
    links, now = turn.uow.links, turn.now
    mine = await links.wrong_tries_reopen(now - ACCOUNT_WINDOW, ACCOUNT_TRIES, turn.identity.id)
    if mine is not None:
        return (
            f"Too many tries: {ACCOUNT_TRIES} wrong codes in {ACCOUNT_WINDOW.seconds // 60} "
            f"minutes. Wait {_minutes(mine + ACCOUNT_WINDOW, now)} and try again; nothing changed."
        )
    everyone = await links.wrong_tries_reopen(now - ALL_WINDOW, ALL_TRIES)
    if everyone is not None:
        return (
            "Linking is paused for a few minutes after many wrong codes. Please try again in "
            f"{_minutes(everyone + ALL_WINDOW, now)}; nothing changed."
        )
    return None


async def wrong_code(turn: Turn) -> None:
    forget_before = turn.now - max(ACCOUNT_WINDOW, ALL_WINDOW)
    await turn.uow.links.record_wrong_try(turn.identity.id, turn.now, forget_before)
