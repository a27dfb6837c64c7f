"""/progress shows the next-morning pain: in words and as its own line on the chart."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np

from bot.charts import MORNING_COLOUR
from bot.service.coach import Coach
from tests.chat import Chat, FakeClock


def pixels_of(picture: Path, colour: str) -> int:
    """How many pixels of the PNG are exactly `colour` ("#RRGGBB")."""
    image = matplotlib.image.imread(picture)[:, :, :3]
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return int(np.all(np.abs(image - rgb) < 1 / 255, axis=2).sum())


async def progress(chat: Chat) -> tuple[str, Path | None]:
    await chat.say("/progress")
    text = "\n".join(r.text for r in chat.last if r.image is None)
    pictures = [r.image for r in chat.last if r.image is not None]
    return text, pictures[-1] if pictures else None


async def test_morning_answers_show_up_in_progress(
    coach_on: Coach, clock: FakeClock, tmp_path: Path
) -> None:
    coach_on.charts_dir = tmp_path
    chat = Chat(coach_on)
    await chat.onboard(pain=4)
    await chat.say("/checkin 4 yes 6")
    text, picture = await progress(chat)
    assert "Morning back pain: not enough mornings answered yet." in text
    assert picture is not None and pixels_of(picture, MORNING_COLOUR) == 0

    clock.advance(days=1)
    await chat.say("/progress")  # the morning question comes first
    assert "this morning" in chat.text
    await chat.press("4")
    text, _ = await progress(chat)
    assert "Morning back pain: not enough mornings answered yet." in text
    await chat.say("/checkin 3 yes 6")

    clock.advance(days=1)
    await chat.say("/progress")
    assert "this morning" in chat.text
    await chat.press("1")
    text, picture = await progress(chat)
    # The first morning was 4, the latest 1: lower is better, 3 points is meaningful.
    assert "Morning back pain: 4.0 -> 1.0, better (a meaningful change)." in text
    assert "Pain during the routine: 4.0 -> 3.0, better." in text
    # Two answered mornings: the chart draws their line (a single point has no line of its
    # own, but its marker is drawn too).
    assert picture is not None and pixels_of(picture, MORNING_COLOUR) > 100
