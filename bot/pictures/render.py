"""The pictures of an exercise: a still (key positions side by side, the movement's arrow, the
cue), a looping GIF tweened between the key positions, and for an "avoid" entry the wrong
movement crossed out beside the exercise that replaces it. Each writes one file; caching and
threads are `bot.pictures.store`'s job.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.content import Avoid, Exercise
from bot.core.figures import Figure
from bot.pictures import draw, style
from bot.pictures.kinematics import (
    Angles,
    Body,
    angles_of,
    bounds,
    ease,
    mix,
    moving_point,
    scene,
    tween,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as Canvas
    from PIL import Image

MARGIN = 0.06
TITLE_BAND = 0.12  # the top of a still: the exercise's name
LABEL_BAND = 0.09  # under the title: each position's name
CUE_BAND = 0.13  # the bottom: the cue


def keys(figure: Figure) -> list[Angles]:
    return [angles_of(pose) for pose in figure.positions]


def _panel_box(figure: Figure) -> tuple[float, float, float, float]:
    """Everything any frame of the movement covers, so the figure never leaves its panel."""
    k = keys(figure)
    x0, x1, y0, y1 = bounds(scene(k, tween(k, style.STEPS)))
    if "plate" in figure.props or "rack" in figure.props:
        x0, x1 = x0 - 0.1, x1 + 0.1
    return x0 - MARGIN, x1 + MARGIN, min(y0, 0.0) - 0.03, y1 + MARGIN


def _rack_x(figure: Figure) -> float:
    """Where the rack stands: just in front of the near hand of the first key position."""
    return scene(keys(figure))[0]["near_hand"][0] + 0.01


def _scene_of(
    ax: Axes,
    figure: Figure,
    b: Body,
    scale: float,
    box: tuple[float, ...],
    *,
    ghost: bool = False,
) -> None:
    """Floor, props, body and spine line of one figure; `b` already placed."""
    draw.floor(ax, box[0], box[1], scale)
    props = [p for p in figure.props if p != "floor"]
    behind = [p for p in props if p in ("mat", "rack", "plate")]
    rack_x = _rack_x(figure)
    if not ghost:
        draw.props(ax, b, behind, scale, rack_x=rack_x)
    draw.body(ax, b, scale, alpha=0.28 if ghost else 1.0)
    if ghost:
        return
    draw.props(ax, b, [p for p in props if p not in behind], scale, rack_x=rack_x)
    if figure.spine_line and "dowel" not in figure.props:
        draw.spine_line(ax, b, scale)


def _motion_path(figure: Figure) -> list[tuple[float, float]]:
    """Where the furthest-moving hand or foot goes from the first key position to the last,
    trimmed at both ends so the arrow does not sit on the body."""
    k = keys(figure)
    route: list[Angles] = []
    for a, b in zip(k, k[1:], strict=False):
        route += [mix(a, b, ease(i / 12)) for i in range(12)]
    route.append(k[-1])
    bodies = scene(k, route)
    name = moving_point(bodies[0], bodies[-1])
    points = [body[name] for body in bodies]
    trim = max(1, len(points) // 8)
    return points[trim:-trim]


def _save_png(fig: Canvas, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        out, format="png", dpi=style.DPI, facecolor=style.BACKGROUND, metadata={"Software": None}
    )
    return out


# Two panels side by side, each half the width, under the title and position names.
PANELS = (
    (0.01, CUE_BAND, 0.48, 1 - CUE_BAND - TITLE_BAND - LABEL_BAND),
    (0.51, CUE_BAND, 0.48, 1 - CUE_BAND - TITLE_BAND - LABEL_BAND),
)


def _two_panels(
    box: tuple[float, float, float, float], title: str, labels: Sequence[str], cue: str
) -> tuple[Canvas, list[Axes], float]:
    """The still's canvas: two axes at the same scale, the title, their labels and the cue."""
    fig, axes = draw.canvas(style.STILL_PX, 2)
    scale = min(draw.frame(ax, box, area) for ax, area in zip(axes, PANELS, strict=True))
    for ax, area in zip(axes, PANELS, strict=True):
        draw.frame(ax, box, area, scale=scale)
    draw.text(fig, 0.03, 1 - TITLE_BAND / 2, title, style.TITLE_PX, va="center", fontweight="bold")
    y = 1 - TITLE_BAND - LABEL_BAND / 2
    for area, label in zip(PANELS, labels, strict=True):
        draw.text(fig, area[0] + area[2] / 2, y, label, style.LABEL_PX, ha="center", va="center",
                  color=style.MUTED)  # fmt: skip
    draw.text(fig, 0.5, CUE_BAND / 2, cue, style.CUE_PX, ha="center", va="center",
              fontweight="bold")  # fmt: skip
    return fig, axes, scale


