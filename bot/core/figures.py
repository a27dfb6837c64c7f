"""The figure of an exercise as content: a side-view body given by joint angles for two or more
key positions, its props, a short cue label and whether the neutral-spine line is drawn.

The body faces right when standing. Every angle is in degrees:

- `trunk`: the lower trunk (pelvis to mid-back) from vertical, positive leaning forward
  (towards the face): 0 standing, -90 lying on the back (head left), 90 face down.
- `spine`: the upper trunk against the lower: 0 neutral, positive rounded (flexed), negative
  arched.
- `neck`: the head against the upper trunk, positive chin towards the chest.
- legs: `hip` flexion (0 the thigh in line with the trunk, positive forward), `knee` flexion
  (0 straight), `ankle` (0 the foot square to the shin, positive toes pulled up).
- arms: `shoulder` flexion (0 hanging along the trunk, 90 forward, 180 overhead), `elbow`
  flexion (0 straight).

The ranges are what a body does without forcing, so a typo such as `knee: 190` is reported.
Drawing lives in `bot.pictures`; this module is only the schema and its checks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# A label written on a picture shown on a phone: a few words only.
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]

Prop = Literal["floor", "mat", "strap", "plate", "dowel", "rack", "kettlebell"]
MAX_POSITIONS = 4


class _Model(BaseModel):
    # The same rules as bot.core.content's models: shared, misspellings reported, no coercion.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Leg(_Model):
    hip: float = Field(default=0, ge=-40, le=140)
    knee: float = Field(default=0, ge=0, le=160)
    ankle: float = Field(default=0, ge=-50, le=35)


class Arm(_Model):
    shoulder: float = Field(default=0, ge=-60, le=190)
    elbow: float = Field(default=0, ge=0, le=160)


class Pose(_Model):
    name: Label  # what the position is, e.g. "knee bent to 90°": panel label and alt text
    trunk: float = Field(ge=-180, le=180)
    spine: float = Field(default=0, ge=-30, le=80)
    neck: float = Field(default=0, ge=-60, le=70)
    near_leg: Leg = Leg()
    far_leg: Leg | None = None  # None: the same as the near leg
    near_arm: Arm = Arm()
    far_arm: Arm | None = None  # None: the same as the near arm


class Figure(_Model):
    label: Label  # the cue that matters most, as a few words on the picture
    spine_line: bool = False  # draw the neutral-spine line along the back
    props: list[Prop] = []
    positions: list[Pose] = Field(min_length=2, max_length=MAX_POSITIONS)


def figure_problems(figure: Figure) -> list[tuple[str, str]]:
    """(field path inside the figure, reason) for what the schema alone cannot see."""
    problems: list[tuple[str, str]] = []
    names: set[str] = set()
    for i, pose in enumerate(figure.positions):
        if pose.name in names:
            problems.append((f"positions.{i}.name", f"'{pose.name}' names an earlier position"))
        names.add(pose.name)
    props: set[str] = set()
    for i, prop in enumerate(figure.props):
        if prop in props:
            problems.append((f"props.{i}", f"'{prop}' is already listed"))
        props.add(prop)
    return problems
