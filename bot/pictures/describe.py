"""Alt text: one sentence per picture, for screen readers and for anyone whose picture does not
load. Built from the same content as the drawing, so it cannot drift from it."""

from __future__ import annotations

from bot.core.content import Avoid, Exercise


def still_alt(exercise: Exercise) -> str:
    positions = exercise.figure.positions
    return (
        f"Side-view drawing of the {exercise.name.lower()}: on the left {positions[0].name}, "
        f"on the right {positions[-1].name}, with an arrow along the movement; "
        f"key cue: {exercise.figure.label.lower()}."
    )


def animation_alt(exercise: Exercise) -> str:
    names = [pose.name for pose in exercise.figure.positions]
    return (
        f"Looping side-view animation of the {exercise.name.lower()}, moving slowly from "
        f"{' to '.join(names)} and back; key cue: {exercise.figure.label.lower()}."
    )


def avoid_alt(entry: Avoid, instead: Exercise) -> str:
    wrong = entry.figure.positions[-1].name if entry.figure is not None else entry.name
    return (
        f"Side-view drawing: on the left, crossed out, the {entry.name.partition(' (')[0].lower()}"
        f" ({wrong}); on the right, the {instead.name.lower()} that replaces it, "
        f"{instead.figure.positions[-1].name}."
    )