def render_still(exercise: Exercise, out: Path) -> Path:
    """First and last key positions side by side, the first ghosted behind the last with an
    arrow along the movement; the position names above, the cue below. PNG, STILL_PX."""
    figure = exercise.figure
    box = _panel_box(figure)
    labels = [
        f"1  {figure.positions[0].name}",
        f"{len(figure.positions)}  {figure.positions[-1].name}",
    ]
    fig, (left, right), scale = _two_panels(box, exercise.name, labels, figure.label)
    k = keys(figure)
    first, last = scene(k, [k[0], k[-1]])
    _scene_of(left, figure, first, scale, box)
    _scene_of(right, figure, first, scale, box, ghost=True)
    _scene_of(right, figure, last, scale, box)
    draw.arrow(right, _motion_path(figure), scale)
    return _save_png(fig, out)


def render_animation(exercise: Exercise, out: Path) -> Path:
    """The movement there and back, tweened between the key positions, looping. GIF,
    ANIMATION_PX; pauses on each key position."""
    figure = exercise.figure
    k = keys(figure)
    poses = tween(k, style.STEPS)
    bodies = scene(k, poses)
    box = _panel_box(figure)
    fig, (ax,) = draw.canvas(style.ANIMATION_PX, 1)
    frames: list[Image.Image] = []
    for b in bodies:
        ax.clear()
        scale = draw.frame(ax, box, (0.02, 0.16, 0.96, 0.82))
        _scene_of(ax, figure, b, scale, box)
        fig.texts.clear()
        draw.text(fig, 0.5, 0.08, figure.label, style.CUE_PX * 0.75, ha="center", va="center",
                  fontweight="bold")  # fmt: skip
        frames.append(_grab(fig))
    # Key positions are the first frame and every STEPS-th after it.
    durations = [
        style.KEY_MS if i % style.STEPS == 0 else style.STEP_MS for i in range(len(frames))
    ]
    return _save_gif(frames, durations, out)


def _grab(fig: Canvas) -> Image.Image:
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=style.DPI, facecolor=style.BACKGROUND)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _save_gif(frames: list[Image.Image], durations: list[int], out: Path) -> Path:
    from PIL import Image

    # One palette for every frame, so colours do not flicker from frame to frame.
    palette = frames[0].quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    paletted = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    out.parent.mkdir(parents=True, exist_ok=True)
    paletted[0].save(
        out, format="GIF", save_all=True, append_images=paletted[1:], duration=durations,
        loop=0, disposal=1, optimize=False,
    )  # fmt: skip
    return out


def render_avoid(entry: Avoid, instead: Exercise, out: Path) -> Path:
    """The avoid entry's last position crossed out, beside the last position of `instead`
    with its neutral-spine line. PNG, STILL_PX."""
    if entry.figure is None:
        raise ValueError(f"the avoid entry '{entry.id}' has no figure")
    wrong_figure, right_figure = entry.figure, instead.figure
    w_box, r_box = _panel_box(wrong_figure), _panel_box(right_figure)
    box = (
        min(w_box[0], r_box[0]), max(w_box[1], r_box[1]),
        min(w_box[2], r_box[2]), max(w_box[3], r_box[3]),
    )  # fmt: skip
    labels = [f"✗  {wrong_figure.label}", f"✓  {instead.name}"]
    title = entry.name.partition(" (")[0]
    fig, (left, right), scale = _two_panels(box, title, labels, right_figure.label)
    wk, rk = keys(wrong_figure), keys(right_figure)
    wrong = scene(wk, [wk[-1]])[0]
    _scene_of(left, wrong_figure, wrong, scale, box)
    _scene_of(right, right_figure, scene(rk, [rk[-1]])[0], scale, box)
    # A cross over the whole wrong figure: the colour is not the only sign.
    x0, x1, y0, y1 = bounds([wrong])
    for a, b in (((x0, y0), (x1, y1)), ((x0, y1), (x1, y0))):
        width = draw.px_to_pt(0.035 * scale)
        left.plot(
            [a[0], b[0]], [a[1], b[1]], color=style.WRONG, linewidth=width,
            solid_capstyle="round", zorder=8,
        )  # fmt: skip
    return _save_png(fig, out)
