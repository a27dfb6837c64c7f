"""The routine and reminder texts: the key cue of each exercise, "neutral" said and explained,
the minutes of the dose actually given (the lighter one on a lighter day), and all of it on one
phone screen."""

from __future__ import annotations

import re

import pytest

from bot.core.content import Exercise, Library, Program, load_library
from bot.core.reminder_plan import Kind
from bot.core.texts import (
    NEUTRAL_BACK,
    ROUTINE_BACK_LINE,
    exercise_caption,
    exercise_text,
    help_text,
    phase_headline,
    routine_minutes,
    routine_reply,
)
from bot.service.reminder_message import reminder_text
from tests.unit.test_content import REAL_CONTENT

LIBRARY: Library = load_library(REAL_CONTENT)
PROGRAM: Program = LIBRARY.default_program()
PHASES = range(len(PROGRAM.phases))


def cues_shown(text: str) -> dict[str, list[str]]:
    """Exercise name -> the cue lines under it in a routine text."""
    shown: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if found := re.match(r"\d+\. (.+?): ", line):
            current = found.group(1)
            shown[current] = []
        elif line.startswith("   "):
            shown[current].append(line.removeprefix("   "))
    return shown


@pytest.mark.parametrize("lighter", [False, True])
@pytest.mark.parametrize("index", PHASES)
def test_routine_shows_the_key_cue_of_each_exercise(index: int, lighter: bool) -> None:
    text = routine_reply(LIBRARY, PROGRAM, index, lighter=lighter, private=True).text
    shown = cues_shown(text)
    assert len(shown) == len(PROGRAM.phases[index].routine)
    for item in PROGRAM.phases[index].routine:
        exercise = LIBRARY.exercise(item.exercise)
        assert shown[exercise.name] == [exercise.key_cues[0]]  # the rest: /exercise, pictures


@pytest.mark.parametrize("lighter", [False, True])
@pytest.mark.parametrize("index", PHASES)
def test_routine_fits_one_phone_screen(index: int, lighter: bool) -> None:
    reply = routine_reply(LIBRARY, PROGRAM, index, lighter=lighter, private=True)
    assert len(reply.text) < 600, len(reply.text)
    assert len(reply.text.splitlines()) <= 12


def test_exercise_caption_is_short_and_keeps_the_key_cue_and_dose() -> None:
    for exercise in LIBRARY.exercises.values():
        caption = exercise_caption(exercise)
        assert exercise.key_cues[0] in caption and exercise.dose.describe() in caption
        assert len(caption) < 120 < len(exercise_text(exercise)), exercise.id


def test_the_cue_that_matters_most_is_no_longer_dropped() -> None:
    aslr = LIBRARY.exercise("active-straight-leg-raise")
    pelvis = "Lift only as high as the pelvis stays still"
    assert pelvis not in aslr.cues[:2]  # third in the file, so a plain cues[:2] dropped it
    text = routine_reply(LIBRARY, PROGRAM, 0, lighter=False, private=True).text
    assert cues_shown(text)[aslr.name][0] == pelvis


def test_every_shipped_exercise_marks_its_most_important_cue() -> None:
    key = {ex.id: ex.key_cues for ex in LIBRARY.exercises.values()}
    assert key["active-straight-leg-raise"] == ["Lift only as high as the pelvis stays still"]
    # The spine cue is the key one wherever the back is the point: the 90-90, the pelvic
    # tilt that teaches neutral, the dead bug and every hinge.
    for ex_id in (
        "90-90-active-hamstring",
        "supine-pelvic-tilt",
        "dead-bug",
        "hip-hinge-dowel",
        "kettlebell-romanian-deadlift",
        "single-leg-rdl-supported",
        "plate-elevated-hamstring",
    ):
        assert "neutral" in key[ex_id][0], ex_id
    assert all(cues for cues in key.values())


