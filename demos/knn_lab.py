"""Lab: nearest neighbours, overfitting and generalisation.

A k-nearest-neighbours classifier labels a point by a vote of the ``k`` training points closest to it.
With k = 1 it follows every training point (noise included): no training error, a ragged boundary,
a worse test error. With a large k it smooths everything away. Between the two lies the k that
generalises best: the U-shaped test-error curve. A decision tree's depth shows the same trade-off.

The kNN here is written out (distances, the k nearest, a vote; tests check it against scikit-learn's
``KNeighborsClassifier``); the tree is scikit-learn's. Data: scikit-learn's toy sets or the visitor's CSV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from core.contract import DemoCard, Endpoint, FigureOutput, JsonOutput, MarkdownOutput, NumberField, TableOutput
from core.points import (CSV_FIELD, Grid, Points, chosen_points, draw_points, draw_regions, plane_grid, point_fields,
                         split)
from core.timing import stopwatch

CARD = DemoCard(
    slug="knn_lab",
    title="Nearest Neighbours and Overfitting",
    icon="🎯",
    pitch="Move k and watch the kNN boundary go from learning every point by heart to smoothing everything away.",
    tags=("kNN", "overfitting", "train/test error"),
    inputs=("none", "text"),
)

MAX_K = 100
MAX_DEPTH = 12
STRIP_KS = (1, 15, 75)  # the boundary at a flexible, a middling and a smooth k
TEST_FRACTION = 0.3
QUERY_CHUNK = 2_000  # query points whose distances to every training point are held at once (~20 MB)
GRID_STEPS = 100


def load() -> None:
    """Nothing to load: a kNN classifier's model is its training set, and the tree fits in milliseconds."""


# --- the kNN classifier, written out ----------------------------------------------------------

def nearest(train_xy: np.ndarray, query_xy: np.ndarray, count: int) -> np.ndarray:
    """For each query point, the indices of its ``count`` nearest training points, nearest first."""
    count = min(count, len(train_xy))
    return np.concatenate([_nearest_chunk(train_xy, query_xy[start:start + QUERY_CHUNK], count)
                           for start in range(0, len(query_xy), QUERY_CHUNK)])


