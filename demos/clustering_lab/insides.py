"""What the clustering lab shows: k-means half-step by half-step, DBSCAN's core, border and noise points,
the digits' maps with the visitor's digit on them, and k-means centres and PCA components as 8x8 pictures."""
from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from core.points import CLASS_COLOURS, Points
from demos.clustering_lab.digits import INK_MAX, SIDE, Digits, Placement
from demos.clustering_lab.kmeans import KMeansStep

UNASSIGNED = "#b0b0b0"
NOISE = "#303030"
DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def _cluster_colours(labels: np.ndarray) -> list[str]:
    return [CLASS_COLOURS[label % len(CLASS_COLOURS)] for label in labels]


def _draw_step(axes: Axes, xy: np.ndarray, step: KMeansStep, title: str) -> None:
    colours = UNASSIGNED if step.labels is None else _cluster_colours(step.labels)
    axes.scatter(xy[:, 0], xy[:, 1], c=colours, s=12, linewidths=0)
    axes.scatter(step.centres[:, 0], step.centres[:, 1], c=_cluster_colours(np.arange(len(step.centres))),
                 marker="X", s=160, edgecolors="black", linewidths=1.2, zorder=3)
    axes.set_title(title, fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])


def step_title(step: KMeansStep) -> str:
    if step.phase == "start":
        return "Start: k centres"
    inertia = f" (inertia {step.inertia:,.1f})"
    return f"Iteration {step.iteration}: " + ("assign to the nearest centre" if step.phase == "assign" else
                                             "move centres to the means") + inertia


def kmeans_figure(points: Points, history: list[KMeansStep], shown: int) -> Figure:
    figure = Figure(figsize=(5, 4.4), layout="constrained")
    step = history[shown]
    last = " (converged)" if shown == len(history) - 1 else ""
    _draw_step(figure.add_subplot(), points.xy, step, f"Half-step {shown} of {len(history) - 1}{last}: "
               + step_title(step))
    return figure


def steps_figure(points: Points, history: list[KMeansStep], count: int = 6) -> Figure:
    """The first half-steps side by side (start, assign, move, assign, move...), then the last."""
    shown = list(range(min(count - 1, len(history) - 1))) + [len(history) - 1]
    figure = Figure(figsize=(2.4 * len(shown), 2.6), layout="constrained")
    for axes, index in zip(figure.subplots(1, len(shown), squeeze=False)[0], shown):
        step = history[index]
        title = "start" if step.phase == "start" else f"{step.iteration}: {step.phase}"
        _draw_step(axes, points.xy, step, title + (" (end)" if index == len(history) - 1 else ""))
    return figure


def inertia_figure(history: list[KMeansStep]) -> Figure:
    figure = Figure(figsize=(5, 2.8), layout="constrained")
    axes = figure.add_subplot()
    steps = [(index, step.inertia) for index, step in enumerate(history) if step.inertia is not None]
    axes.plot(*zip(*steps), marker=".")
    axes.set_xlabel("half-step (assign, move, assign, …)")
    axes.set_ylabel("inertia (sum of squared distances)")
    axes.set_title("Every half-step lowers the inertia, until it stops", fontsize=10)
    return figure


def dbscan_figure(points: Points, labels: np.ndarray, core: np.ndarray, eps: float) -> Figure:
    """DBSCAN's clusters: core points large, border points small, noise black crosses; eps drawn to scale."""
    figure = Figure(figsize=(5, 4.4), layout="constrained")
    axes = figure.add_subplot()
    clustered = labels >= 0
    border = clustered & ~core
    axes.scatter(*points.xy[core].T, c=_cluster_colours(labels[core]), s=22, edgecolors="black", linewidths=0.3,
                 label="core point")
    axes.scatter(*points.xy[border].T, c=_cluster_colours(labels[border]), s=8, label="border point")
    axes.scatter(*points.xy[~clustered].T, c=NOISE, marker="x", s=16, label="noise")
    if core.any():
        centre = points.xy[np.flatnonzero(core)[0]]
        axes.add_patch(_circle(centre, eps))
    axes.set_aspect("equal")
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title(f"DBSCAN: {labels.max() + 1} clusters, {int((~clustered).sum())} noise points "
                   f"(dashed: eps around one core point)", fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])
    return figure


def _circle(centre: np.ndarray, radius: float):
    from matplotlib.patches import Circle

    return Circle(tuple(centre), radius, fill=False, linestyle="--", edgecolor="black")


def map_figure(map_xy: np.ndarray, digits: Digits, placement: Placement | None, map_name: str) -> Figure:
    """The digits on a 2-D map, coloured by the digit they are; the visitor's digit a star, its neighbours ringed."""
    figure = Figure(figsize=(6, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.scatter(map_xy[:, 0], map_xy[:, 1], c=[DIGIT_COLOURS[label] for label in digits.labels], s=7,
                 linewidths=0, alpha=0.8)
    for digit in range(10):  # each digit's name at the middle of its points
        middle = np.median(map_xy[digits.labels == digit], axis=0)
        axes.text(*middle, str(digit), fontsize=12, weight="bold", ha="center", va="center",
                  bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": DIGIT_COLOURS[digit], "boxstyle": "round"})
    if placement is not None:
        spot = placement.pca_xy if map_name == "PCA" else placement.tsne_xy
        axes.scatter(*map_xy[placement.neighbours].T, s=70, facecolors="none", edgecolors="black",
                     label="its nearest digits (pixels)")
        axes.scatter(*spot, marker="*", s=420, c="gold", edgecolors="black", zorder=4, label="your digit")
        axes.legend(fontsize=8, loc="lower right")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(f"{map_name} map of 1,797 handwritten digits (8x8 pixels = 64 numbers each)", fontsize=10)
    return figure


def _digit_axes(axes: Axes, values: np.ndarray, title: str, signed: bool = False) -> None:
    image = values.reshape(SIDE, SIDE)
    if signed:  # a principal component: red ink where it adds, blue where it takes away
        limit = np.abs(image).max() or 1.0
        axes.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    else:
        axes.imshow(image, cmap="gray_r", vmin=0, vmax=INK_MAX)
    axes.set_title(title, fontsize=8)
    axes.set_axis_off()


def neighbours_figure(placement: Placement, digits: Digits) -> Figure:
    count = len(placement.neighbours) + 1
    figure = Figure(figsize=(1.1 * count, 1.5), layout="constrained")
    row = figure.subplots(1, count)
    _digit_axes(row[0], placement.digit, "yours (8x8)")
    for axes, index, distance in zip(row[1:], placement.neighbours, placement.distances):
        _digit_axes(axes, digits.images[index], f"{digits.labels[index]} (d {distance:.0f})")
    return figure


def features_figure(centres: np.ndarray, cluster_digits: list[int], components: np.ndarray) -> Figure:
    """Top: k-means' centres on the digits (each an average digit), titled by their points' usual digit.
    Bottom: PCA's two components, the pixel patterns the map's axes measure."""
    columns = max(len(centres), len(components))
    figure = Figure(figsize=(1.0 * columns, 2.6), layout="constrained")
    grid = figure.subplots(2, columns, squeeze=False)
    for axes in grid.ravel():
        axes.set_axis_off()
    for axes, centre, digit in zip(grid[0], centres, cluster_digits):
        _digit_axes(axes, centre, f"mostly {digit}")
    for index, (axes, component) in enumerate(zip(grid[1], components)):
        _digit_axes(axes, component, f"PCA axis {index + 1}", signed=True)
    figure.suptitle("k-means centres (top) and the PCA map's axes (bottom)", fontsize=9)
    return figure
