"""/link and /unlink: one person with one history across Telegram, Discord and the console.

`/link` on one platform gives a one-time code (10 minutes, single use, also when two accounts
send it at once); `/link CODE` on the other joins the two identities. Wrong codes are bounded
(`bot.service.link_guard`). When both already have history, everything moves to the
person who issued the code: check-ins, decisions and memberships are re-pointed, nothing is
dropped. A wrong or expired code changes nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.core.answers import clean_text
from bot.core.messages import Reply
from bot.service import link_guard, reminders
from bot.service.turn import Turn
from storage.models import LinkCode, Person

CODE_LIFETIME = timedelta(minutes=10)
# No 0/O, 1/I/L: a code is read on one screen and typed on another.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# The profile: what the kept person takes over whole when they never finished /start, and
# what an unlinked chat keeps.
PROFILE = (
    "program_id",
    "phase_index",
    "baseline_pain",
    "baseline_comfort",
    "phase_started_on",
    "phase_start_comfort",
    "lighter_dose",
    "paused_until",
    "timezone",
    "remind_time",
    "remind_days",
    "remind_enabled",
    "evening_time",
    "summary_day",
)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def link(turn: Turn, args: str) -> list[Reply]:
    code = clean_text(args).upper().replace(" ", "").replace("-", "")
    if not code:
        return [await _issue(turn)]
    return [await _redeem(turn, code)]


async def _issue(turn: Turn) -> Reply:
    # One live code per person: a new /link replaces the old one.
    code = new_code()
    await turn.uow.links.replace_code(
        LinkCode(
            code=code,
            person_id=turn.person.id,
            created_at=turn.now,
            expires_at=turn.now + CODE_LIFETIME,
        )
    )
    shown = f"{code[:4]}-{code[4:]}"
    return turn.private(
        f"Your link code is {shown}. On your other chat app, send /link {shown} to this coach "
        "within 10 minutes. Both accounts will then share one progress history."
    )


async def _redeem(turn: Turn, code: str) -> Reply:
    links = turn.uow.links
    refused = await link_guard.refusal(turn)
    if refused is not None:
        return turn.private(refused)
    owner = await links.owner(code, turn.now)
    if owner is not None and owner == turn.person.id:
        return turn.private("This chat is already linked to that account.")
    # Of two accounts sending the code at the same moment, only one claims it.
    keeper = await links.claim(code, turn.person.id, turn.now)
    if keeper is None:
        await link_guard.wrong_code(turn)
        return turn.private(
            "That code is wrong or has expired, so nothing changed. Send /link on your other "
            "chat app for a new one."
        )
    await merge(turn, keeper)
    return turn.private(
        "Linked! This chat and your other account are now one person with one history. "
        "/progress shows it all; /unlink separates this chat again."
    )


async def merge(turn: Turn, keeper: Person) -> None:
    """Move everything of the person talking now into `keeper`, then remove the empty person."""
    leaving = turn.person
    if not keeper.onboarded and leaving.onboarded:
        for name in PROFILE:
            setattr(keeper, name, getattr(leaving, name))
        keeper.onboarded = True
    else:
        for name in PROFILE:
            if getattr(keeper, name) is None:
                setattr(keeper, name, getattr(leaving, name))
    keeper.safety_hold = keeper.safety_hold or leaving.safety_hold  # a red flag is never lost
    keeper.lighter_dose = keeper.lighter_dose or leaving.lighter_dose  # so is a bad day
    # Unsent reminders of the leaving person would repeat the keeper's: the keeper's plan
    # (rescheduled below) covers both chats from now on.
    await turn.uow.people.merge(leaving, turn.identity, keeper)
    turn.person = keeper
    reminders.reschedule(turn)  # the kept settings may have changed


async def unlink(turn: Turn, args: str) -> list[Reply]:
    identities = await turn.uow.people.identities(turn.person.id)
    if len(identities) < 2:
        return [turn.private("This chat is not linked to another account.")]
    person = turn.person
    # The history stays with the other account; this chat starts with the same settings.
    fresh = Person(created_at=turn.now, onboarded=person.onboarded)
    for name in PROFILE:
        setattr(fresh, name, getattr(person, name))
    fresh.safety_hold = person.safety_hold
    fresh.phase_started_on = turn.today
    await turn.uow.people.add_person(fresh)
    turn.identity.person_id = fresh.id
    turn.person = fresh
    turn.identity.person = fresh
    reminders.reschedule(turn)
    return [
        turn.private(
            "Unlinked. Your history stays with your other account; this chat keeps your phase "
            "and settings and starts a new history."
        )
    ]
