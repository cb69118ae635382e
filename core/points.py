"""Labelled points in the plane, for the labs that learn from 2-D data (kNN, backprop, clustering).

Toy sets come from scikit-learn's generators; a visitor's own points come as CSV text (x, y, label) and are
checked here. The labs draw what a model predicts over a grid covering the points (``plane_grid``,
``draw_regions``), so this file also holds that shared picture.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from core.contract import ChoiceField, NumberField, TextField, choices
from core.validation import InputError

TOY_SETS = ("moons", "circles", "blobs")
MAX_POINT_ROWS = 2_000  # a visitor's CSV: kNN and the pictures stay well under a second at this size
MIN_POINT_ROWS = 10
MAX_CSV_BYTES = 100_000  # ample for MAX_POINT_ROWS lines of three short values
MAX_CLASSES = 8
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
REGION_COLOURS = ("#a6c8e6", "#ffcc99", "#b3dfb3", "#f2b3b3", "#d5c6e6", "#d9c4bf", "#f5c6e6", "#b3e6ec")
BLOB_CENTRES = ((-3.0, -2.0), (3.0, -2.0), (0.0, 3.0))  # apart enough that spread alone decides the overlap
GRID_MARGIN = 0.1  # of each side's extent, so points on the edge are not drawn on the frame


@dataclass(frozen=True)
class Points:
    xy: np.ndarray  # (n, 2) floats
    labels: np.ndarray  # (n,) class indices 0..len(classes)-1
    classes: tuple[str, ...]  # a name per class index

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> Points:
        return Points(self.xy[rows], self.labels[rows], self.classes)


def toy_points(name: str, count: int = 200, spread: float = 0.2, label_noise: float = 0.0, seed: int = 0) -> Points:
    """``count`` points of a scikit-learn toy set with Gaussian ``spread``, and a ``label_noise`` fraction of
    their labels swapped for another class: noise a model that follows every point learns by heart."""
    from sklearn import datasets

    if name == "moons":
        xy, labels = datasets.make_moons(count, noise=spread, random_state=seed)
    elif name == "circles":
        xy, labels = datasets.make_circles(count, noise=spread / 2, factor=0.5, random_state=seed)
    elif name == "blobs":
        xy, labels = datasets.make_blobs(count, centers=BLOB_CENTRES, cluster_std=0.4 + 3 * spread, random_state=seed)
    else:
        raise InputError(f"Unknown toy set {name!r}: choose one of {', '.join(TOY_SETS)}.")
    classes = tuple(f"class {label}" for label in range(labels.max() + 1))
    return Points(xy.astype(float), _with_label_noise(labels, len(classes), label_noise, seed), classes)


def chosen_points(toy_set: str, count: int, spread: float, csv_text: str = "", label_noise: float = 0.0) -> Points:
    """The visitor's CSV points if given, else a toy set (what every 2-D lab's endpoint takes)."""
    return read_points_csv(csv_text) if csv_text.strip() else toy_points(toy_set, count, spread, label_noise)


def point_fields(toy_set: str, count: int, spread: float) -> tuple[ChoiceField, NumberField, NumberField]:
    """The endpoint inputs that pick a toy set, with a lab's defaults."""
    return (ChoiceField("toy_set", "Toy data set", choices(TOY_SETS), toy_set),
            NumberField("count", "Points", 50, 1000, count, step=10, integer=True),
            NumberField("spread", "Spread (how much the classes overlap)", 0.0, 0.6, spread, step=0.05))


CSV_FIELD = TextField("csv_text", "Or your own points as CSV: x, y, label per line (overrides the toy set)", lines=4)


def _with_label_noise(labels: np.ndarray, class_count: int, fraction: float, seed: int) -> np.ndarray:
    if not 0 <= fraction <= 1:
        raise InputError("Label noise is a fraction from 0 to 1.")
    rng = np.random.default_rng(seed + 1)
    flipped = rng.random(len(labels)) < fraction
    shifts = rng.integers(1, class_count, size=len(labels))  # another class, never the same one
    return np.where(flipped, (labels + shifts) % class_count, labels)


