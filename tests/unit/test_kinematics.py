"""Forward kinematics of the exercise figures: angles to points, checked against trigonometry,
and the shipped poses checked for resting on the floor the way the exercise says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.content import load_library
from bot.pictures.kinematics import (
    ANKLE_HEIGHT,
    LOWER_TRUNK,
    SHIN,
    THIGH,
    UPPER_TRUNK,
    Angles,
    anchor,
    angles_of,
    forward,
    mix,
    place,
    scene,
    tween,
)

REAL_CONTENT = Path(__file__).resolve().parents[2] / "content"
LIBRARY = load_library(REAL_CONTENT)


def close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return math.dist(a, b) < 1e-9


def test_standing_straight_is_a_vertical_line() -> None:
    body = forward(Angles())
    assert close(body["near_knee"], (0.0, -THIGH))
    assert close(body["near_ankle"], (0.0, -THIGH - SHIN))
    assert close(body["shoulder"], (0.0, LOWER_TRUNK + UPPER_TRUNK))
    # The foot points forward (+x) from below the ankle.
    heel, toe = body["near_heel"], body["near_toe"]
    assert heel[1] == pytest.approx(toe[1]) == pytest.approx(-THIGH - SHIN - ANKLE_HEIGHT)
    assert heel[0] < 0 < toe[0]
    # Standing, the soles are on the floor.
    assert place(Angles()).touching() >= {"near_heel", "near_toe", "far_heel", "far_toe"}


def test_straight_leg_raised_sixty_degrees_lying_down() -> None:
    # Lying on the back (trunk -90: head to the left), the leg lifted 60° from the floor.
    body = forward(Angles(trunk=-90, near_hip=60))
    leg = THIGH + SHIN
    assert close(
        body["near_ankle"], (leg * math.cos(math.radians(60)), leg * math.sin(math.radians(60)))
    )
    assert close(body["far_ankle"], (leg, 0.0))  # the other leg stays on the floor line
    assert close(body["shoulder"], (-(LOWER_TRUNK + UPPER_TRUNK), 0.0))


def test_knee_bends_the_shin_back_and_the_ankle_pulls_the_toes_up() -> None:
    sitting = forward(Angles(near_hip=90, near_knee=90))
    assert close(sitting["near_knee"], (THIGH, 0.0))  # thigh straight ahead
    assert close(sitting["near_ankle"], (THIGH, -SHIN))  # shin straight down
    up = forward(Angles(near_ankle=20))
    flat = forward(Angles())
    assert up["near_toe"][1] > flat["near_toe"][1]  # toes pulled up are higher


def test_rounded_spine_moves_the_shoulders_forward() -> None:
    neutral = forward(Angles(trunk=45))
    rounded = forward(Angles(trunk=45, spine=60))
    assert rounded["mid_back"] == neutral["mid_back"]
    assert rounded["shoulder"][0] > neutral["shoulder"][0]
    assert rounded["shoulder"][1] < neutral["shoulder"][1]


def test_arm_flexion_raises_the_arm_forward_then_overhead() -> None:
    shoulder = forward(Angles())["shoulder"]
    forward_reach = forward(Angles(near_shoulder=90))["near_hand"]
    overhead = forward(Angles(near_shoulder=180))["near_hand"]
    assert forward_reach[1] == pytest.approx(shoulder[1]) and forward_reach[0] > 0
    assert overhead[0] == pytest.approx(0.0, abs=1e-9) and overhead[1] > shoulder[1]


angle = st.floats(min_value=-40, max_value=140)


@given(a=angle, b=angle, t=st.floats(min_value=0, max_value=1))
def test_mix_stays_between_the_two_poses(a: float, b: float, t: float) -> None:
    mixed = mix(Angles(near_hip=a), Angles(near_hip=b), t).near_hip
    assert min(a, b) - 1e-9 <= mixed <= max(a, b) + 1e-9


@given(trunk=st.floats(-180, 180), hip=angle, knee=st.floats(0, 160))
def test_placed_body_rests_on_the_floor(trunk: float, hip: float, knee: float) -> None:
    body = place(Angles(trunk=trunk, near_hip=hip, near_knee=knee))
    assert body.lowest() == pytest.approx(0.0, abs=1e-9)
    assert body.touching()


def test_tween_goes_there_and_back_through_the_key_positions() -> None:
    a, b, c = Angles(), Angles(trunk=30), Angles(trunk=60)
    frames = tween([a, b, c], steps=4)
    assert len(frames) == 16  # a→b→c→b→a, 4 frames each, the last a left for the loop
    assert frames[0] == a and frames[4] == b and frames[8] == c and frames[12] == b


# --- the shipped poses ---------------------------------------------------------------------

# What each exercise rests on in every key position: the point a movement pivots on.
ANCHORS = {
    "90-90-active-hamstring": "hip",
    "active-straight-leg-raise": "hip",
    "dead-bug": "hip",
    "supine-pelvic-tilt": "near_heel",
    "glute-bridge": "near_heel",
    "bird-dog": "near_toe",
    "hip-hinge-dowel": "near_heel",
    "kettlebell-romanian-deadlift": "near_heel",
    "plate-elevated-hamstring": "near_heel",
    "single-leg-rdl-supported": "near_heel",
}


def test_every_exercise_has_an_anchor_listed() -> None:
    assert set(ANCHORS) == set(LIBRARY.exercises)


@pytest.mark.parametrize("ex_id", sorted(ANCHORS))
def test_shipped_poses_rest_where_the_exercise_says(ex_id: str) -> None:
    exercise = LIBRARY.exercise(ex_id)
    keys = [angles_of(p) for p in exercise.figure.positions]
    assert anchor(keys) == ANCHORS[ex_id]
    bodies = scene(keys)
    for body in bodies:
        touching = body.touching()
        if exercise.position == "floor" and ex_id not in ("bird-dog",):
            assert "head" in touching or "shoulder" in touching, (ex_id, touching)
        else:  # standing or on all fours: the feet or knees carry the weight
            assert touching & {"near_heel", "near_toe", "near_knee"}, (ex_id, touching)
    # Standing work keeps the standing foot where it is through the whole movement.
    if exercise.position != "floor":
        heels = [b["near_heel"] for b in bodies]
        assert all(close(h, heels[0]) or math.dist(h, heels[0]) < 0.01 for h in heels)


def test_both_feet_flat_in_the_standing_hinges() -> None:
    for ex_id in ("hip-hinge-dowel", "kettlebell-romanian-deadlift"):
        for body in scene([angles_of(p) for p in LIBRARY.exercise(ex_id).figure.positions]):
            assert {"near_heel", "near_toe", "far_heel", "far_toe"} <= body.touching(), ex_id


def test_toe_touch_rounds_the_back_the_hinge_does_not() -> None:
    toe_touch = next(a for a in LIBRARY.avoid if a.id == "standing-toe-touch")
    assert toe_touch.figure is not None and toe_touch.figure_beside == "hip-hinge-dowel"
    assert toe_touch.figure.positions[-1].spine >= 45
    hinge = LIBRARY.exercise("hip-hinge-dowel").figure.positions[-1]
    assert hinge.spine == 0 and hinge.trunk >= 45
