"""The person's own settings commands: `/remind`, `/pause` and `/resume`."""

from __future__ import annotations

from bot.core.commands import MAX_PAUSE_DAYS
from bot.core.messages import Reply
from bot.core.numbers import whole_number
from bot.core.schedule import parse_hhmm
from bot.core.timezones import UnknownZone, parse_zone
from bot.service import onboarding, reminders, safety
from bot.service.turn import Turn


async def remind(turn: Turn, args: str) -> list[Reply]:
    words = args.split()
    if not words:
        return [
            turn.private(
                reminders.describe(turn)
                + "\nChange it with /remind HH:MM [time zone] [days], e.g. "
                "/remind 07:30 Europe/Berlin mon,wed,fri, or /remind off."
            )
        ]
    if words[0].lower() == "evening":
        return [turn.private(reminders.set_evening(turn, words[1:]))]
    if words[0].lower() == "off":
        reminders.turn_off(turn)
        return [turn.private("Daily reminders are off. /remind 07:30 turns them back on.")]
    try:
        at = parse_hhmm(words[0])
    except ValueError as error:
        return [turn.private(f"{error} Example: /remind 07:30 Europe/Berlin")]
    days: int | None = None
    rest = words[1:]
    if rest:
        try:
            days = reminders.read_days(rest[-1])
            rest = rest[:-1]
        except ValueError:
            days = None
    if rest:
        try:
            match = parse_zone(" ".join(rest))
        except UnknownZone as unknown:
            unclear_days = reminders.days_problem(rest)
            if unclear_days is not None:
                return [turn.private(unclear_days)]
            return [turn.private(onboarding.zone_problem(" ".join(rest), unknown))]
        turn.person.timezone = match.zone
    elif not turn.person.timezone:
        return [turn.private("Add your time zone, e.g. /remind 07:30 Europe/Berlin")]
    reminders.set_time(turn, at, days)
    text = reminders.describe(turn)
    if turn.person.safety_hold:
        text += (
            " Nothing will be sent while your program is on hold after a safety answer; "
            "reminders start again once a clinician has cleared you."
        )
    elif safety.is_paused(turn):
        text += " Nothing will be sent while you're paused; /resume starts them again."
    return [turn.private(text)]


async def pause(turn: Turn, args: str) -> list[Reply]:
    days: int | None = None
    if args:
        days = whole_number(args, max_digits=3)
        if days is None or not 1 <= days <= MAX_PAUSE_DAYS:
            return [turn.private(f"Pause for how many days? A number from 1 to {MAX_PAUSE_DAYS}.")]
    until = await safety.pause(turn, days)
    when = (
        "until you send /resume"
        if until == safety.UNTIL_RESUMED
        else f"until {until.astimezone(turn.zone):%a %d %b}"
    )
    return [
        turn.private(
            f"Paused {when}: no reminders, and your phase stays where it is. "
            "Look after yourself; gentle walking usually helps a sore back."
        )
    ]


async def resume(turn: Turn, args: str) -> list[Reply]:
    person = turn.person
    if person.safety_hold:
        return safety.held(turn)
    if not safety.is_paused(turn):
        return [turn.private("You're not paused. /routine shows today's plan.")]
    await safety.resume(turn)
    reminders.reschedule(turn)
    return [turn.private("Welcome back! Reminders are on again. /routine shows today's plan.")]