def read_points_csv(text: str, max_rows: int = MAX_POINT_ROWS) -> Points:
    """A visitor's points: one ``x, y, label`` per line (a header line is skipped; labels may be words)."""
    reader = csv.reader(io.StringIO(text.strip()))
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if rows and not _is_number(rows[0][1][0]):
        rows = rows[1:]  # a header
    if len(rows) > max_rows:
        raise InputError(f"This CSV has {len(rows):,} points; the limit is {max_rows:,}.")
    if len(rows) < MIN_POINT_ROWS:
        raise InputError(f"Give at least {MIN_POINT_ROWS} points, one per line as x, y, label.")
    xy = np.array([_coordinates(row, line) for line, row in rows])
    names = [row[2].strip() for _, row in rows]
    classes = tuple(sorted(set(names), key=_class_order))
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise InputError(f"The points need 2 to {MAX_CLASSES} different labels; these have {len(classes)}.")
    index = {name: position for position, name in enumerate(classes)}
    return Points(xy, np.array([index[name] for name in names]), classes)


def read_points_file(data: bytes) -> Points:
    """An uploaded CSV file of points (UTF-8 text), checked before it is parsed."""
    if len(data) > MAX_CSV_BYTES:
        raise InputError(f"This file is too large ({len(data) / 2**20:.1f} MB); a CSV of points may be "
                         f"{MAX_CSV_BYTES // 1000} kB ({MAX_POINT_ROWS:,} points).")
    try:
        return read_points_csv(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("This file is not UTF-8 text: save it as CSV (x, y, label per line).") from None


def _coordinates(row: list[str], line: int) -> tuple[float, float]:
    if len(row) != 3 or not row[2].strip():
        raise InputError(f"Line {line}: expected three values, x, y, label; got {len(row)}.")
    if not (_is_number(row[0]) and _is_number(row[1])):
        shown = ", ".join(cell.strip()[:20] for cell in row[:2])
        raise InputError(f"Line {line}: x and y must be finite numbers, not {shown}.")
    return float(row[0]), float(row[1])


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))  # "nan" and "inf" parse, but are no place on the plane
    except ValueError:
        return False


def _class_order(name: str) -> tuple[int, float, str]:
    """Numbers in numeric order (2 before 10), then words."""
    return (0, float(name), "") if _is_number(name) else (1, 0.0, name)


def points_csv(points: Points) -> str:
    """``points`` as the CSV ``read_points_csv`` reads (the example a visitor can edit)."""
    lines = ["x,y,label", *(f"{x:.3f},{y:.3f},{points.classes[label]}" for (x, y), label in
                            zip(points.xy, points.labels))]
    return "\n".join(lines)


def standardised(points: Points) -> Points:
    """The points shifted and scaled to mean 0 and spread 1 on each axis: distances (kNN's, k-means',
    DBSCAN's eps) then mean the same whatever units the data came in."""
    return Points((points.xy - points.xy.mean(axis=0)) / np.maximum(points.xy.std(axis=0), 1e-12), points.labels,
                  points.classes)


def split(points: Points, test_fraction: float = 0.3, seed: int = 0) -> tuple[Points, Points]:
    """A random training set and the held-out test set that measures generalisation."""
    order = np.random.default_rng(seed).permutation(len(points))
    test_count = max(1, round(test_fraction * len(points)))
    return points.subset(order[test_count:]), points.subset(order[:test_count])


@dataclass(frozen=True)
class Grid:
    xs: np.ndarray  # (columns,)
    ys: np.ndarray  # (rows,)

    @property
    def points(self) -> np.ndarray:
        """Every grid point, (rows * columns, 2), row by row."""
        xx, yy = np.meshgrid(self.xs, self.ys)
        return np.column_stack([xx.ravel(), yy.ravel()])


def plane_grid(xy: np.ndarray, steps: int = 120) -> Grid:
    """A ``steps`` x ``steps`` grid over the points' box, with a margin."""
    low, high = xy.min(axis=0), xy.max(axis=0)
    margin = GRID_MARGIN * np.maximum(high - low, 1e-9)
    low, high = low - margin, high + margin
    return Grid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))


def draw_regions(axes: Axes, grid: Grid, predicted: np.ndarray, class_count: int) -> None:
    """Each grid cell in the pale colour of the class predicted there (``predicted``: one per grid point)."""
    regions = ListedColormap(REGION_COLOURS[:class_count])
    axes.pcolormesh(grid.xs, grid.ys, predicted.reshape(len(grid.ys), len(grid.xs)), cmap=regions,
                    vmin=-0.5, vmax=class_count - 0.5, shading="auto", rasterized=True)


def draw_points(axes: Axes, points: Points, marker: str = "o", label: str | None = None, size: float = 18) -> None:
    """The points in their class colours; ``label`` names the set in a legend (say, "test")."""
    colours = [CLASS_COLOURS[label_index] for label_index in points.labels]
    axes.scatter(points.xy[:, 0], points.xy[:, 1], c=colours, marker=marker, s=size, edgecolors="black",
                 linewidths=0.4, label=label)
