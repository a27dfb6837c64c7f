"""/start: welcome, safety screen, baseline scores, time zone and reminder time."""

from __future__ import annotations

from bot.core import flows
from bot.core.actions import Action
from bot.core.answers import BadAnswer, clean_text, read_comfort, read_score, read_yes_no
from bot.core.messages import Button, Reply
from bot.core.schedule import parse_hhmm
from bot.core.texts import (
    CLINICIAN_PAUSE,
    CLINICIAN_SIGNS,
    EMERGENCY_SIGNS,
    EMERGENCY_STOP,
    NOT_MEDICAL_ADVICE,
    choice_buttons,
    score_buttons,
)
from bot.core.timezones import UnknownZone, local_now_label, parse_zone
from bot.service import outcomes, reminders, safety
from bot.service.turn import Turn

FLOW = flows.ONBOARDING
SCREEN = [("None of these", "no"), ("Yes, at least one", "yes")]
# Common zones as buttons (payload parts can't hold "/", so "Europe/Berlin" travels as
# "europe.berlin"); anything else is typed.
ZONE_CHOICES = (
    ("Europe/London", "Europe/Berlin", "UTC"),
    ("America/New_York", "America/Los_Angeles"),
    ("Asia/Kolkata", "Australia/Sydney"),
)
OFF_WORDS = {"off", "no", "none", "no reminders", "skip"}


def start(turn: Turn) -> list[Reply]:
    welcome = turn.private(
        "Hi! I'm your mobility coach for tight hamstrings and a cranky lower back. Each day I give "
        "you a short floor-to-standing routine that keeps your spine neutral, ask how it went, "
        "and move you forward only when your back is ready.\n\n" + NOT_MEDICAL_ADVICE
    )
    return [welcome, ask(turn, "rfe")]


def ask(turn: Turn, step: str, *, edit: bool = False) -> Reply:
    ref = turn.person.id
    turn.ask(FLOW, step, ref)
    if step == "rfe":
        return turn.private(
            "First, a safety check. Do you have any of these right now, new or getting worse?\n"
            + EMERGENCY_SIGNS,
            buttons=choice_buttons(FLOW, step, ref, SCREEN),
            edit=edit,
        )
    if step == "rfc":
        return turn.private(
            "Thanks. Does any of these apply to you?\n" + CLINICIAN_SIGNS,
            buttons=choice_buttons(FLOW, step, ref, SCREEN),
            edit=edit,
        )
    if step == "pain":
        return turn.private(
            "How bad is your back pain on a typical day right now? "
            "0 = none, 10 = worst imaginable.",
            buttons=score_buttons(FLOW, step, ref),
            edit=edit,
        )
    if step == "comfort":
        return turn.private(
            "How able do you feel to deadlift at your working weight? 0 = not at all, "
            "10 = as before the problem.",
            buttons=score_buttons(FLOW, step, ref, _no_lift(ref)),
            edit=edit,
        )
    if step == "zone":
        return turn.private(
            "Which time zone are you in? Press one, or type a city or zone name "
            "(e.g. Madrid, Chicago, Asia/Tokyo).",
            buttons=tuple(
                choice_buttons(
                    FLOW, step, ref, [(zone, zone.lower().replace("/", ".")) for zone in row]
                )[0]
                for row in ZONE_CHOICES
            ),
            edit=edit,
        )
    return turn.private(
        "What time should I send your daily routine? Type a time like 07:30, or press a button.",
        buttons=choice_buttons(
            FLOW,
            "time",
            ref,
            [("07:00", "0700"), ("12:30", "1230"), ("18:00", "1800"), ("No reminders", "off")],
        ),
        edit=edit,
    )


def _no_lift(ref: int) -> tuple[Button, ...]:
    return choice_buttons(FLOW, "comfort", ref, [("I don't deadlift", "none")])[0]


async def answer(turn: Turn, step: str, value: str, pressed: bool) -> list[Reply]:
    person = turn.person
    if step == "rfe":
        if read_yes_no(value):
            await safety.hold(turn, "emergency")
            return [turn.private(EMERGENCY_STOP, buttons=safety.clearance_buttons(turn))]
        return [ask(turn, "rfc", edit=pressed)]
    if step == "rfc":
        if read_yes_no(value):
            await safety.hold(turn, "clinician")
            return [turn.private(CLINICIAN_PAUSE, buttons=safety.clearance_buttons(turn))]
        return [ask(turn, "pain", edit=pressed)]
    if step == "pain":
        person.baseline_pain = read_score(value, "your usual back pain")
        return [ask(turn, "comfort", edit=pressed)]
    if step == "comfort":
        person.baseline_comfort = read_comfort(value)
        person.phase_start_comfort = person.baseline_comfort
        if person.activities_asked_on is None:  # asked once; a second /start keeps them
            return [outcomes.start_activities(turn, outcomes.AT_ONBOARDING, edit=pressed)]
        return [ask(turn, "zone", edit=pressed)]
    if step == "zone":
        typed = value if not pressed else value.replace(".", "/")
        try:
            match = parse_zone(typed)
        except UnknownZone as unknown:
            raise BadAnswer(zone_problem(value, unknown)) from None
        person.timezone = match.zone
        return [
            turn.private(f"Got it: {local_now_label(match.zone, turn.now)}."),
            ask(turn, "time"),
        ]
    if step == "time":
        text = clean_text(value).lower()
        if text in OFF_WORDS:
            reminders.turn_off(turn)  # a second /start may turn off a reminder set before
        else:
            try:
                at = parse_hhmm(text)
            except ValueError as error:
                raise BadAnswer(f"{error} Or type 'off' for no reminders.") from None
            reminders.set_time(turn, at)
        return finish(turn)
    turn.clear_pending()
    return [turn.private("Let's start over: send /start.")]


def zone_problem(value: str, unknown: UnknownZone) -> str:
    shown = clean_text(value)[:40]
    hint = ", ".join(unknown.suggestions) or "Europe/London, America/New_York"
    return f"I don't know the time zone '{shown}'. Did you mean: {hint}? Type one of them."


def finish(turn: Turn) -> list[Reply]:
    person = turn.person
    turn.clear_pending()
    first_time = not person.onboarded
    person.onboarded = True
    if person.phase_started_on is None:
        person.phase_started_on = turn.today
    when = reminders.describe(turn)
    opener = "You're all set." if first_time else "Settings updated."
    where = f"You start in {turn.phase.name}." if first_time else f"You're in {turn.phase.name}."
    show = Button("Show today's routine", Action(flows.ROUTINE, "open", "1", person.id).encode())
    return [
        turn.private(
            f"{opener} {when}\n{where} Press the button (or send /routine) for today's "
            "routine, and press Done when you've finished it. /help lists everything.",
            buttons=((show,),),
        )
    ]
