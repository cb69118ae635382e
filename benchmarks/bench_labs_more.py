"""How long each interaction of the kNN, backprop and clustering labs takes, warm: the lab's work plus every
figure the page (or the page's fragment) redraws, rendered to PNG as the page renders them.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_labs_more.py`` (writes results/labs_more.json). The target
is 1 s per interaction on a 2-core CPU; the machine's load average is recorded next to the figures.
"""
from __future__ import annotations

import os
from typing import Callable

from common import median_seconds, write_result  # first: it puts the repo on the path

import demos.backprop_lab as backprop
import demos.clustering_lab as clustering
from core.plotting import figure_png
from core.points import toy_points
from demos import knn_lab as knn
from ui.lab_kit import FIGURE_DPI


def drawn(*figures) -> None:
    for figure in figures:
        figure_png(figure, FIGURE_DPI)


def knn_move_k(count: int) -> Callable[[], None]:
    points = toy_points("moons", count, 0.25, 0.1)

    def interaction() -> None:
        result = knn.explore(points, 15, 4)
        drawn(knn.boundary_figure(result), knn.strip_figure(result), knn.knn_curve_figure(result),
              knn.tree_figure(result))
    return interaction


def backprop_steps(steps: int) -> Callable[[], None]:
    points = toy_points("moons", 200, 0.2)
    run = backprop.start(points, (8, 8), "tanh", 0)

    def interaction() -> None:
        trained = backprop.train(run, points, "adam", 0.03, 32, steps)
        through = backprop.example_through(trained, points, 0)
        drawn(backprop.boundary_figure(trained, points), backprop.loss_figure(trained),
              backprop.graph_figure(through))
        backprop.gradient_rows(through)
    return interaction


def backprop_surface() -> None:
    drawn(backprop.surface_figure(backprop.descend("momentum", 0.03, 100, (-1.0, 4.0)), "momentum"))


def clustering_half_step() -> None:
    result = clustering.cluster_toys(toy_points("moons", 300, 0.05), 2, "random points", 0.3, 5)
    drawn(clustering.kmeans_figure(result.points, result.history, 3),
          clustering.steps_figure(result.points, result.history), clustering.inertia_figure(result.history),
          clustering.dbscan_figure(result.points, result.dbscan_labels, result.dbscan_core, 0.3))
    result.scores()


def clustering_digit(map_name: str) -> Callable[[], None]:
    picture = clustering.example_digit("7")

    def interaction() -> None:
        data = clustering.load()
        placement = clustering.place_digit(picture, 8)
        found = clustering.cluster_digits(10)
        drawn(clustering.map_figure(clustering.the_map(map_name), data, placement, map_name),
              clustering.neighbours_figure(placement, data),
              clustering.features_figure(found.centres, found.usual_digits, data.pca.components_))
    return interaction


INTERACTIONS: dict[str, Callable[[], None]] = {
    "knn: move k (300 points)": knn_move_k(300),
    "knn: move k (1000 points)": knn_move_k(1000),
    "backprop: 1 step": backprop_steps(1),
    "backprop: 100 steps": backprop_steps(100),
    "backprop: loss surface": backprop_surface,
    "clustering: k-means half-step": clustering_half_step,
    "clustering: your digit on the t-SNE map": clustering_digit("t-SNE"),
    "clustering: your digit on the PCA map": clustering_digit("PCA"),
}


def main() -> None:
    seconds = {name: round(median_seconds(interaction, repeats=5, warmup=2), 3)
               for name, interaction in INTERACTIONS.items()}
    write_result("labs_more", {"target_s": 1.0, "load_average_1min": round(os.getloadavg()[0], 2),
                               "figure_dpi": FIGURE_DPI, "interaction_s": seconds})


if __name__ == "__main__":
    main()
