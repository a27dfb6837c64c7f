"""What the coach says: plain text rendered from content and state. No formatting markup, so
every adapter can show it safely."""

from __future__ import annotations

import hashlib

from bot.core import flows
from bot.core.actions import Action
from bot.core.commands import COMMANDS
from bot.core.content import Avoid, Dose, Exercise, Library, Phase, Program
from bot.core.messages import Button, Reply

NOT_MEDICAL_ADVICE = (
    "This coach is a self-help exercise guide, not a diagnosis or treatment, and it does not "
    "replace a doctor or physiotherapist. If something feels wrong, stop and get it checked."
)

EMERGENCY_SIGNS = (
    "• numbness around the saddle area (inner thighs, genitals, back passage)\n"
    "• new trouble starting or stopping urine, or leaking\n"
    "• losing control of your bowels\n"
    "• new weakness in both legs\n"
    "• new problems with sexual function"
)

CLINICIAN_SIGNS = (
    "• a history of cancer\n"
    "• fever, or feeling generally unwell\n"
    "• weight loss you cannot explain\n"
    "• back pain that started after a fall, crash or other serious injury\n"
    "• constant pain at night that does not ease when you change position\n"
    "• this is your first ever back pain and you are under 20 or over 50\n"
    "• osteoporosis, or taking steroid tablets long term"
)

EMERGENCY_STOP = (
    "Please stop the exercises and go to an emergency department now, or call your local "
    "emergency number. Together with back pain, these signs can mean pressure on the nerves at "
    "the base of the spine, which needs urgent care the same day.\n\n"
    "I have paused your routines and reminders. When a clinician has checked you and says you "
    "may exercise again, tell me with the button below or /resume."
)

CLINICIAN_PAUSE = (
    "Thanks for telling me. With that history, a GP or physiotherapist should look at your back "
    "before you start a new exercise program. I have paused your program and reminders.\n\n"
    "When a clinician has cleared you to exercise, press the button below or send /resume."
)

# What "neutral" means, said once in plain words wherever the routine asks for it.
NEUTRAL_BACK = (
    "Neutral means your lower back keeps its natural small curve: not pressed flat into the "
    "floor, not arched, with the pelvis still."
)

# Replies to words typed outside any question (see `bot.core.free_text`).
RED_FLAG_HEARD = (
    "What you describe can be a sign of pressure on the nerves at the base of the spine. "
    "Please take it seriously."
)
SIGN_HEARD = "Thanks for telling me. Before anything else, a quick safety check."
ALREADY_CHECKED_IN = (
    "You've already checked in today, nice work. /progress shows how it's going; the next "
    "routine comes with tomorrow's reminder or /routine."
)
NUMBER_WITHOUT_QUESTION = (
    "I'm not sure what {value} refers to. If it's your pain during today's routine, send "
    "/checkin (or press Done under the routine); /routine shows today's plan."
)
BAD_DAY = (
    "Sorry your back is playing up. Flare-ups are common and usually settle within days; "
    "staying gently active tends to help more than resting in bed. You can do a lighter "
    "routine today, pause the program for a few days, or check in to log how it went. If pain "
    "shoots down a leg with numbness or weakness, or you notice numbness between your legs or "
    "changes in bladder or bowel control, get urgent medical help."
)
HELLO = "Hi! Send /routine for today's plan, or /help to see everything I can do."
NOT_UNDERSTOOD = (
    "I didn't catch that. You can type: /routine for today's plan, done after your routine, a "
    "number from 0 to 10 for your pain right after it, /progress, /pause, or /help for the rest."
)

PRIVACY = (
    "What I store: your answers (pain scores, whether your back stayed neutral, deadlift comfort, "
    "safety screen answers), your phase and the decisions taken on it, your time zone and "
    "reminder time, and the chat account you use to reach me. I use them only to coach you.\n"
    "Who sees them: only you. Health answers are asked and shown in private chat, never in a "
    "group or team channel. Nothing goes into the logs.\n"
    "Your control: /export sends you everything I hold about you as JSON; /delete removes all "
    "of it for good."
)


def help_text() -> str:
    lines = ["Here is what I can do:"]
    for command in COMMANDS:
        usage = f" {command.usage}" if command.usage else ""
        lines.append(f"/{command.name}{usage} - {command.description}")
    lines.append("")
    lines.append(NEUTRAL_BACK)
    lines.append("")
    lines.append(NOT_MEDICAL_ADVICE)
    return "\n".join(lines)


def dose_for(dose: Dose, lighter: bool) -> Dose:
    return dose.reduced() if lighter else dose


def phase_label(program: Program, index: int) -> str:
    return f"Phase {index + 1} of {len(program.phases)}: {program.phases[index].name}"


def item_minutes(exercise: Exercise, dose: Dose) -> float:
    # An exercise's minutes are for its own dose; scale by the work (sets x reps, or sets x
    # hold) when a routine or the lighter dose changes it.
    return exercise.minutes * _work(dose) / _work(exercise.dose)


def _work(dose: Dose) -> int:
    return dose.sets * (dose.reps or dose.hold_seconds or 1)


def routine_minutes(library: Library, phase: Phase, lighter: bool = False) -> int:
    total = 0.0
    for item in phase.routine:
        exercise = library.exercise(item.exercise)
        total += item_minutes(exercise, dose_for(item.dose or exercise.dose, lighter))
    return max(1, round(total))


def phase_headline(library: Library, phase: Phase, lighter: bool = False) -> str:
    """The phase's one-line headline with the minutes of today's dose, for reminders and posts."""
    return f"{phase.headline}, ~{routine_minutes(library, phase, lighter)} min"


