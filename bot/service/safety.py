"""Red-flag holds, pauses and the red-flag screen asked outside a check-in: when the coach must
not prompt exercise, and how it finds out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import flows
from bot.core.actions import Action
from bot.core.adherence import paused_days
from bot.core.answers import read_yes_no
from bot.core.messages import Button, Reply
from bot.core.texts import (
    CLINICIAN_PAUSE,
    CLINICIAN_SIGNS,
    EMERGENCY_SIGNS,
    EMERGENCY_STOP,
    choice_buttons,
)
from bot.service.turn import Turn
from bot.storage_port import CheckIns
from storage.models import Pause

# "/pause" without a number pauses until /resume.
UNTIL_RESUMED = datetime(9999, 1, 1, tzinfo=UTC)

SCREEN = flows.SCREEN  # Action(SCREEN, "rf"|"rfc", answer, person id)
SCREEN_CHOICES = [("None of these", "no"), ("Yes, at least one", "yes")]


async def hold(turn: Turn, kind: str) -> None:
    """A red flag: no exercise prompts or reminders until a clinician has cleared the person."""
    turn.person.safety_hold = kind
    turn.clear_pending()
    await turn.uow.outbox.cancel_pending(turn.person.id, turn.now)
    await _begin_pause(turn, kind, None)


async def stop_replies(turn: Turn, kind: str) -> list[Reply]:
    """Hold the person and say what to do: the emergency advice or see a clinician first."""
    await hold(turn, kind)
    message = EMERGENCY_STOP if kind == "emergency" else CLINICIAN_PAUSE
    return [turn.private(message, buttons=clearance_buttons(turn))]


async def cleared(turn: Turn) -> None:
    """The person says a clinician has cleared them: the hold and any pause end now."""
    turn.person.safety_hold = None
    turn.person.paused_until = None
    await _end_pause(turn)


def clearance_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    action = Action(flows.CLEARED, "ok", "yes", turn.person.id).encode()
    return ((Button("A clinician has cleared me", action),),)


def is_paused(turn: Turn) -> bool:
    until = turn.person.paused_until
    return until is not None and until > turn.now


async def pause(turn: Turn, days: int | None) -> datetime:
    until = UNTIL_RESUMED if days is None else turn.now + timedelta(days=days)
    turn.person.paused_until = until
    await turn.uow.outbox.cancel_pending(turn.person.id, turn.now)
    await _end_pause(turn)  # a new /pause replaces the one going on
    await _begin_pause(turn, "pause", None if days is None else until)
    return until


async def resume(turn: Turn) -> None:
    turn.person.paused_until = None
    await _end_pause(turn)


async def days_paused(
    checkins: CheckIns, person_id: int, zone: ZoneInfo, first: date, last: date
) -> set[date]:
    """The local days from `first` to `last` that were paused or on hold: not planned days."""
    spans = [
        (
            p.started_at.astimezone(zone).date(),
            p.ended_at.astimezone(zone).date() if p.ended_at else None,
        )
        for p in await checkins.pauses(person_id)
    ]
    return paused_days(spans, first, last)


async def _begin_pause(turn: Turn, kind: str, until: datetime | None) -> None:
    turn.uow.checkins.add_pause(
        Pause(person_id=turn.person.id, kind=kind, started_at=turn.now, ended_at=until)
    )


async def _end_pause(turn: Turn) -> None:
    going = await turn.uow.checkins.open_pause(turn.person.id, turn.now)
    if going is not None:
        going.ended_at = turn.now


# The red-flag screen outside a check-in (creeping morning pain, words that name a sign) -------


def ask_screen(
    turn: Turn,
    step: str = "rf",
    *,
    then: str | None = None,
    resume: dict[str, Any] | None = None,
) -> Reply:
    """Ask one list of the screen; when both are clear, carry on with `then` (a command) or
    go back to the `resume` question it interrupted."""
    turn.ask(SCREEN, step, turn.person.id, then=then, resume=resume)
    if step == "rf":
        text = "One safety check. Do you have any of these right now?\n" + EMERGENCY_SIGNS
    else:
        text = "And do any of these apply to you now?\n" + CLINICIAN_SIGNS
    return turn.private(text, buttons=choice_buttons(SCREEN, step, turn.person.id, SCREEN_CHOICES))


@dataclass(frozen=True)
class ScreenDone:
    """The screen's outcome: the replies, and what to carry on with when it was clear."""

    replies: list[Reply]
    then: str | None = None
    resume: dict[str, Any] | None = None


async def answer_screen(turn: Turn, step: str, value: str) -> ScreenDone:
    """The screen's answers: a yes stops; both clear carries on where the person was."""
    pending = turn.person.pending or {}
    then = pending.get("then") if isinstance(pending.get("then"), str) else None
    resume = pending.get("resume") if isinstance(pending.get("resume"), dict) else None
    if read_yes_no(value):
        return ScreenDone(await stop_replies(turn, "emergency" if step == "rf" else "clinician"))
    if step == "rf":
        return ScreenDone([ask_screen(turn, "rfc", then=then, resume=resume)])
    turn.clear_pending()
    clear = turn.private(
        "Thanks, nothing there that needs urgent care. If any of those signs appear, stop and "
        "get help straight away."
    )
    return ScreenDone([clear], then or None, resume)


def held(turn: Turn) -> list[Reply]:
    """What every exercise prompt says while the person is on a safety hold."""
    return [
        turn.private(
            "Your program is on hold after a safety answer, until a clinician has checked "
            "you. When they have cleared you to exercise, press the button.",
            buttons=clearance_buttons(turn),
        )
    ]
