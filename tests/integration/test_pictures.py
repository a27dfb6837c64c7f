"""Every shipped exercise drawn from content: a still and a looping animation of the right
size, cached on disk (drawn once), drawn off the event loop, with alt text; the service helper
that picks the pictures for /exercise, /routine and the toe-touch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from bot.core.content import load_library
from bot.pictures import style
from bot.pictures.store import PictureStore
from bot.service import pictures

REAL_CONTENT = Path(__file__).resolve().parents[2] / "content"
LIBRARY = load_library(REAL_CONTENT)
IDS = sorted(LIBRARY.exercises)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> PictureStore:
    """Every exercise's still and animation, drawn once for this module."""
    store = PictureStore(tmp_path_factory.mktemp("pictures"))
    for exercise in LIBRARY.exercises.values():
        store.still_now(exercise)
        store.animation_now(exercise)
    return store


@pytest.mark.parametrize("ex_id", IDS)
def test_every_exercise_has_a_still_for_a_phone(drawn: PictureStore, ex_id: str) -> None:
    path = drawn.still_path(LIBRARY.exercise(ex_id))
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == style.STILL_PX
        # Dark-mode friendly: the corners are the dark-neutral background, not white.
        assert image.convert("RGB").getpixel((2, 2)) == (0x24, 0x27, 0x2C)


@pytest.mark.parametrize("ex_id", IDS)
def test_every_exercise_has_a_looping_animation(drawn: PictureStore, ex_id: str) -> None:
    exercise = LIBRARY.exercise(ex_id)
    positions = len(exercise.figure.positions)
    with Image.open(drawn.animation_path(exercise)) as gif:
        assert gif.format == "GIF"
        assert gif.size == style.ANIMATION_PX
        assert gif.n_frames == 2 * (positions - 1) * style.STEPS >= 8
        assert gif.info["loop"] == 0  # forever
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
    assert durations[0] == style.KEY_MS  # a pause on the start position
    assert durations[style.STEPS] == style.KEY_MS  # and on the next key position
    assert durations[1] == style.STEP_MS
    first, middle = (
        _frame(drawn.animation_path(exercise), 0),
        _frame(drawn.animation_path(exercise), style.STEPS),
    )
    assert first != middle  # the figure moves


def _frame(path: Path, index: int) -> bytes:
    with Image.open(path) as gif:
        gif.seek(index)
        return gif.convert("RGB").tobytes()


def test_each_exercise_has_its_own_files(drawn: PictureStore) -> None:
    files = {drawn.still_path(e) for e in LIBRARY.exercises.values()}
    files |= {drawn.animation_path(e) for e in LIBRARY.exercises.values()}
    assert len(files) == 2 * len(IDS)
    assert drawn.renders == 2 * len(IDS)
    # Nothing half-written is left behind.
    assert not [p for p in drawn.folder.iterdir() if p.name.startswith(".")]


def test_an_edited_pose_gets_a_new_file_and_an_unchanged_one_does_not() -> None:
    store = PictureStore(Path("/nonexistent"))
    exercise = LIBRARY.exercise("active-straight-leg-raise")
    same = load_library(REAL_CONTENT).exercise("active-straight-leg-raise")
    assert store.still_path(exercise) == store.still_path(same)
    pose = exercise.figure.positions[1]
    lifted = pose.model_copy(update={"near_leg": pose.near_leg.model_copy(update={"hip": 60})})
    figure = exercise.figure.model_copy(
        update={"positions": [exercise.figure.positions[0], lifted]}
    )
    edited = exercise.model_copy(update={"figure": figure})
    assert store.still_path(edited) != store.still_path(exercise)
    assert store.still_path(edited).name.startswith("active-straight-leg-raise-")


async def test_cached_picture_is_not_drawn_again(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    exercise = LIBRARY.exercise("glute-bridge")
    # Two requests at once draw it once (a lock per picture).
    first, second = await asyncio.gather(store.still(exercise), store.still(exercise))
    assert first == second and first.is_file()
    assert store.renders == 1
    stamp = first.stat().st_mtime_ns
    assert await store.still(exercise) == first
    assert store.renders == 1
    # A new process (a new store) finds the file on disk and does not draw it either.
    again = PictureStore(tmp_path)
    assert await again.still(exercise) == first
    assert again.renders == 0
    assert first.stat().st_mtime_ns == stamp


async def test_drawing_does_not_block_the_event_loop(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    task = asyncio.create_task(ticker())
    await store.animation(LIBRARY.exercise("bird-dog"))
    task.cancel()
    # The loop kept turning while the GIF was drawn in a worker thread.
    assert ticks > 10


async def test_service_pictures_for_exercise_routine_and_toe_touch(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    exercise = LIBRARY.exercise("90-90-active-hamstring")
    still, animation = await pictures.for_exercise(store, exercise)
    assert (still.kind, animation.kind) == ("still", "animation")
    assert still.path.suffix == ".png" and animation.path.suffix == ".gif"
    for picture in (still, animation):
        assert picture.path.is_file()
        assert picture.alt.endswith(".") and picture.alt.count(". ") == 0  # one sentence
        assert "90-90 active hamstring stretch" in picture.alt
        assert "hip and knee at 90°" in picture.alt

    phase = LIBRARY.default_program().phases[0]
    album = await pictures.for_routine(store, LIBRARY, phase)
    assert [p.kind for p in album] == ["still"] * len(phase.routine)
    assert [p.path for p in album] == [
        store.still_path(LIBRARY.exercise(item.exercise)) for item in phase.routine
    ]

    toe_touch = LIBRARY.avoid_for("should I touch my toes?")
    assert toe_touch is not None
    (pair,) = await pictures.for_avoid(store, LIBRARY, toe_touch)
    assert "crossed out" in pair.alt and "hip hinge" in pair.alt.lower()
    with Image.open(pair.path) as image:
        assert image.size == style.STILL_PX
        # The cross is drawn in vermillion, the colour the still of the hinge alone lacks.
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20) or []}
    assert (0xD5, 0x5E, 0x00) in colours


def test_matplotlib_is_loaded_only_to_draw() -> None:
    import subprocess
    import sys

    code = "import sys, bot.service.pictures; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
