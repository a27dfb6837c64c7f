"""The report as one A4 page: a PDF to hand to a physiotherapist and the same page as a PNG for
the chat. Drawn top to bottom from `report_lines` (so the printed numbers are the data's) with
two small charts: pain trends, each activity against its meaningful-change line, and sessions
on planned days by week.

matplotlib is imported only when a report is drawn (the coach starts without it), through its
object API (no pyplot, no global state), so `render_report_async` can draw in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.reports.data import ReportData, WeekDone, report_lines

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

A4_INCHES = (8.27, 11.69)
PNG_DPI = 150  # 1240 x 1754 px: readable on a phone when zoomed, small enough to send
# matplotlib rounds a fractional pixel size down: 1240 x 1753.
PNG_SIZE = (int(A4_INCHES[0] * PNG_DPI), int(A4_INCHES[1] * PNG_DPI))
LEFT, WIDTH = 0.08, 0.86
LINE = 0.0165  # one 9-point line, as a fraction of the page height
BOTTOM = 0.06  # the note sits below this
WEEKS_SHOWN = 16  # bars in the adherence chart; the overall figure counts every week
DURING_COLOUR, MORNING_COLOUR = "#D55E00", "#009E73"  # Okabe-Ito, as in the /progress chart
START_COLOUR, LATEST_COLOUR, BAR_COLOUR = "#999999", "#0072B2", "#9BB8CC"


@dataclass(frozen=True)
class ReportFiles:
    pdf: Path
    png: Path


def report_files(folder: Path, person_id: int) -> ReportFiles:
    """One PDF and one PNG per person, overwritten by the next /report."""
    return ReportFiles(folder / f"report-{person_id}.pdf", folder / f"report-{person_id}.png")


def delete_reports(folder: Path, person_id: int) -> None:
    """/delete: the person's report files go with their rows."""
    files = report_files(folder, person_id)
    for path in (files.pdf, files.png):
        path.unlink(missing_ok=True)


class _Page:
    """A cursor down the page: text lines and charts placed one under the other."""

    def __init__(self, fig: Figure) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
        self.right = (LEFT + WIDTH) * fig.bbox.width
        self.y = 0.965

    def text(self, line: str, size: float = 9, bold: bool = False, gap: float = 0.0) -> None:
        self.y -= gap
        weight = "bold" if bold else "normal"
        shown = self.fig.text(LEFT, self.y, line, fontsize=size, fontweight=weight, va="top")
        # Words in the person's own language can be wider than a count of characters allows:
        # measured, and cut with "…" until the line fits the page.
        keep = len(line)
        while shown.get_window_extent(self.renderer).x1 > self.right and keep > 10:
            keep = keep * 9 // 10
            shown.set_text(line[:keep].rstrip() + "…")
        self.y -= LINE * size / 9

    def heading(self, title: str) -> None:
        self.text(title, size=11, bold=True, gap=0.008)

    def axes(self, height: float, below: float = 0.022, above: float = 0.004) -> Axes:
        """A chart `height` high, with room `above` it for a title and `below` it for its tick
        labels."""
        self.y -= above + height
        ax = self.fig.add_axes((LEFT + 0.04, self.y, WIDTH - 0.06, height))
        self.y -= below
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        return ax


def draw_report(data: ReportData) -> Figure:
    from matplotlib.figure import Figure

    lines = report_lines(data)
    fig = Figure(figsize=A4_INCHES, dpi=PNG_DPI)
    page = _Page(fig)
    page.text(lines.title, size=16, bold=True)
    page.text(lines.subtitle, size=9, gap=0.004)

    page.heading("Back pain")
    page.text(lines.pain)
    _trend_chart(page.axes(0.13, below=0.036), data)
    page.text(lines.trends)

    page.heading("Activities that matter to the person (0 = unable, 10 = as before)")
    for line in lines.activities:
        page.text(line)
    page.text(lines.rules, size=8)
    rated = [a for a in data.activities if a.baseline is not None]
    if rated:
        _activity_chart(page.axes(0.012 * len(rated) + 0.02, below=0.02, above=0.014), data)

    shown = data.adherence[-WEEKS_SHOWN:]
    recent = f" (the last {WEEKS_SHOWN})" if len(data.adherence) > WEEKS_SHOWN else ""
    page.heading(f"Sessions on planned days, by week{recent}")
    if shown:
        _adherence_chart(page.axes(0.065), shown)
    page.text(lines.adherence)

    page.heading("Phases and the reasons for each change")
    for line in lines.phases:
        page.text(line)
    page.heading("Red flags and clinician reviews")
    for line in lines.events:
        page.text(line)

    for i, line in enumerate(textwrap.wrap(data.note, 120)):
        fig.text(LEFT, BOTTOM - 0.02 - i * LINE * 0.9, line, fontsize=8, style="italic")
    return fig


