"""The /progress chart: back pain during and the next morning, deadlift comfort per session,
sessions per week, phase changes, over the last weeks, as a PNG sized for a phone screen.

Drawn with matplotlib's object API (`Figure` + `FigureCanvasAgg`): no pyplot, no global figure
state, so charts can be rendered in worker threads (`render_progress_async`) while the event
loop keeps serving. Every text size is set explicitly instead of through the global rcParams.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# 1080 x 1350 px: a 4:5 portrait image fills a phone screen's width in Telegram and Discord.
FIG_INCHES = (7.2, 9.0)
DPI = 150
SIZE_PX = (round(FIG_INCHES[0] * DPI), round(FIG_INCHES[1] * DPI))

# Okabe-Ito colours: told apart with every common colour-vision deficiency; the three lines also
# differ by marker shape and dash so they survive greyscale.
PAIN_COLOUR = "#D55E00"
COMFORT_COLOUR = "#0072B2"
MORNING_COLOUR = "#009E73"
BAR_COLOUR = "#9BB8CC"
MARK_COLOUR = "#333333"

TITLE_PT = 18
TEXT_PT = 14

# A trend needs this many points of change before the headline calls it up or down; the same
# threshold and "first three vs last three sessions" rule as the /progress text.
CHANGE = 1.0
TREND_SESSIONS = 3


@dataclass(frozen=True)
class ChartPoint:
    """One completed check-in: its local date, pain during the routine, deadlift comfort and
    the next morning's pain (all 0-10; comfort None when the person did not lift, morning pain
    None until the morning question is answered)."""

    day: date
    pain_during: int | None
    comfort: int | None
    morning_pain: int | None = None

    @property
    def morning_day(self) -> date:
        """The morning pain is drawn on the day it describes, the morning after the session,
        not on the session's day (the row it is stored on)."""
        return self.day + timedelta(days=1)


@dataclass(frozen=True)
class PhaseMark:
    """A phase change on `day`, e.g. "Phase 2: Standing work" or "Back to phase 1"."""

    day: date
    label: str


# Converting stored rows -------------------------------------------------------------------------


class CheckInLike(Protocol):
    @property
    def local_date(self) -> date: ...
    @property
    def pain_during(self) -> int | None: ...
    @property
    def comfort(self) -> int | None: ...
    @property
    def lifted(self) -> bool | None: ...
    @property
    def morning_pain(self) -> int | None: ...


class DecisionLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def phase_from(self) -> int: ...
    @property
    def phase_to(self) -> int: ...


def points_from_checkins(checkins: Sequence[CheckInLike]) -> list[ChartPoint]:
    """Chart points from completed `storage.models.CheckIn` rows (comfort only when lifted)."""
    return [
        ChartPoint(
            day=c.local_date,
            pain_during=c.pain_during,
            comfort=c.comfort if c.lifted is not False else None,
            morning_pain=c.morning_pain,
        )
        for c in checkins
    ]


def marks_from_decisions(
    decisions: Sequence[DecisionLike], phase_names: Sequence[str], zone: ZoneInfo
) -> list[PhaseMark]:
    """Phase marks from `storage.models.DecisionRecord` rows that moved the phase.

    `phase_names` are the program's phase names in order; `zone` gives the local day.
    """
    marks: list[PhaseMark] = []
    for decision in decisions:
        if decision.phase_to == decision.phase_from:
            continue
        number = decision.phase_to + 1
        if decision.phase_to > decision.phase_from:
            name = phase_names[decision.phase_to] if decision.phase_to < len(phase_names) else ""
            label = f"Phase {number}: {name}" if name else f"Phase {number}"
        else:
            label = f"Back to phase {number}"
        marks.append(PhaseMark(day=decision.at.astimezone(zone).date(), label=label))
    return marks


# The headline ------------------------------------------------------------------------------------


def _recent(points: Sequence[ChartPoint], weeks: int) -> list[ChartPoint]:
    if not points:
        return []
    last = max(p.day for p in points)
    start = last - timedelta(days=7 * weeks - 1)
    return sorted((p for p in points if p.day >= start), key=lambda p: p.day)