def _nearest_chunk(train_xy: np.ndarray, query_xy: np.ndarray, count: int) -> np.ndarray:
    # squared distances (the same order), as |q|^2 - 2 q.t + |t|^2: one matrix product, as scikit-learn computes them
    distances = (query_xy ** 2).sum(axis=1)[:, None] - 2 * query_xy @ train_xy.T + (train_xy ** 2).sum(axis=1)
    candidates = np.argpartition(distances, count - 1, axis=1)[:, :count] if count < len(train_xy) else \
        np.broadcast_to(np.arange(len(train_xy)), distances.shape)
    order = np.argsort(np.take_along_axis(distances, candidates, axis=1), axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def votes_for_each_k(train_labels: np.ndarray, neighbours: np.ndarray, class_count: int,
                     ks: list[int]) -> dict[int, np.ndarray]:
    """The majority label among the first k neighbours, for every k in ``ks`` at once (a tie goes to the
    lowest class index, as in scikit-learn)."""
    votes = np.eye(class_count, dtype=np.int32)[train_labels[neighbours]].cumsum(axis=1)  # (query, k, class)
    return {k: votes[:, min(k, neighbours.shape[1]) - 1].argmax(axis=1) for k in ks}


def knn_predict(train: Points, query_xy: np.ndarray, k: int) -> np.ndarray:
    return votes_for_each_k(train.labels, nearest(train.xy, query_xy, k), len(train.classes), [k])[k]


# --- error against capacity ----------------------------------------------------------------------

@dataclass(frozen=True)
class ErrorCurve:
    knob: str  # what was varied
    settings: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray

    @property
    def best(self) -> int:
        """The setting with the lowest test error (the smallest such one where several tie)."""
        return int(self.settings[np.argmin(self.test_error)])

    def at(self, setting: int) -> tuple[float, float]:
        index = int(np.searchsorted(self.settings, setting))
        return float(self.train_error[index]), float(self.test_error[index])


def knn_error_curve(train: Points, test: Points) -> ErrorCurve:
    """Training and test error for k = 1..MAX_K (at most the training set's size). A training point is its
    own nearest neighbour, which is why k = 1 makes no training mistakes."""
    ks = list(range(1, min(MAX_K, len(train)) + 1))
    both = np.concatenate([train.xy, test.xy])
    predicted = votes_for_each_k(train.labels, nearest(train.xy, both, ks[-1]), len(train.classes), ks)
    truth = np.concatenate([train.labels, test.labels])
    wrong = {k: predicted[k] != truth for k in ks}
    return ErrorCurve("k (neighbours)", np.array(ks), np.array([wrong[k][:len(train)].mean() for k in ks]),
                      np.array([wrong[k][len(train):].mean() for k in ks]))


def _tree(depth: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=depth, random_state=0)


def tree_error_curve(train: Points, test: Points) -> ErrorCurve:
    """The same trade-off the other way round: a deeper tree is a more flexible model."""
    depths = np.arange(1, MAX_DEPTH + 1)
    fitted = [_tree(int(depth)).fit(train.xy, train.labels) for depth in depths]
    return ErrorCurve("tree depth", depths,
                      np.array([(tree.predict(train.xy) != train.labels).mean() for tree in fitted]),
                      np.array([(tree.predict(test.xy) != test.labels).mean() for tree in fitted]))


# --- the whole call ------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnnResult:
    train: Points
    test: Points
    k: int
    depth: int
    grid: Grid
    regions: dict[int, np.ndarray]  # k -> the class predicted at every grid point
    tree_regions: np.ndarray
    knn_curve: ErrorCurve
    tree_curve: ErrorCurve
    seconds: float


def explore(points: Points, k: int, depth: int, seed: int = 0) -> KnnResult:
    """Split ``points``, then the kNN boundary at ``k`` (and at STRIP_KS), error curves for k and tree depth,
    and the tree's boundary at ``depth``."""
    with stopwatch() as watch:
        train, test = split(points, TEST_FRACTION, seed)
        k = min(k, len(train))
        grid = plane_grid(points.xy, GRID_STEPS)
        strip = sorted({min(strip_k, len(train)) for strip_k in STRIP_KS} | {k})
        regions = votes_for_each_k(train.labels, nearest(train.xy, grid.points, strip[-1]), len(points.classes),
                                   strip)
        tree_regions = _tree(depth).fit(train.xy, train.labels).predict(grid.points)
        result = KnnResult(train, test, k, depth, grid, regions, tree_regions, knn_error_curve(train, test),
                           tree_error_curve(train, test), 0.0)
    return KnnResult(**{**result.__dict__, "seconds": watch.seconds})


# --- explain -------------------------------------------------------------------------------------

def _boundary(axes, result: KnnResult, predicted: np.ndarray, title: str) -> None:
    draw_regions(axes, result.grid, predicted, len(result.train.classes))
    draw_points(axes, result.train, "o", "training", 16)
    draw_points(axes, result.test, "^", "test", 26)
    axes.set_title(title, fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])


def boundary_figure(result: KnnResult) -> Figure:
    """The kNN decision regions at the chosen k; training points round, test points triangles."""
    figure = Figure(figsize=(5, 4.4), layout="constrained")
    axes = figure.add_subplot()
    train_error, test_error = result.knn_curve.at(result.k)
    _boundary(axes, result, result.regions[result.k],
              f"k = {result.k}: training error {train_error:.0%}, test error {test_error:.0%}")
    axes.legend(loc="lower right", fontsize=8, markerscale=0.9)
    for handle in axes.get_legend().legend_handles:
        handle.set_facecolor("white")  # the legend tells the shapes apart; the colours are the classes
    return figure


def strip_figure(result: KnnResult) -> Figure:
    """The boundary at a flexible, a middling and a smooth k, side by side."""
    ks = sorted({min(k, len(result.train)) for k in STRIP_KS})
    figure = Figure(figsize=(3.2 * len(ks), 3.2), layout="constrained")
    for axes, k in zip(figure.subplots(1, len(ks), squeeze=False)[0], ks):
        _, test_error = result.knn_curve.at(k)
        _boundary(axes, result, result.regions[k], f"k = {k} (test error {test_error:.0%})")
    return figure


def _curve(axes, curve: ErrorCurve, chosen: int, log_x: bool) -> None:
    axes.plot(curve.settings, curve.train_error, marker=".", label="training error")
    axes.plot(curve.settings, curve.test_error, marker=".", label="test error")
    axes.axvline(chosen, color="grey", linestyle="--", linewidth=1, label=f"yours: {chosen}")
    axes.axvline(curve.best, color="green", linestyle=":", linewidth=1.5, label=f"best test: {curve.best}")
    if log_x:
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FormatStrFormatter("%g"))  # 1, 10, 100 rather than powers of ten
    axes.set_xlabel(curve.knob)
    axes.set_ylabel("error (fraction wrong)")
    # under the plot: where it hides no line (and "best", which searches for such a spot, costs 0.2 s a figure)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)


