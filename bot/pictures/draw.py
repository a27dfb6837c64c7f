"""Drawing a placed body, its props, the neutral-spine line and labels with matplotlib.

matplotlib is imported only here, inside the functions, so loading the coach does not pay for
it; its object API (`Figure` + `FigureCanvasAgg`) keeps no global state, so pictures can be drawn
in worker threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bot.core.figures import Prop
from bot.pictures import style
from bot.pictures.kinematics import SURFACE, Body, Point, direction

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def px_to_pt(px: float) -> float:
    return px * 72 / style.DPI


def canvas(size_px: tuple[int, int], panels: int) -> tuple[Figure, list[Axes]]:
    """A figure of exactly `size_px` on the background colour, with `panels` bare axes (placed
    by `frame`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size_px[0] / style.DPI, size_px[1] / style.DPI), dpi=style.DPI)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor(style.BACKGROUND)
    return fig, [fig.add_axes((0.0, 0.0, 1.0, 1.0)) for _ in range(panels)]


def frame(
    ax: Axes,
    box: tuple[float, float, float, float],
    area: tuple[float, ...],
    scale: float | None = None,
) -> float:
    """Fit the data `box` (x0, x1, y0, y1) into the figure fraction `area` (left, bottom, width,
    height) at equal scale, or at `scale`; returns the scale in pixels per body height (for
    stroke widths)."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    width_px, height_px = fig.get_size_inches() * style.DPI
    left, bottom, width, height = area
    ax.set_position((left, bottom, width, height))
    ax.set_facecolor(style.BACKGROUND)
    ax.set_axis_off()
    x0, x1, y0, y1 = box
    if scale is None:
        scale = min(width * width_px / (x1 - x0), height * height_px / (y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = width * width_px / scale / 2, height * height_px / scale / 2
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    return float(scale)


def _segment(
    ax: Axes, a: Point, b: Point, width: float, scale: float, colour: str, **kw: Any
) -> None:
    ax.plot(
        [a[0], b[0]], [a[1], b[1]], color=colour, linewidth=px_to_pt(width * scale),
        solid_capstyle="round", solid_joinstyle="round", **kw,
    )  # fmt: skip


def body(ax: Axes, b: Body, scale: float, *, alpha: float = 1.0) -> None:
    """The far limbs, then the trunk and head, then the near limbs on top."""
    from matplotlib.patches import Circle

    def limbs(side: str, colour: str) -> None:
        p = b.points
        for a, c, width in (
            (p["hip"], p[f"{side}_knee"], style.THIGH_WIDTH),
            (p[f"{side}_knee"], p[f"{side}_ankle"], style.SHIN_WIDTH),
            (p[f"{side}_ankle"], p[f"{side}_heel"], style.FOOT_WIDTH),
            (p[f"{side}_heel"], p[f"{side}_toe"], style.FOOT_WIDTH),
            (p[f"{side}_ankle"], p[f"{side}_toe"], style.FOOT_WIDTH),
            (p["shoulder"], p[f"{side}_elbow"], style.UPPER_ARM_WIDTH),
            (p[f"{side}_elbow"], p[f"{side}_hand"], style.FOREARM_WIDTH),
        ):
            _segment(ax, a, c, width, scale, colour, alpha=alpha)
        ax.add_patch(Circle(p[f"{side}_hand"], SURFACE["hand"], color=colour, alpha=alpha))

    limbs("far", style.FAR)
    p = b.points
    xs, ys = zip(*_curve(p["hip"], p["mid_back"], p["shoulder"]), strict=True)
    ax.plot(
        xs, ys,
        color=style.NEAR, linewidth=px_to_pt(style.TRUNK_WIDTH * scale),
        solid_capstyle="round", solid_joinstyle="round", alpha=alpha,
    )  # fmt: skip
    _segment(ax, p["shoulder"], p["head"], style.NECK_WIDTH, scale, style.NEAR, alpha=alpha)
    ax.add_patch(Circle(p["head"], SURFACE["head"], color=style.NEAR, alpha=alpha))
    # A dark dot on the face side shows which way the person faces (up, down or ahead).
    hx, hy = p["head"]
    nx, ny = p["nose"]
    eye = (hx + (nx - hx) * 0.55, hy + (ny - hy) * 0.55)
    ax.add_patch(Circle(eye, 0.013, color=style.BACKGROUND, alpha=alpha))
    limbs("near", style.NEAR)


def _curve(a: Point, m: Point, c: Point, n: int = 12) -> list[Point]:
    """A smooth curve from `a` through `m` to `c` (a quadratic Bezier), so a rounded back reads
    as rounded rather than broken."""
    ctrl = (2 * m[0] - (a[0] + c[0]) / 2, 2 * m[1] - (a[1] + c[1]) / 2)
    points: list[Point] = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        points.append(
            (
                u * u * a[0] + 2 * u * t * ctrl[0] + t * t * c[0],
                u * u * a[1] + 2 * u * t * ctrl[1] + t * t * c[1],
            )
        )
    return points


def _back(b: Body, name: str, depth: float) -> Point:
    """A point `depth` behind `name` (behind the lower trunk's direction)."""
    dx, dy = direction(b.trunk_angle - 90)
    x, y = b[name]
    return (x + dx * depth, y + dy * depth)


def spine_line(ax: Axes, b: Body, scale: float) -> None:
    """A straight dashed line from the tailbone along the lower back, as long as the trunk and
    head: a neutral back lies along it, a rounded one curves away from it."""
    start = _back(b, "hip", 0.09)
    dx, dy = direction(b.trunk_angle)
    length = 0.45
    end = (start[0] + dx * length, start[1] + dy * length)
    ax.plot(
        [start[0], end[0]], [start[1], end[1]], color=style.SPINE,
        linewidth=px_to_pt(0.018 * scale), linestyle=(0, (3, 1.5)), zorder=5,
    )  # fmt: skip


def floor(ax: Axes, x0: float, x1: float, scale: float) -> None:
    _segment(ax, (x0, -0.006), (x1, -0.006), 0.012, scale, style.FLOOR)


def props(ax: Axes, b: Body, kinds: Iterable[Prop], scale: float, *, rack_x: float) -> None:
    """Props that go with a body: each is placed from the body's points, so the content only
    names it. The rack is an upright at `rack_x` (where the near hand holds it) that the hand
    slides along."""
    from matplotlib.patches import Circle, Rectangle

    p = b.points
    for kind in kinds:
        if kind == "mat":
            x0, x1, *_ = _extent(b)
            ax.add_patch(Rectangle((x0 - 0.05, -0.012), x1 - x0 + 0.1, 0.018, color=style.MAT))
        elif kind == "strap":
            # Looped behind the middle of the near thigh, held in the near hand.
            mid = _mid(p["hip"], p["near_knee"])
            behind = _step_from(mid, b, "near")
            _segment(ax, p["near_hand"], behind, 0.014, scale, style.PROP, zorder=6)
        elif kind == "plate":
            toe = p["near_toe"]
            height = max(toe[1] - 0.005, 0.02)
            ax.add_patch(Rectangle((toe[0] - 0.1, 0.0), 0.16, height, color=style.PROP))
        elif kind == "dowel":
            # Touching the back of the head, between the shoulder blades and the tailbone.
            start = _back(b, "hip", 0.075)
            top = _back(b, "shoulder", 0.075)
            dx, dy = top[0] - start[0], top[1] - start[1]
            a = (start[0] - dx * 0.25, start[1] - dy * 0.25)
            c = (start[0] + dx * 1.55, start[1] + dy * 1.55)
            _segment(ax, a, c, 0.018, scale, style.PROP, zorder=6)
        elif kind == "rack":
            # Beside the person, so it shows behind the body; the near hand rests on its side.
            ax.add_patch(Rectangle((rack_x, 0.0), 0.035, 0.95, color=style.PROP, zorder=1))
        elif kind == "kettlebell":
            hand = p["near_hand"]
            ax.add_patch(Circle((hand[0], hand[1] - 0.06), 0.045, color=style.PROP, zorder=6))
            _segment(ax, hand, (hand[0], hand[1] - 0.03), 0.02, scale, style.PROP, zorder=6)


def _mid(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _step_from(point: Point, b: Body, side: str) -> Point:
    """Just behind the thigh (the side away from the knee's front)."""
    hip, knee = b["hip"], b[f"{side}_knee"]
    dx, dy = knee[0] - hip[0], knee[1] - hip[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    # The back of the thigh is a quarter turn clockwise from its direction hip to knee.
    nx, ny = dy / length, -dx / length
    return (point[0] + nx * 0.045, point[1] + ny * 0.045)


def _extent(b: Body) -> tuple[float, float, float, float]:
    xs = [x for x, _ in b.points.values()]
    ys = [y for _, y in b.points.values()]
    return min(xs), max(xs), min(ys), max(ys)


def arrow(ax: Axes, path: Sequence[Point], scale: float) -> None:
    """The path a hand or foot travels, ending in an arrowhead."""
    from matplotlib.patches import FancyArrowPatch

    if len(path) < 2:
        return
    xs, ys = zip(*path[:-1], strict=True)
    width = px_to_pt(0.016 * scale)
    ax.plot(xs, ys, color=style.ARROW, linewidth=width, solid_capstyle="round", zorder=7)
    ax.add_patch(
        FancyArrowPatch(
            path[-2], path[-1], arrowstyle="-|>", mutation_scale=px_to_pt(0.09 * scale),
            color=style.ARROW, linewidth=width, zorder=7, shrinkA=0, shrinkB=0,
        )
    )  # fmt: skip


def text(fig: Figure, x: float, y: float, words: str, size_px: float, **kw: Any) -> None:
    fig.text(x, y, words, fontsize=px_to_pt(size_px), color=kw.pop("color", style.TEXT), **kw)