def trend_ends(values: Sequence[int]) -> tuple[float, float]:
    """Mean of the first and of the last (up to three) sessions."""
    n = min(TREND_SESSIONS, max(1, len(values) // 2))
    return sum(values[:n]) / n, sum(values[-n:]) / n


def _points_word(change: float) -> str:
    amount = f"{abs(change):.1f}".removesuffix(".0")
    return f"{amount} point" if amount == "1" else f"{amount} points"


def headline(points: Sequence[ChartPoint], weeks: int = 8) -> str:
    """One line that says what changed over the last `weeks` weeks (ending at the latest
    check-in), e.g. "Pain down from 5.0 to 2.3, comfort up 3 points"."""
    recent = _recent(points, weeks)
    if not recent:
        return "No check-ins yet"
    sessions = len(recent)
    if sessions == 1:
        return "First check-in logged: keep going"
    if (recent[-1].day - recent[0].day).days < 7:
        return "First week logged: keep going"

    parts: list[str] = []
    pains = [p.pain_during for p in recent if p.pain_during is not None]
    if len(pains) >= 2:
        before, now = trend_ends(pains)
        if now <= before - CHANGE:
            parts.append(f"Pain down from {before:.1f} to {now:.1f}")
        elif now >= before + CHANGE:
            parts.append(f"Pain up from {before:.1f} to {now:.1f}")
        else:
            parts.append(f"Pain steady around {now:.1f}")
    comforts = [p.comfort for p in recent if p.comfort is not None]
    if len(comforts) >= 2:
        before, now = trend_ends(comforts)
        change = now - before
        if change >= CHANGE:
            parts.append(f"comfort up {_points_word(change)}")
        elif change <= -CHANGE:
            parts.append(f"comfort down {_points_word(change)}")
        else:
            parts.append("comfort steady")
    if not parts:
        return f"{sessions} sessions logged: keep going"
    text = ", ".join(parts)
    return text[0].upper() + text[1:]


# The chart ---------------------------------------------------------------------------------------


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_label(day: date) -> str:
    """English day labels such as 5 Jan, whatever the locale (strftime's %b follows LC_TIME)."""
    return f"{day.day} {MONTHS[day.month - 1]}"


def _short(label: str, limit: int = 28) -> str:
    """A phase label that fits along the line inside the panel."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _title_lines(text: str) -> str:
    """At most two short lines: break after the comma between pain and comfort if there is one."""
    if len(text) <= 30:
        return text
    first, comma, rest = text.partition(", ")
    if comma and len(first) <= 34 and len(rest) <= 34:
        return f"{first},\n{rest}"
    return textwrap.fill(text, width=34)


def render_progress(
    points: Sequence[ChartPoint],
    marks: Sequence[PhaseMark],
    today: date,
    out: Path,
    weeks: int = 8,
) -> Path | None:
    """Draw the last `weeks` weeks ending `today` into `out` (PNG, 1080 x 1350 px).

    Returns None when there is no check-in in that window: the caller sends a text instead.
    """
    fig = draw_progress(points, marks, today, weeks)
    if fig is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": the image is always exactly SIZE_PX.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out


def draw_progress(
    points: Sequence[ChartPoint], marks: Sequence[PhaseMark], today: date, weeks: int = 8
) -> Figure | None:
    """The chart of `render_progress` as a figure (None when there is nothing to draw)."""
    start = today - timedelta(days=7 * weeks - 1)
    shown = sorted((p for p in points if start <= p.day <= today), key=lambda p: p.day)
    if not shown:
        return None
    shown_marks = sorted((m for m in marks if start <= m.day <= today), key=lambda m: m.day)

    # Imported here, not at the top: matplotlib is most of a start-up's imports and memory, and
    # a process that never draws a chart should not pay for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, MaxNLocator

    fig = Figure(figsize=FIG_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}, squeeze=True
    )
    fig.suptitle(_title_lines(headline(shown, weeks)), fontsize=TITLE_PT, fontweight="bold")

    # x is the day number in the window (0 = its first day), so no date axis maths is needed.
    def x_of(day: date) -> float:
        return float((day - start).days)

    # Pain and comfort per session; morning pain on the morning after (see `morning_day`).
    pain = [(x_of(p.day), p.pain_during) for p in shown if p.pain_during is not None]
    comfort = [(x_of(p.day), p.comfort) for p in shown if p.comfort is not None]
    morning = [
        (x_of(p.morning_day), p.morning_pain)
        for p in shown
        if p.morning_pain is not None and p.morning_day <= today
    ]
    if pain:
        xs, ys = zip(*pain, strict=True)
        top.plot(
            xs, ys, color=PAIN_COLOUR, marker="o", markersize=7, linewidth=2.5,
            label="Back pain during",
        )  # fmt: skip
    # Drawn second so the legend's first column holds the two pain lines.
    if morning:
        xs, ys = zip(*morning, strict=True)
        top.plot(
            xs, ys, color=MORNING_COLOUR, marker="^", markersize=8, linewidth=2.5,
            linestyle="-.", label="Morning back pain",
        )  # fmt: skip
    if comfort:
        xs, ys = zip(*comfort, strict=True)
        top.plot(
            xs, ys, color=COMFORT_COLOUR, marker="s", markersize=7, linewidth=2.5,
            linestyle="--", label="Deadlift comfort",
        )  # fmt: skip
    # The latest value of pain and comfort, written beside it (pain above, comfort below); the
    # morning line is left unlabelled so the right end of the chart stays readable.
    for series, colour, dy in ((pain, PAIN_COLOUR, 12), (comfort, COMFORT_COLOUR, -12)):
        if series:
            x, y = series[-1]
            top.annotate(
                str(y), (x, y), xytext=(0, dy), textcoords="offset points", ha="center",
                va="bottom" if dy > 0 else "top", fontsize=TEXT_PT, fontweight="bold",
                color=colour,
            )  # fmt: skip
    top.set_ylim(-0.5, 10.5)
    top.yaxis.set_major_locator(FixedLocator([0, 2, 4, 6, 8, 10]))
    top.set_ylabel("0-10", fontsize=TEXT_PT)
    top.grid(axis="y", color="#DDDDDD", linewidth=1)
    top.tick_params(labelsize=TEXT_PT)
    if pain or comfort or morning:
        top.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=2,
            frameon=False,
            fontsize=TEXT_PT,
            handlelength=2.5,
        )

    # Sessions per week, the last bar ending today.
    counts = [0] * weeks
    for p in shown:
        counts[(p.day - start).days // 7] += 1
    centres = [7.0 * i + 3.0 for i in range(weeks)]
    bars = bottom.bar(centres, counts, width=5.6, color=BAR_COLOUR, edgecolor="none")
    bottom.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=TEXT_PT)
    bottom.set_ylim(0, max(max(counts), 3) * 1.35)
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    bottom.set_ylabel("Sessions\nper week", fontsize=TEXT_PT)
    bottom.tick_params(labelsize=TEXT_PT)
    for ax in (top, bottom):
        ax.spines[["top", "right"]].set_visible(False)

    # Weekly ticks on week starts, labelled every other week so the dates stay large.
    ticks = [7.0 * i for i in range(weeks)]
    labelled = ticks[:: 2 if weeks > 4 else 1]
    bottom.set_xticks(labelled, [_day_label(start + timedelta(days=int(t))) for t in labelled])
    bottom.xaxis.set_minor_locator(FixedLocator(ticks))
    bottom.set_xlim(-0.7, x_of(today) + 1.5)

    # Phase changes: a dotted line through both panels, the label written along it.
    for mark in shown_marks:
        x = x_of(mark.day)
        for ax in (top, bottom):
            ax.axvline(x, color=MARK_COLOUR, linestyle=":", linewidth=2)
        right_half = x > 3.5 * weeks
        top.text(
            x - 0.6 if right_half else x + 0.6,
            10.3,
            _short(mark.label),
            rotation=90,
            ha="right" if right_half else "left",
            va="top",
            fontsize=TEXT_PT,
            color=MARK_COLOUR,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.65, "pad": 2},
        )
    return fig


async def render_progress_async(
    points: Sequence[ChartPoint],
    marks: Sequence[PhaseMark],
    today: date,
    out: Path,
    weeks: int = 8,
) -> Path | None:
    """`render_progress` in a worker thread, so drawing never blocks the event loop."""
    return await asyncio.to_thread(render_progress, points, marks, today, out, weeks)
