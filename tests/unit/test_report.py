"""The shareable report: its words from plain data, and the PDF and PNG read back (text, page
count and size, colours drawn), the private folder, deletion and the worker thread."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread
from pypdf import PdfReader

from bot.core.adherence import adherence
from bot.reports import page
from bot.reports.data import (
    NOT_A_DIAGNOSIS,
    ActivityResult,
    DayValue,
    PhaseStep,
    ReportData,
    SafetyEvent,
    WeekDone,
    phase_steps,
    report_lines,
    safety_events,
    weekly_adherence,
)

START = date(2027, 1, 4)
MADE = date(2027, 3, 29)


def _data(**changes: object) -> ReportData:
    data = ReportData(
        made_on=MADE,
        started_on=START,
        program="Tight hamstrings and lower back",
        baseline_pain=6,
        latest_pain=3,
        latest_pain_on=MADE,
        pain_during=(
            DayValue(START, 5),
            DayValue(START + timedelta(days=2), 4),
            DayValue(date(2027, 3, 27), 2),
        ),  # fmt: skip
        morning_pain=(DayValue(START + timedelta(days=1), 4), DayValue(date(2027, 3, 28), 1)),
        activities=(
            ActivityResult("Deadlifting at my working weight", 3, 7),
            ActivityResult("Tying my shoes", 5, 6),
            ActivityResult("Getting out of the car", 4, None),
        ),
        adherence=(WeekDone(1, 3, 5), WeekDone(2, 5, 5), WeekDone(3, 0, 2)),
        phases=(
            PhaseStep(START, "Phase 1: Floor work", "start"),
            PhaseStep(date(2027, 1, 20), "Phase 2: Standing work", "6 sessions, mornings settled"),
        ),
        events=(SafetyEvent(date(2027, 2, 18), "Clinician review advised: pain down a leg"),),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


# --- the words ---------------------------------------------------------------------------


def test_report_lines_carry_the_data() -> None:
    lines = report_lines(_data())
    assert lines.subtitle.endswith("started 4 Jan 2027 · made 29 Mar 2027 (week 13)")
    assert lines.pain == (
        "Usual back pain (0-10) 6 → 3: 3 points better, a meaningful change "
        "(6/10 at the start, latest on 29 Mar 2027)."
    )
    assert lines.trends == (
        "Pain during the routine: 3 sessions, first 5, latest 2; "
        "morning back pain: 2 mornings, first 4, latest 1."
    )
    assert lines.activities == [
        "1. Deadlifting at my working weight 3 → 7: 4 points better, a meaningful change.",
        "2. Tying my shoes 5 → 6: 1 point better, not yet a meaningful change.",
        "3. Getting out of the car: 4 at the start, not rated again yet.",
        "Mean of the activities 4 → 6.5: 2.5 points better, a meaningful change.",
    ]
    assert lines.adherence == "Overall: 8 of 12 planned days done (67%)."
    assert lines.phases[1] == "20 Jan 2027 · Phase 2: Standing work · 6 sessions, mornings settled"
    assert lines.events == ["18 Feb 2027 · Clinician review advised: pain down a leg"]


def test_report_lines_before_anything_is_known() -> None:
    lines = report_lines(
        _data(
            baseline_pain=None,
            latest_pain=None,
            pain_during=(),
            morning_pain=(),
            activities=(),
            adherence=(),
            events=(),
        )  # fmt: skip
    )
    assert lines.pain == "Usual back pain: not rated at the start."
    assert lines.trends == "Pain during the routine: none yet; morning back pain: none yet."
    assert lines.activities == ["No activities chosen yet."]
    assert lines.adherence == "No planned days yet."
    assert lines.events == ["None recorded."]
    assert report_lines(_data(latest_pain=None)).pain == (
        "Usual back pain: 6/10 at the start; not reassessed yet (every 4 weeks)."
    )


def test_long_histories_keep_the_latest_and_count_the_rest() -> None:
    steps = tuple(PhaseStep(START + timedelta(days=i), f"Phase {i}", "x" * 200) for i in range(9))
    lines = report_lines(_data(phases=steps))
    assert lines.phases[0] == "… and 5 earlier entries"
    assert len(lines.phases) == 5 and lines.phases[-1].startswith("12 Jan 2027 · Phase 8")
    assert all(len(line) <= 110 for line in lines.phases)


# --- the files, read back ----------------------------------------------------------------


def _pdf_text(path: Path) -> tuple[int, str, tuple[float, float]]:
    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    return len(reader.pages), reader.pages[0].extract_text(), (float(box.width), float(box.height))


def test_pdf_is_one_a4_page_whose_text_is_the_data(tmp_path: Path) -> None:
    data = _data()
    files = page.render_report(data, tmp_path / "reports", 7)
    pages, text, size = _pdf_text(files.pdf)
    assert pages == 1
    assert size == pytest.approx((595.4, 841.7), abs=0.5)  # A4 in points
    flat = " ".join(text.split())
    lines = report_lines(data)
    for line in [lines.title, lines.subtitle, lines.pain, lines.trends, lines.rules,
                 lines.adherence, *lines.activities, *lines.phases, *lines.events]:  # fmt: skip
        assert " ".join(line.split()) in flat, line
    for bar in ("3/5", "5/5", "0/2"):  # the adherence bars' labels
        assert bar in flat
    assert " ".join(NOT_A_DIAGNOSIS.split()) in flat
    assert PdfReader(files.pdf).metadata.title == "Back progress report"


def _has_colour(pixels: object, colour: str) -> bool:
    import numpy as np

    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    image = np.asarray(pixels)[..., :3]
    return bool((np.abs(image - rgb).max(axis=-1) < 0.02).sum() > 50)


def test_png_is_the_same_page_at_phone_size(tmp_path: Path) -> None:
    files = page.render_report(_data(), tmp_path, 7)
    pixels = imread(files.png)
    assert (pixels.shape[1], pixels.shape[0]) == page.PNG_SIZE == (1240, 1753)
    for colour in (page.DURING_COLOUR, page.MORNING_COLOUR, page.LATEST_COLOUR, page.BAR_COLOUR):
        assert _has_colour(pixels, colour), colour
    # Without check-ins or activities, the lines and arrows are not drawn.
    bare = page.render_report(_data(pain_during=(), morning_pain=(), activities=()), tmp_path, 8)
    empty = imread(bare.png)
    for colour in (page.DURING_COLOUR, page.MORNING_COLOUR, page.LATEST_COLOUR):
        assert not _has_colour(empty, colour), colour


def test_the_fullest_report_still_fits_on_the_page() -> None:
    many = _data(
        activities=tuple(
            ActivityResult(f"Activity number {i} " + "w" * 20, i, 10 - i) for i in range(5)
        ),  # fmt: skip
        adherence=tuple(WeekDone(i, 4, 5) for i in range(1, 53)),
        phases=tuple(PhaseStep(START, "Phase 3: Loaded hinge", "y" * 300) for _ in range(20)),
        events=tuple(SafetyEvent(START, "Red flag " + "z" * 300) for _ in range(10)),
    )
    fig: Figure = page.draw_report(many)
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.texts]
    for ax in fig.axes:
        boxes.append(ax.get_tightbbox(renderer))
    width, height = fig.bbox.width, fig.bbox.height
    for box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
    note_top = max(t.get_window_extent(renderer).y1 for t in fig.texts if t.get_style() == "italic")
    content = [b for b, t in zip(boxes, fig.texts, strict=False) if t.get_style() != "italic"]
    assert min(b.y0 for b in content) > note_top  # nothing runs into the note


def test_private_folder_files_and_delete(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    mine = page.render_report(_data(), folder, 7)
    other = page.render_report(_data(), folder, 8)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (mine.pdf, mine.png):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [
        "report-7.pdf", "report-7.png", "report-8.pdf", "report-8.png",
    ]  # fmt: skip
    page.delete_reports(folder, 7)
    page.delete_reports(folder, 7)  # a second /delete finds nothing and is fine
    assert not mine.pdf.exists() and not mine.png.exists()
    assert other.pdf.exists() and other.png.exists()


async def test_rendering_runs_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    draw = page.draw_report

    def spy(data: ReportData) -> Figure:
        threads.append(threading.get_ident())
        return draw(data)

    monkeypatch.setattr(page, "draw_report", spy)
    files = await page.render_report_async(_data(), tmp_path, 7)
    assert threads and threads[0] != threading.get_ident()
    assert _pdf_text(files.pdf)[0] == 1


def test_matplotlib_is_imported_only_to_draw() -> None:
    code = "import sys, bot.reports.page; print('matplotlib' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"


# --- from stored rows --------------------------------------------------------------------


def test_weekly_adherence_is_the_progress_rule_week_by_week() -> None:
    days = (0, 2, 9, 16)  # Mon, Wed; Wed; Wed (4 Jan 2027 is a Monday)
    done = {START + timedelta(days=d) for d in days}
    paused = {START + timedelta(days=7)}  # week 2's Monday
    weeks = weekly_adherence(done, START, START + timedelta(days=16), 0b0010101, paused)
    # Planned: Mon, Wed, Fri; a paused day is no planned day; week 3 has run three days.
    assert weeks == (WeekDone(1, 2, 3), WeekDone(2, 1, 2), WeekDone(3, 1, 2))
    last = START + timedelta(days=13)
    assert adherence(done, last, START, 0b0010101, 7, paused) == (1, 2)


def test_phase_steps_and_safety_events_from_rows() -> None:
    zone = ZoneInfo("Europe/Berlin")
    at = datetime(2027, 1, 20, 23, 30, tzinfo=UTC)  # already 21 Jan in Berlin
    decisions = [
        SimpleNamespace(at=at, reason="goals met", phase_from=0, phase_to=1),
        SimpleNamespace(at=at + timedelta(days=3), reason="same phase", phase_from=1, phase_to=1),
        SimpleNamespace(at=at + timedelta(days=9), reason="pain 6/10", phase_from=1, phase_to=0),
    ]
    steps = phase_steps(decisions, ["Floor work", "Standing work"], zone, START)
    assert steps == (
        PhaseStep(START, "Phase 1: Floor work", "start"),
        PhaseStep(date(2027, 1, 21), "Phase 2: Standing work", "goals met"),
        PhaseStep(date(2027, 1, 30), "Back to phase 1: Floor work", "pain 6/10"),
    )
    pauses = [
        SimpleNamespace(kind="pause", started_at=at),
        SimpleNamespace(kind="emergency", started_at=at + timedelta(days=20)),
    ]
    checks = [
        SimpleNamespace(local_date=date(2027, 2, 1), week=4, review_suggested=True),
        SimpleNamespace(local_date=date(2027, 3, 1), week=8, review_suggested=False),
    ]
    events = safety_events(pauses, zone, date(2027, 1, 25), checks)
    assert [(e.day, e.what.split(":")[0]) for e in events] == [
        (date(2027, 1, 25), "Clinician review advised"),
        (date(2027, 2, 1), "Clinician review suggested at the week 4 reassessment"),
        (date(2027, 2, 10), "Red flag"),
    ]


def test_pdf_bytes_are_a_pdf(tmp_path: Path) -> None:
    files = page.render_report(_data(), tmp_path, 1)
    assert files.pdf.read_bytes()[:5] == b"%PDF-"
    assert PdfReader(io.BytesIO(files.pdf.read_bytes())).pages[0] is not None
