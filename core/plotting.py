"""Small matplotlib figures the demos use to show their insides (thread-safe: no pyplot)."""
from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import ScaledTranslation

UPRIGHT_TICK_CHARACTERS = 3  # a tick label this long or shorter ("7", "0.5") is set upright, a longer one vertically
LINE_SPACING = 1.5  # a legend line's height, in font sizes
CHARACTER_WIDTH = 0.5  # an average character's width, in font sizes
LEGEND_HANDLE_CHARACTERS = 5  # a legend entry's line or patch and the gaps around it, in characters


def vectors_figure(
    vectors: Mapping[str, np.ndarray], title: str, xlabel: str, bars: bool = False,
    tick_labels: Sequence[str] | None = None, size: tuple[float, float] = (4.8, 2.8), font_size: float = 11,
) -> Figure:
    """Several same-length vectors on one axis: bars for a few values, lines for many.

    ``size`` is in inches and ``font_size`` (the axis label's; ticks and legend are a point smaller, the title a
    point larger) in points: at the defaults every text is at least 10 px tall with the picture shown 358 px wide,
    as a phone shows it. Tick labels longer than a few characters (names) stand vertically, each under its bar.
    """
    names = list(vectors)
    legend_columns = _legend_columns(names, size[0], font_size - 1)
    legend_lines = -(-len(names) // legend_columns) if len(names) > 1 else 0  # the figure grows by these, not the plot
    figure = Figure(figsize=(size[0], size[1] + legend_lines * font_size * LINE_SPACING / 72), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = np.ravel(vectors[name])
        x = np.arange(values.size)
        if bars:
            axes.bar(x + (i - (len(names) - 1) / 2) * width, values, width=width, label=name)
        else:
            axes.plot(x, values, marker=".", linewidth=1, label=name)
    if tick_labels is not None:
        upright = max(map(len, tick_labels), default=0) <= UPRIGHT_TICK_CHARACTERS
        axes.set_xticks(np.arange(len(tick_labels)), tick_labels, rotation=0 if upright else 90)
    axes.tick_params(labelsize=font_size - 1)
    axes.set_title(title, fontsize=font_size + 1, wrap=True)
    axes.set_xlabel(xlabel, fontsize=font_size)
    axes.axhline(0, color="grey", linewidth=0.5)
    if legend_lines:
        _legend_under(axes, font_size - 1, legend_columns)
    return figure


def _legend_under(axes: Axes, font_size: float, columns: int) -> None:
    """The legend under the plot and its axis labels, where it hides no bar or line."""
    figure = axes.get_figure()
    figure.draw_without_rendering()  # the tick labels exist, and their heights are known, once laid out
    below = (axes.get_window_extent().y0 - axes.get_tightbbox().y0) / figure.dpi  # inches of ticks and labels
    under_the_labels = axes.transAxes + ScaledTranslation(0, -below, figure.dpi_scale_trans)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=under_the_labels, fontsize=font_size,
                ncols=columns)


def _legend_columns(names: Sequence[str], width: float, font_size: float) -> int:
    """All of ``names`` on one line if they fit ``width`` inches at ``font_size`` points, else one a line."""
    characters = sum(len(name) + LEGEND_HANDLE_CHARACTERS for name in names)
    return len(names) if characters * font_size * CHARACTER_WIDTH <= width * 72 else 1


def feature_maps_figure(
    maps: np.ndarray, title: str, names: Sequence[str] | None = None, columns: int = 8, max_maps: int = 32,
) -> Figure:
    """A grid of a layer's activation maps, ``maps`` shaped (channels, height, width).

    Each map is scaled on its own (bright = strongly active), so weak but structured
    channels stay visible; at most ``max_maps`` are drawn, titled by ``names`` or index.
    """
    shown = maps[:max_maps]
    if len(maps) > max_maps:
        title += f" (first {max_maps} of {len(maps)} shown)"
    columns = min(columns, len(shown))
    rows = int(np.ceil(len(shown) / columns))
    figure = Figure(figsize=(columns * 0.9, rows * 0.9 + 0.4), layout="constrained")
    figure.suptitle(title, fontsize=10)
    for index, grid_axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        grid_axes.set_axis_off()
        if index < len(shown):
            grid_axes.imshow(shown[index], cmap="viridis", interpolation="nearest")
            grid_axes.set_title(names[index] if names else str(index), fontsize=6, pad=1)
    return figure


def mosaic_figure(tiles: np.ndarray, title: str, names: Sequence[str] | None = None, columns: int = 8,
                  tile_inches: float = 0.8) -> Figure:
    """Many small pictures, ``tiles`` shaped (N, H, W) or (N, H, W, 3) with values in [0, 1], on one axes:
    a grid of subplots drew ten times slower (32 maps: ~1 s on a 2-core CPU), too slow for a lab's slider.
    Greyscale tiles are coloured with viridis; each is titled by ``names`` or its index."""
    count, height, width = tiles.shape[:3]
    columns = min(columns, count)
    rows = -(-count // columns)
    gap = max(1, round(0.08 * max(height, width)))
    label = max(1, round(0.28 * height))  # room above each tile for its name
    canvas = np.ones(((height + gap + label) * rows, (width + gap) * columns, 3))
    coloured = tiles if tiles.ndim == 4 else colormaps["viridis"](np.clip(tiles, 0.0, 1.0))[..., :3]
    inches_wide = columns * tile_inches
    figure = Figure(figsize=(inches_wide, inches_wide * canvas.shape[0] / canvas.shape[1] + 0.35), layout="constrained")
    axes = figure.add_subplot()
    for index, tile in enumerate(coloured):
        top, left = (index // columns) * (height + gap + label) + label, (index % columns) * (width + gap)
        canvas[top:top + height, left:left + width] = tile
        axes.text(left + width / 2, top - 1, names[index] if names else str(index), ha="center", va="bottom",
                  fontsize=6)
    axes.imshow(canvas, interpolation="nearest")
    axes.set_axis_off()
    axes.set_title(title, fontsize=10)
    return figure


def figure_png(figure: Figure, dpi: int = 110) -> bytes:
    """A figure as PNG bytes: how a front end that cannot draw matplotlib (Gradio, the HTTP API) shows it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
