"""The progress chart: nothing to draw gives None, otherwise a phone-sized PNG that decodes."""

from __future__ import annotations

import struct
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import matplotlib.image
from matplotlib.lines import Line2D

from bot.charts import (
    MORNING_COLOUR,
    SIZE_PX,
    ChartPoint,
    PhaseMark,
    draw_progress,
    headline,
    marks_from_decisions,
    points_from_checkins,
    render_progress,
    render_progress_async,
)

TODAY = date(2027, 3, 1)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def eight_weeks(count: int = 60) -> list[ChartPoint]:
    start = TODAY - timedelta(days=55)
    points = []
    for i in range(count):
        day = start + timedelta(days=i * 55 // (count - 1))
        comfort = None if i % 7 == 3 else min(10, 3 + i // 12)
        points.append(ChartPoint(day, max(0, 6 - i // 10), comfort))
    return points


def test_nothing_to_draw_gives_none(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    assert render_progress([], [], TODAY, out) is None
    assert not out.exists()
    # Check-ins older than the window are nothing to draw either.
    old = [ChartPoint(TODAY - timedelta(days=200), 4, 5)]
    assert render_progress(old, [], TODAY, out) is None


def test_one_checkin_gives_a_phone_sized_png(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "chart.png"
    result = render_progress([ChartPoint(TODAY, 5, None)], [], TODAY, out)
    assert result == out
    assert png_size(out) == SIZE_PX == (1080, 1350)
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (1350, 1080)
    assert image.std() > 0  # something is drawn, not a blank canvas


def test_eight_weeks_with_phase_marks(tmp_path: Path) -> None:
    points = eight_weeks()
    marks = [
        PhaseMark(TODAY - timedelta(days=35), "Phase 2: Standing work"),
        PhaseMark(TODAY - timedelta(days=10), "Back to phase 1"),
        PhaseMark(TODAY - timedelta(days=300), "Outside the window"),
    ]
    out = render_progress(points, marks, TODAY, tmp_path / "chart.png")
    assert out is not None
    assert png_size(out) == SIZE_PX
    assert matplotlib.image.imread(out).shape[:2] == (1350, 1080)


def test_same_size_whatever_the_labels(tmp_path: Path) -> None:
    """No tight bounding box: a long label or title never changes the image size."""
    long = [PhaseMark(TODAY - timedelta(days=3), "Phase 3: Loaded hinges " * 3)]
    out = render_progress(eight_weeks(12), long, TODAY, tmp_path / "long.png", weeks=4)
    assert out is not None and png_size(out) == SIZE_PX


async def test_async_renders_off_the_event_loop(tmp_path: Path) -> None:
    out = await render_progress_async(eight_weeks(), [], TODAY, tmp_path / "a.png")
    assert out is not None and png_size(out) == SIZE_PX
    assert await render_progress_async([], [], TODAY, tmp_path / "b.png") is None


def test_threads_render_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def draw(i: int) -> None:
        try:
            out = render_progress(eight_weeks(), [], TODAY, tmp_path / f"{i}.png")
            assert out is not None and png_size(out) == SIZE_PX
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def series(pains: list[int], comforts: list[int | None]) -> list[ChartPoint]:
    start = TODAY - timedelta(days=2 * len(pains))
    return [
        ChartPoint(start + timedelta(days=2 * i), pain, comfort)
        for i, (pain, comfort) in enumerate(zip(pains, comforts, strict=True))
    ]


def test_headline_improving() -> None:
    points = series([5, 5, 5, 4, 3, 2, 2, 3], [3, 3, 4, 5, 5, 6, 6, 7])
    assert headline(points) == "Pain down from 5.0 to 2.3, comfort up 3 points"


def test_headline_worsening() -> None:
    points = series([2, 2, 3, 4, 5, 5], [6, 6, 6, 5, 4, 4])
    assert headline(points) == "Pain up from 2.3 to 4.7, comfort down 1.7 points"


def test_headline_flat() -> None:
    points = series([3, 3, 3, 3, 4, 3], [5, 5, 5, 5, 5, 5])
    assert headline(points) == "Pain steady around 3.3, comfort steady"


def test_headline_without_lifting() -> None:
    points = series([6, 6, 5, 4, 3, 3], [None] * 6)
    assert headline(points) == "Pain down from 5.7 to 3.3"


def test_headline_first_days() -> None:
    assert headline([]) == "No check-ins yet"
    assert headline([ChartPoint(TODAY, 4, 5)]) == "First check-in logged: keep going"
    week = [ChartPoint(TODAY - timedelta(days=d), 4, 5) for d in (0, 2, 4)]
    assert headline(week) == "First week logged: keep going"


def test_headline_looks_only_at_the_window() -> None:
    old = [ChartPoint(TODAY - timedelta(days=120 + d), 9, 1) for d in range(5)]
    recent = series([3, 3, 3, 3, 3], [6, 6, 6, 6, 6])
    assert headline(old + recent, weeks=8) == "Pain steady around 3.0, comfort steady"


def test_rows_to_points_and_marks() -> None:
    rows = [
        SimpleNamespace(local_date=TODAY, pain_during=3, comfort=6, lifted=True, morning_pain=2),
        SimpleNamespace(
            local_date=TODAY, pain_during=2, comfort=None, lifted=False, morning_pain=None
        ),
    ]
    assert points_from_checkins(rows) == [
        ChartPoint(TODAY, 3, 6, morning_pain=2),
        ChartPoint(TODAY, 2, None),
    ]
    berlin = ZoneInfo("Europe/Berlin")
    late = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)  # already 1 March in Berlin
    decisions = [
        SimpleNamespace(at=late, phase_from=0, phase_to=1),
        SimpleNamespace(at=late, phase_from=1, phase_to=1),  # a hold: no mark
        SimpleNamespace(at=late, phase_from=1, phase_to=0),
    ]
    names = ["Floor work", "Standing work", "Loaded hinges"]
    assert marks_from_decisions(decisions, names, berlin) == [
        PhaseMark(TODAY, "Phase 2: Standing work"),
        PhaseMark(TODAY, "Back to phase 1"),
    ]


def lines_by_label(points: list[ChartPoint], today: date = TODAY) -> dict[str, Line2D]:
    fig = draw_progress(points, [], today)
    assert fig is not None
    top = fig.axes[0]
    legend = top.get_legend()
    assert legend is not None
    shown = [text.get_text() for text in legend.get_texts()]
    lines = {str(line.get_label()): line for line in top.get_lines() if line.get_label()[0] != "_"}
    assert sorted(shown) == sorted(lines)  # every drawn series has its legend entry
    return lines


def test_morning_pain_is_its_own_series_on_the_morning_after() -> None:
    start = TODAY - timedelta(days=10)
    points = [
        ChartPoint(start, 4, 6, morning_pain=5),
        ChartPoint(start + timedelta(days=3), 3, None),  # morning not answered
        ChartPoint(start + timedelta(days=6), 3, 7, morning_pain=2),
    ]
    lines = lines_by_label(points)
    assert set(lines) == {"Back pain during", "Morning back pain", "Deadlift comfort"}
    morning, pain = lines["Morning back pain"], lines["Back pain during"]
    # Plotted on the day the morning describes: one day after each session's point.
    assert list(morning.get_xdata()) == [45.0 + 1, 51.0 + 1]
    assert list(pain.get_xdata()) == [45.0, 48.0, 51.0]
    assert list(morning.get_ydata()) == [5, 2]
    # Told apart without colour too: its own marker and dash, and a colour-blind-safe colour.
    others = [lines["Back pain during"], lines["Deadlift comfort"]]
    assert morning.get_marker() not in {line.get_marker() for line in others}
    assert morning.get_linestyle() not in {line.get_linestyle() for line in others}
    assert morning.get_color() == MORNING_COLOUR


def test_no_morning_answers_no_morning_line() -> None:
    lines = lines_by_label([ChartPoint(TODAY - timedelta(days=2), 4, None)])
    assert set(lines) == {"Back pain during"}
    # Only mornings that have come: a session today has no morning to draw yet.
    lines = lines_by_label([ChartPoint(TODAY, 4, None, morning_pain=3)])
    assert "Morning back pain" not in lines