# The routine's last line: what neutral is, and when to stop (NEUTRAL_BACK in full is in /help
# and in the check-in's question).
ROUTINE_BACK_LINE = (
    "Keep the back neutral (natural small curve, pelvis still). "
    "Stop at pain over 5/10, pain down a leg, numbness or tingling."
)
LIGHTER_TODAY = "Lighter dose today."


def short_dose(dose: Dose) -> str:
    """A dose in gym shorthand: sets × reps, or sets × hold ("2×8 each side", "2×30 s")."""
    amount = str(dose.reps) if dose.reps is not None else f"{dose.hold_seconds} s"
    side = " each side" if dose.sides == "each" else ""
    return f"{dose.sets}×{amount}{side}"


def routine_reply(
    library: Library, program: Program, index: int, *, lighter: bool, private: bool
) -> Reply:
    """Today's routine on one phone screen: each exercise with its dose, minutes and the cue
    that matters most (the pictures and /exercise carry the rest of the form)."""
    phase = program.phases[index]
    lines = [
        f"{phase_label(program, index)} (about {routine_minutes(library, phase, lighter)} min)"
    ]
    if lighter:
        lines.append(LIGHTER_TODAY)
    for number, item in enumerate(phase.routine, start=1):
        exercise = library.exercise(item.exercise)
        dose = dose_for(item.dose or exercise.dose, lighter)
        minutes = round(item_minutes(exercise, dose) * 2) / 2  # to the half minute
        lines.append(f"{number}. {exercise.name}: {short_dose(dose)} (~{minutes:g} min)")
        lines.append(f"   {exercise.key_cues[0]}")
    lines.append(ROUTINE_BACK_LINE)
    done = Button("Done - check in", ROUTINE_DONE)
    return Reply("\n".join(lines), buttons=((done,),), private=private, title="Today's routine")


def exercise_caption(exercise: Exercise) -> str:
    """The short text under an exercise's picture (its name is the title): the cue that
    matters most and the dose; "More" gives the full text."""
    return f"{exercise.key_cues[0]}.\n{exercise.dose.describe()}, about {exercise.minutes:g} min."


def exercise_key(exercise: Exercise) -> str:
    """A short stable name for an exercise in a button (ids may be longer than a payload part
    allows); it changes only when the id does."""
    return hashlib.sha256(exercise.id.encode()).hexdigest()[:10]


def exercise_by_key(library: Library, key: str) -> Exercise | None:
    return next((ex for ex in library.exercises.values() if exercise_key(ex) == key), None)


def more_button(exercise: Exercise) -> Button:
    """ "More" under an exercise's picture: the full text. Anyone may press it (it names an
    exercise, nobody's data)."""
    return Button("More", Action(flows.EXERCISE, MORE, exercise_key(exercise), 0).encode())


MORE = "more"


def exercise_text(exercise: Exercise) -> str:
    lines = [exercise.name, exercise.purpose, "", "Set up:"]
    lines.extend(f"- {step}" for step in exercise.setup)
    lines.append("How:")
    lines.extend(f"{n}. {step}" for n, step in enumerate(exercise.steps, start=1))
    lines.append("Cues (most important first):")
    lines.extend(f"- {cue}" for cue in exercise.cues_key_first())
    lines.append("Common faults:")
    lines.extend(f"- {fault.fault} Fix: {fault.fix}" for fault in exercise.faults)
    lines.append(f"Dose: {exercise.dose.describe()}, about {exercise.minutes:g} min.")
    if exercise.equipment:
        lines.append("You need: " + ", ".join(exercise.equipment) + ".")
    lines.append("Stop if:")
    lines.extend(f"- {reason}" for reason in exercise.stop_if)
    return "\n".join(lines)


def avoid_text(library: Library, avoid: Avoid) -> str:
    instead = ", ".join(library.exercise(e).name for e in avoid.instead)
    return (
        f"Skip the {avoid.name}. {avoid.why}\n\nDo this instead: {instead}. "
        "Send /exercise NAME for how, or /routine for today's plan."
    )


# "Done" under a routine: anyone may press it, for their own check-in.
ROUTINE_DONE = Action(flows.ROUTINE, "done", "1", 0).encode()
BAD_DAY_FLOW = flows.BAD_DAY  # Action(BAD_DAY_FLOW, "light" | "pause", value, person id)


def bad_day_buttons(person_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button("Lighter routine today", Action(BAD_DAY_FLOW, "light", "1", person_id).encode()),
            Button("Pause 3 days", Action(BAD_DAY_FLOW, "pause", "3", person_id).encode()),
        ),
        (Button("Check in", ROUTINE_DONE),),
    )


def score_buttons(
    flow: str, step: str, ref: int, extra: tuple[Button, ...] = ()
) -> tuple[tuple[Button, ...], ...]:
    """0-10 as two rows of buttons (Telegram shows up to 8 per row comfortably)."""
    row1 = tuple(Button(str(n), Action(flow, step, str(n), ref).encode()) for n in range(0, 6))
    row2 = tuple(Button(str(n), Action(flow, step, str(n), ref).encode()) for n in range(6, 11))
    return (row1, row2, extra) if extra else (row1, row2)


def choice_buttons(
    flow: str, step: str, ref: int, choices: list[tuple[str, str]]
) -> tuple[tuple[Button, ...], ...]:
    return (
        tuple(Button(label, Action(flow, step, value, ref).encode()) for label, value in choices),
    )