def test_exercise_text_lists_the_key_cue_first() -> None:
    aslr = LIBRARY.exercise("active-straight-leg-raise")
    lines = exercise_text(aslr).splitlines()
    at = lines.index("Cues (most important first):")
    assert lines[at + 1] == "- Lift only as high as the pelvis stays still"
    assert len([line for line in lines[at + 1 :] if line[2:] in aslr.cues]) == len(aslr.cues)


def content_texts(exercise: Exercise) -> list[str]:
    faults = [text for f in exercise.faults for text in (f.fault, f.fix)]
    return [exercise.purpose, *exercise.setup, *exercise.steps, *exercise.cues, *faults]


def test_content_says_neutral_not_flat() -> None:
    program_texts = [PROGRAM.description] + [p.goal for p in PROGRAM.phases]
    texts = program_texts + [t for ex in LIBRARY.exercises.values() for t in content_texts(ex)]
    # "Flat" is left only for the feet and for the fault of flattening the back on purpose.
    flat = [t for t in texts if re.search(r"flat", t.replace("feet flat", ""), re.IGNORECASE)]
    assert flat == ["The hips lift off the mat to flatten the back."]
    assert "neutral" in PROGRAM.description


@pytest.mark.parametrize("index", PHASES)
def test_routine_says_neutral_and_explains_it(index: int) -> None:
    text = routine_reply(LIBRARY, PROGRAM, index, lighter=False, private=True).text
    assert text.endswith(ROUTINE_BACK_LINE)
    assert "natural small curve" in ROUTINE_BACK_LINE and "pelvis still" in ROUTINE_BACK_LINE
    assert "5/10" in ROUTINE_BACK_LINE and "numbness or tingling" in ROUTINE_BACK_LINE
    assert "flat and neutral" not in text
    assert "natural small curve" in NEUTRAL_BACK and "pelvis still" in NEUTRAL_BACK
    assert NEUTRAL_BACK in help_text()


def header_minutes(text: str) -> int:
    found = re.search(r"\(about (\d+) min\)", text.splitlines()[0])
    assert found, text
    return int(found.group(1))


def item_minutes_shown(text: str) -> float:
    return sum(float(m) for m in re.findall(r"\(~([\d.]+) min\)", text))


@pytest.mark.parametrize("index", PHASES)
def test_lighter_routine_shows_the_lighter_minutes(index: int) -> None:
    phase = PROGRAM.phases[index]
    full = routine_reply(LIBRARY, PROGRAM, index, lighter=False, private=True).text
    light = routine_reply(LIBRARY, PROGRAM, index, lighter=True, private=True).text
    assert header_minutes(full) == routine_minutes(LIBRARY, phase)
    assert header_minutes(light) == routine_minutes(LIBRARY, phase, lighter=True)
    assert header_minutes(light) < header_minutes(full)
    # The header is the sum of the items listed (each rounded to the half minute).
    for text in (full, light):
        assert abs(header_minutes(text) - item_minutes_shown(text)) <= 1, text


def test_full_dose_headlines_keep_their_minutes() -> None:
    """The minutes left the YAML headlines; counted from the routines they are what they were."""
    headlines = [phase_headline(LIBRARY, phase) for phase in PROGRAM.phases]
    assert headlines == [
        "Floor work: pelvic tilts, 90-90 stretch, leg raises and bridges, ~11 min",
        "Standing work: leg raises, bird dogs, dowel hinges and the plate stretch, ~13 min",
        "Loaded hinges: dowel warm-up, light RDLs, single-leg RDLs, plate stretch, ~14 min",
    ]


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("index", PHASES)
def test_reminder_minutes_match_the_routine_it_opens(index: int, kind: Kind) -> None:
    for lighter in (False, True):
        reminder = reminder_text(LIBRARY, PROGRAM.id, index, lighter, kind)
        routine = routine_reply(LIBRARY, PROGRAM, index, lighter=lighter, private=True).text
        minutes = re.findall(r"~(\d+) min", reminder)
        assert minutes == [str(header_minutes(routine))], reminder
        assert ("Lighter dose today." in reminder) == lighter
