"""A quick check-in sent twice (a double send, a client's retry) is one session, not two.

Two copies of `/checkin 3 yes 7` reach the coach one after the other: on SQLite the coach takes
one message at a time, on PostgreSQL the second waits for the first's lock on the person and
then sees its committed check-in. So the second finds the first here and logs nothing.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import flows
from bot.core.answers import QuickCheckIn
from bot.core.messages import Reply
from bot.service.turn import Turn
from storage.models import CheckIn

REPEAT_WINDOW = timedelta(minutes=2)


def _same(checkin: CheckIn, values: QuickCheckIn) -> bool:
    return (
        checkin.pain_during,
        checkin.leg_symptoms,
        checkin.neutral,
        checkin.comfort if checkin.lifted else None,
    ) == (values.pain_during, values.leg_symptoms, values.neutral.value, values.comfort)


async def earlier_copy(turn: Turn, values: QuickCheckIn) -> CheckIn | None:
    """The same quick check-in from the last couple of minutes today: logged, or still waiting
    for its safety answer (the open question)."""
    person = turn.person
    candidates: list[CheckIn | None] = [await turn.last_session()]
    pending = person.pending
    if pending and pending.get("flow") == flows.CHECKIN and isinstance(pending.get("ref"), int):
        candidates.append(await turn.uow.checkins.get(int(pending["ref"])))
    for checkin in candidates:
        if (
            checkin is not None
            and checkin.person_id == person.id
            and checkin.local_date == turn.today
            and turn.now - checkin.started_at <= REPEAT_WINDOW
            and _same(checkin, values)
        ):
            return checkin
    return None


def already_logged(turn: Turn, checkin: CheckIn) -> Reply:
    comfort = checkin.comfort if checkin.lifted else "did not lift"
    return turn.private(
        f"You sent this check-in a moment ago (pain {checkin.pain_during}/10, back neutral: "
        f"{checkin.neutral}, deadlift comfort: {comfort}), so it counts once. "
        "/progress shows where you are."
    )
