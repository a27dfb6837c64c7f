"""Forward kinematics: a pose's joint angles to 2-D points of a side-view body. Pure: no drawing.

Units are body heights (standing, the top of the head is about 1.0 above the floor), x to the
right (where a standing body faces), y up. A direction is an angle from straight up, positive
turning towards +x, so `direction(90)` is (1, 0). The angle conventions are those of
`bot.core.figures`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

from bot.core.figures import Pose

Point = tuple[float, float]

# Segment lengths in body heights (adult proportions, rounded).
THIGH = 0.245
SHIN = 0.245
ANKLE_HEIGHT = 0.045  # ankle joint above the sole
HEEL = 0.035  # heel behind the ankle
FOOT = 0.13  # ball of the foot in front of the ankle
LOWER_TRUNK = 0.15  # hip joint to mid-back
UPPER_TRUNK = 0.15  # mid-back to the base of the neck
NECK = 0.05
HEAD_RADIUS = 0.065
UPPER_ARM = 0.17
FOREARM = 0.17  # elbow to the middle of the hand

# How far the body's surface lies from each point (half its thickness there): the floor
# touches the surface, not the joint centre.
SURFACE = {
    "hip": 0.06,
    "mid_back": 0.055,
    "shoulder": 0.05,
    "head": HEAD_RADIUS,
    "knee": 0.035,
    "ankle": 0.03,
    "elbow": 0.03,
    "hand": 0.025,
    "heel": 0.0,
    "toe": 0.0,
}
SIDES = ("near", "far")


@dataclass(frozen=True)
class Angles:
    """Every joint angle of one pose, both sides spelt out (the content may leave the far side
    out to mean "the same as the near side")."""

    trunk: float = 0.0
    spine: float = 0.0
    neck: float = 0.0
    near_hip: float = 0.0
    near_knee: float = 0.0
    near_ankle: float = 0.0
    far_hip: float = 0.0
    far_knee: float = 0.0
    far_ankle: float = 0.0
    near_shoulder: float = 0.0
    near_elbow: float = 0.0
    far_shoulder: float = 0.0
    far_elbow: float = 0.0


def angles_of(pose: Pose) -> Angles:
    far_leg = pose.far_leg or pose.near_leg
    far_arm = pose.far_arm or pose.near_arm
    return Angles(
        trunk=pose.trunk,
        spine=pose.spine,
        neck=pose.neck,
        near_hip=pose.near_leg.hip,
        near_knee=pose.near_leg.knee,
        near_ankle=pose.near_leg.ankle,
        far_hip=far_leg.hip,
        far_knee=far_leg.knee,
        far_ankle=far_leg.ankle,
        near_shoulder=pose.near_arm.shoulder,
        near_elbow=pose.near_arm.elbow,
        far_shoulder=far_arm.shoulder,
        far_elbow=far_arm.elbow,
    )


def mix(a: Angles, b: Angles, t: float) -> Angles:
    """The pose a fraction `t` of the way from `a` to `b` (each angle linearly)."""
    return Angles(**{f.name: _lerp(getattr(a, f.name), getattr(b, f.name), t) for f in fields(a)})


def ease(t: float) -> float:
    """Slow out of one position and slow into the next (smoothstep), as a controlled rep moves."""
    return t * t * (3 - 2 * t)


def direction(angle: float) -> Point:
    rad = math.radians(angle)
    return (math.sin(rad), math.cos(rad))


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _step(start: Point, angle: float, length: float) -> Point:
    dx, dy = direction(angle)
    return (start[0] + dx * length, start[1] + dy * length)


@dataclass(frozen=True)
class Body:
    """The points of one pose: "hip", "mid_back", "shoulder", "head" (the centre of the head),
    "nose" (a point on the face, so the picture shows which way the head faces), and per side
    ("near"/"far") "_knee", "_ankle", "_heel", "_toe", "_elbow", "_hand"."""

    points: dict[str, Point]
    trunk_angle: float  # direction of the lower trunk, for the neutral-spine line and the dowel

    def __getitem__(self, name: str) -> Point:
        return self.points[name]

    def moved(self, dx: float, dy: float) -> Body:
        moved = {k: (x + dx, y + dy) for k, (x, y) in self.points.items()}
        return replace(self, points=moved)

    def lowest(self) -> float:
        """The lowest point of the body's surface."""
        return min(
            y - SURFACE[_part(name)] for name, (_, y) in self.points.items() if name != "nose"
        )

    def on_floor(self) -> Body:
        """The body moved up or down so its lowest surface point rests on the floor (y = 0)."""
        return self.moved(0.0, -self.lowest())

    def touching(self, tolerance: float = 0.02) -> set[str]:
        """The points whose surface is on the floor (y = 0), within `tolerance`."""
        return {
            name
            for name, (_, y) in self.points.items()
            if name != "nose" and abs(y - SURFACE[_part(name)]) <= tolerance
        }


