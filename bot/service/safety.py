"""Red-flag holds and pauses: when the coach must not prompt exercise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.actions import Action
from bot.core.messages import Button
from bot.service.turn import Turn
from storage import outbox

# "/pause" without a number pauses until /resume.
UNTIL_RESUMED = datetime(9999, 1, 1, tzinfo=UTC)


async def hold(turn: Turn, kind: str) -> None:
    """A red flag: no exercise prompts or reminders until a clinician has cleared the person."""
    turn.person.safety_hold = kind
    turn.clear_pending()
    await outbox.cancel_pending(turn.repo.session, turn.person.id, turn.now)


def clearance_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    action = Action("clr", "ok", "yes", turn.person.id).encode()
    return ((Button("A clinician has cleared me", action),),)


def is_paused(turn: Turn) -> bool:
    until = turn.person.paused_until
    return until is not None and until > turn.now


async def pause(turn: Turn, days: int | None) -> datetime:
    until = UNTIL_RESUMED if days is None else turn.now + timedelta(days=days)
    turn.person.paused_until = until
    await outbox.cancel_pending(turn.repo.session, turn.person.id, turn.now)
    return until