def knn_curve_figure(result: KnnResult) -> Figure:
    figure = Figure(figsize=(5, 3.4), layout="constrained")
    axes = figure.add_subplot()
    _curve(axes, result.knn_curve, result.k, log_x=True)
    axes.invert_xaxis()  # left to right: smooth (large k) to flexible (k = 1), as model capacity grows
    axes.set_title("Error against k: capacity grows to the right", fontsize=10)
    return figure


def tree_figure(result: KnnResult) -> Figure:
    figure = Figure(figsize=(8, 3.4), layout="constrained")
    curve_axes, region_axes = figure.subplots(1, 2, width_ratios=(1.4, 1))
    _curve(curve_axes, result.tree_curve, result.depth, log_x=False)
    curve_axes.set_title("Error against tree depth", fontsize=10)
    train_error, test_error = result.tree_curve.at(result.depth)
    _boundary(region_axes, result, result.tree_regions,
              f"depth {result.depth}: training {train_error:.0%}, test {test_error:.0%}")
    return figure


def comparison_rows(result: KnnResult) -> list[dict]:
    """The chosen settings next to the most flexible kNN and the best ones."""
    return [*_rows("kNN, k =", result.knn_curve, (1, result.k, result.knn_curve.best), result.k),
            *_rows("tree, depth", result.tree_curve, (result.depth, result.tree_curve.best), result.depth)]


def _rows(model: str, curve: ErrorCurve, settings: tuple[int, ...], chosen: int) -> list[dict]:
    rows = []
    for setting in dict.fromkeys(settings):  # once each, in order
        train_error, test_error = curve.at(setting)
        notes = ["yours"] * (setting == chosen) + ["best test error"] * (setting == curve.best)
        rows.append({"model": f"{model} {setting}", "training error": f"{train_error:.1%}",
                     "test error": f"{test_error:.1%}", "note": ", ".join(notes)})
    return rows


HOW_IT_WORKS = """
**k nearest neighbours.** To label a point, find the *k* training points closest to it (straight-line
distance) and take the label most of them have. There is no training step: the model *is* the training set.

**Overfitting.** With k = 1 every training point is its own nearest neighbour, so the training error is 0,
whatever the noise: the boundary bends around every mislabelled point. Those bends are wrong for new
points, so the **test error** (points held out from training, 30 % here) is higher. With a huge k every
point gets the overall majority label: the model is too simple (*underfitting*) and both errors are high.

**Generalisation.** The test error falls, then rises again as the model gets more flexible: a U-shaped
curve. The best k is at its bottom. Turn up the label noise and the best k grows: more noise calls for
more smoothing. A decision tree shows the same curve with depth as its capacity knob: a deep tree gives
every training point its own little box.
"""


# --- Gradio / HTTP endpoint ---------------------------------------------------------------------

def _endpoint(toy_set: str, count: int, spread: float, label_noise: float, k: int, depth: int,
              csv_text: str = "") -> tuple:
    result = explore(chosen_points(toy_set, count, spread, csv_text, label_noise), k, depth)
    train_error, test_error = result.knn_curve.at(result.k)
    details = {"k": result.k, "training error": round(train_error, 4), "test error": round(test_error, 4),
               "best k": result.knn_curve.best, "best tree depth": result.tree_curve.best,
               "training points": len(result.train), "test points": len(result.test),
               "seconds": round(result.seconds, 3)}
    return (boundary_figure(result), details, strip_figure(result), knn_curve_figure(result), tree_figure(result),
            comparison_rows(result), HOW_IT_WORKS)


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        *point_fields("moons", 300, 0.25),
        NumberField("label_noise", "Label noise (fraction of labels swapped)", 0.0, 0.5, 0.1, step=0.05),
        NumberField("k", "k (neighbours that vote)", 1, MAX_K, 15, integer=True),
        NumberField("depth", "Tree depth", 1, MAX_DEPTH, 4, integer=True),
        CSV_FIELD,
    ),
    outputs=(FigureOutput("kNN decision regions (training points round, test points triangles)"),
             JsonOutput("How often it is wrong")),
    insides=(FigureOutput("The boundary as k changes"),
             FigureOutput("Training and test error against k: the U curve"),
             FigureOutput("The same trade-off for a decision tree's depth"),
             TableOutput("Your settings next to the extremes and the best ones"),
             MarkdownOutput("How it works")),
),)
