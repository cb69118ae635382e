"""Small matplotlib figures the demos use to show their insides (thread-safe: no pyplot)."""
from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def vectors_figure(
    vectors: Mapping[str, np.ndarray], title: str, xlabel: str, bars: bool = False,
    tick_labels: Sequence[str] | None = None,
) -> Figure:
    """Several same-length vectors on one axis: bars for a few values, lines for many."""
    figure = Figure(figsize=(8, 2.8), layout="constrained")
    axes = figure.add_subplot()
    names = list(vectors)
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = np.ravel(vectors[name])
        x = np.arange(values.size)
        if bars:
            axes.bar(x + (i - (len(names) - 1) / 2) * width, values, width=width, label=name)
        else:
            axes.plot(x, values, marker=".", linewidth=1, label=name)
    if tick_labels is not None:
        axes.set_xticks(np.arange(len(tick_labels)), tick_labels, fontsize=7)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(xlabel, fontsize=9)
    axes.axhline(0, color="grey", linewidth=0.5)
    if len(names) > 1:
        axes.legend(fontsize=8, ncols=len(names))
    return figure


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


def figure_png(figure: Figure, dpi: int = 110) -> bytes:
    """A figure as PNG bytes: how a front end that cannot draw matplotlib (Gradio, the HTTP API) shows it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