def _part(name: str) -> str:
    return name.split("_", 1)[1] if name.startswith(SIDES) else name


def forward(angles: Angles, hip: Point = (0.0, 0.0)) -> Body:
    """The body of `angles` with the hip joint at `hip`."""
    a = angles
    points: dict[str, Point] = {"hip": hip}
    mid = _step(hip, a.trunk, LOWER_TRUNK)
    upper = a.trunk + a.spine
    shoulder = _step(mid, upper, UPPER_TRUNK)
    head_angle = upper + a.neck
    head = _step(shoulder, head_angle, NECK + HEAD_RADIUS)
    points |= {"mid_back": mid, "shoulder": shoulder, "head": head}
    points["nose"] = _step(head, head_angle + 90, HEAD_RADIUS)  # the face is on the front
    for side in SIDES:
        hip_flexion, knee, ankle = (getattr(a, f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        thigh = a.trunk + 180 - hip_flexion
        shin = thigh + knee  # the knee bends the shin backwards
        foot = shin - 90 - ankle  # pulling the toes up turns the foot towards the shin
        knee_at = _step(hip, thigh, THIGH)
        ankle_at = _step(knee_at, shin, SHIN)
        sole = _step(ankle_at, foot + 90, ANKLE_HEIGHT)  # below the ankle, square to the foot
        points[f"{side}_knee"] = knee_at
        points[f"{side}_ankle"] = ankle_at
        points[f"{side}_heel"] = _step(sole, foot, -HEEL)
        points[f"{side}_toe"] = _step(sole, foot, FOOT)

        shoulder_flexion, elbow = (getattr(a, f"{side}_{j}") for j in ("shoulder", "elbow"))
        upper_arm = upper + 180 - shoulder_flexion
        forearm = upper_arm - elbow  # the elbow bends the forearm forwards
        elbow_at = _step(shoulder, upper_arm, UPPER_ARM)
        points[f"{side}_elbow"] = elbow_at
        points[f"{side}_hand"] = _step(elbow_at, forearm, FOREARM)
    return Body(points=points, trunk_angle=a.trunk)


def place(angles: Angles) -> Body:
    """The body of `angles` resting on the floor, its hip joint at x = 0."""
    return forward(angles).on_floor()


# What stays put through a movement, most telling first: the feet in standing work (the hips
# travel back in a hinge, the feet do not), a knee or hand on all fours, the back lying down.
ANCHORS = (
    "near_heel", "far_heel", "near_toe", "far_toe", "near_knee", "far_knee",
    "near_hand", "far_hand", "hip", "mid_back", "shoulder", "head",
)  # fmt: skip


def anchor(keys: Sequence[Angles]) -> str:
    """The first of ANCHORS on the floor in every key position ("hip" if none is)."""
    placed = [place(a) for a in keys]
    for name in ANCHORS:
        if all(name in body.touching() for body in placed):
            return name
    return "hip"


def scene(keys: Sequence[Angles], poses: Sequence[Angles] | None = None) -> list[Body]:
    """`poses` (default: the key positions) on the floor, moved sideways so the point that stays
    put through the key positions (see `anchor`) stays at x = 0 in all of them."""
    fixed = anchor(keys)
    bodies = [place(a) for a in (keys if poses is None else poses)]
    return [body.moved(-body[fixed][0], 0.0) for body in bodies]


def tween(positions: Sequence[Angles], steps: int) -> list[Angles]:
    """Key positions and `steps - 1` eased poses between each pair, there and back again
    (a rep), without repeating the first pose at the end so the loop joins smoothly."""
    if len(positions) < 2 or steps < 1:
        raise ValueError("need two positions and at least one step")
    there = list(positions)
    route = there + there[-2::-1]  # a, b, c, b, a
    frames: list[Angles] = []
    for a, b in zip(route, route[1:], strict=False):
        frames += [mix(a, b, ease(i / steps)) for i in range(steps)]
    return frames


def bounds(bodies: Iterable[Body]) -> tuple[float, float, float, float]:
    """(x min, x max, y min, y max) of the bodies' surfaces."""
    xs: list[float] = []
    ys: list[float] = []
    for body in bodies:
        for name, (x, y) in body.points.items():
            r = 0.0 if name == "nose" else SURFACE[_part(name)]
            xs += [x - r, x + r]
            ys += [y - r, y + r]
    return min(xs), max(xs), min(ys), max(ys)


def moving_point(first: Body, last: Body) -> str:
    """The hand or foot that moves furthest between two positions: the arrow follows it."""
    ends = [f"{side}_{part}" for side in SIDES for part in ("toe", "hand")] + ["head", "hip"]
    return max(ends, key=lambda n: math.dist(first[n], last[n]))