def _day_number(data: ReportData, day: date) -> int:
    return (day - data.started_on).days


def _trend_chart(ax: Axes, data: ReportData) -> None:
    for series, colour, marker, style, label in (
        (data.pain_during, DURING_COLOUR, "o", "-", "Pain during the routine"),
        (data.morning_pain, MORNING_COLOUR, "^", "-.", "Back pain the next morning"),
    ):
        points = sorted(series, key=lambda p: p.day)
        if points:
            ax.plot(
                [_day_number(data, p.day) / 7 for p in points], [p.value for p in points],
                color=colour, marker=marker, markersize=3, linewidth=1.5, linestyle=style,
                label=label,
            )  # fmt: skip
    ax.set_ylim(-0.5, 10.5)
    ax.set_yticks([0, 2, 4, 6, 8, 10])
    ax.set_xlim(0, max(1.0, _day_number(data, data.made_on) / 7))
    ax.set_xlabel("weeks since the start", fontsize=8, labelpad=1)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    if data.pain_during or data.morning_pain:
        ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=2)


def _activity_chart(ax: Axes, data: ReportData) -> None:
    """Each activity's start and latest score, and the tick a meaningful change must pass."""
    rated = [a for a in data.activities if a.baseline is not None]
    step = data.rules.activity_item
    for row, item in enumerate(reversed(rated)):
        assert item.baseline is not None
        ax.plot([item.baseline], [row], "o", color=START_COLOUR, markersize=5)
        for mark in (item.baseline - step, item.baseline + step):
            if 0 <= mark <= 10:
                ax.plot([mark, mark], [row - 0.3, row + 0.3], color="#555555", linewidth=1)
        if item.latest is not None:
            ax.annotate(
                "", (item.latest, row), (item.baseline, row),
                arrowprops={"arrowstyle": "->", "color": LATEST_COLOUR, "linewidth": 1.5},
            )  # fmt: skip
            ax.plot([item.latest], [row], "o", color=LATEST_COLOUR, markersize=5)
    # Numbered as in the lines above: a label in the person's words may be long.
    numbers = [str(data.activities.index(a) + 1) for a in rated]
    ax.set_yticks(range(len(rated)), list(reversed(numbers)), fontsize=8)
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-0.7, len(rated) - 0.3)
    ax.set_xticks(range(11))
    ax.set_title(
        f"grey: at the start · blue: latest · bars: ±{step} points, a meaningful change",
        fontsize=7, loc="left", pad=2,
    )  # fmt: skip


def _adherence_chart(ax: Axes, shown: Sequence[WeekDone]) -> None:
    weeks = [w.week for w in shown]
    shares = [100 * w.done / w.planned if w.planned else 0 for w in shown]
    bars = ax.bar(weeks, shares, color=BAR_COLOUR, width=0.7)
    labels = [f"{w.done}/{w.planned}" if w.planned else "-" for w in shown]
    ax.bar_label(bars, labels=labels, fontsize=6, padding=1)
    ax.set_ylim(0, 125)
    ax.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
    ax.set_xticks(weeks)
    ax.set_xlim(min(weeks) - 0.6, max(weeks) + 0.6)


def render_report(data: ReportData, folder: Path, person_id: int) -> ReportFiles:
    """Draws the page into the person's PDF and PNG in `folder` (created private: 0700; files
    0600). Each file is written beside its final name and then moved there, so a half-written
    report is never sent."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    files = report_files(folder, person_id)
    fig = draw_report(data)
    meta = {"Title": "Back progress report", "Creator": "mobility-coach"}
    for path, kind, extra in (
        (files.pdf, "pdf", {"metadata": {**meta, "Producer": None}}),
        (files.png, "png", {"metadata": {"Software": None}, "dpi": PNG_DPI}),
    ):
        part = path.with_name(f".{path.name}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            fig.savefig(out, format=kind, **extra)
        part.replace(path)
    return files


async def render_report_async(data: ReportData, folder: Path, person_id: int) -> ReportFiles:
    """`render_report` in a worker thread: drawing takes a moment the chat loop keeps."""
    return await asyncio.to_thread(render_report, data, folder, person_id)
