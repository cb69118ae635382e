"""Lab: clustering and feature extraction.

Clustering finds groups without labels. **k-means** (written out step by step here, checked in tests
against scikit-learn's ``KMeans`` from the same starting centres) alternates two moves until nothing
changes: assign each point to its nearest centre, move each centre to the mean of its points. **DBSCAN**
(scikit-learn's) grows clusters from dense points instead, so it finds shapes k-means cannot (moons,
rings) and leaves sparse points out as noise. On scikit-learn's 1,797 handwritten 8x8 digits, k-means'
centres are average digits; PCA (a linear map) and t-SNE (a non-linear one, computed once by a script and shipped)
draw the 64-number digits on a plane, and a digit the visitor brings lands next to its nearest neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField, TableOutput, choices)
from core.points import CSV_FIELD, Points, chosen_points, point_fields, standardised
from core.timing import stopwatch
from demos.clustering_lab.digits import (EXAMPLE_DIGITS, Digits, Placement, as_digit, digit_picture, example_digit,
                                         load, place, tsne_map)
from demos.clustering_lab.insides import (dbscan_figure, features_figure, inertia_figure, kmeans_figure,
                                          map_figure, neighbours_figure, steps_figure)
from demos.clustering_lab.kmeans import INITS, MAX_ITERATIONS, KMeansStep, initial_centres, kmeans_steps

CARD = DemoCard(
    slug="clustering_lab",
    title="Clustering and Feature Maps",
    icon="🧩",
    pitch="Step through k-means, compare DBSCAN, and place a digit you draw on PCA and t-SNE maps of 1,797 digits.",
    tags=("k-means", "DBSCAN", "PCA / t-SNE"),
    inputs=("none", "image", "text"),
)

MAPS = ("PCA", "t-SNE")
MAX_CLUSTERS = 12
MAX_NEIGHBOURS = 15
EXAMPLE_NAMES = {f"The digit {character}, typed in a font": character for character in EXAMPLE_DIGITS}


# --- toy sets: k-means step by step and DBSCAN ---------------------------------------------------

@dataclass(frozen=True)
class ToyClustering:
    points: Points  # standardised: eps and distances in units of each axis' spread
    history: list[KMeansStep]
    dbscan_labels: np.ndarray  # -1: noise
    dbscan_core: np.ndarray  # bool per point
    eps: float
    seconds: float

    def scores(self) -> list[dict]:
        """Each method's clusters against the true classes (which neither method saw)."""
        from sklearn.metrics import adjusted_rand_score

        final = self.history[-1].labels
        return [{"method": f"k-means, k = {len(self.history[-1].centres)}", "clusters": int(final.max() + 1),
                 "noise points": 0, "adjusted Rand index": round(adjusted_rand_score(self.points.labels, final), 3)},
                {"method": f"DBSCAN, eps = {self.eps:g}", "clusters": int(self.dbscan_labels.max() + 1),
                 "noise points": int((self.dbscan_labels < 0).sum()),
                 "adjusted Rand index": round(adjusted_rand_score(self.points.labels, self.dbscan_labels), 3)}]


def cluster_toys(points: Points, k: int, init: str, eps: float, min_samples: int, seed: int = 0) -> ToyClustering:
    from sklearn.cluster import DBSCAN

    with stopwatch() as watch:
        points = standardised(points)
        history = kmeans_steps(points.xy, initial_centres(points.xy, k, init, seed))
        dbscan = DBSCAN(eps=eps, min_samples=min_samples).fit(points.xy)
        core = np.zeros(len(points), dtype=bool)
        core[dbscan.core_sample_indices_] = True
    return ToyClustering(points, history, dbscan.labels_, core, eps, watch.seconds)


# --- digits: k-means, maps, the visitor's digit ----------------------------------------------------

@dataclass(frozen=True)
class DigitClusters:
    centres: np.ndarray  # (k, 64)
    labels: np.ndarray
    usual_digits: list[int]  # per cluster, the digit most of its points are
    rand_index: float
    iterations: int


def cluster_digits(k: int, seed: int = 0) -> DigitClusters:
    from sklearn.metrics import adjusted_rand_score

    digits = load()
    history = kmeans_steps(digits.images, initial_centres(digits.images, k, "k-means++", seed))
    final = history[-1]
    usual = [int(np.bincount(digits.labels[final.labels == cluster], minlength=10).argmax())
             for cluster in range(k)]
    return DigitClusters(final.centres, final.labels, usual, adjusted_rand_score(digits.labels, final.labels),
                         final.iteration)


def the_map(map_name: str) -> np.ndarray:
    return load().pca_xy if map_name == "PCA" else tsne_map()


def place_digit(picture: Image.Image, neighbours: int) -> Placement:
    return place(as_digit(picture), neighbours, tsne_map())


def neighbour_rows(placement: Placement, digits: Digits) -> list[dict]:
    return [{"rank": rank, "digit": int(digits.labels[index]), "pixel distance": round(float(distance), 1),
             "data-set index": int(index)}
            for rank, (index, distance) in enumerate(zip(placement.neighbours, placement.distances), start=1)]


HOW_IT_WORKS = """
**k-means** wants k centres with every point close to one. It starts from k centres (random points, or
*k-means++*: each next one drawn far from those already chosen), then repeats two half-steps: **assign**
every point to its nearest centre; **move** every centre to the mean of its points. Neither step can raise
the *inertia* (the sum of squared distances to the centres), so it stops, often after a few iterations,
though not always at the best clustering: another start can end elsewhere. It draws straight borders
between round groups, so it cuts moons and rings the wrong way.

**DBSCAN** grows clusters from *core points*, points with at least *min samples* neighbours within a
radius *eps*. Points within eps of a core point join its cluster (*border points*); the rest are *noise*.
It finds any shape and picks the number of clusters itself, but one eps must suit every cluster's density.

**Scores.** The *adjusted Rand index* compares a clustering with the true classes, which neither method saw:
1 is a perfect match, 0 is what random groups score.

**Feature extraction.** A digit here is 64 numbers. **PCA** finds the two directions in that 64-D space
along which the digits vary most and projects on them: a linear map (its axes are pixel patterns, shown as
pictures) that places a new digit exactly. **t-SNE** moves points on a plane so that neighbours in 64-D stay
neighbours: clearer groups, but the distances between groups mean little, and it cannot place a new point,
so your digit goes to the middle of its nearest digits.
"""


# --- Gradio / HTTP endpoints --------------------------------------------------------------------

def _toy_endpoint(toy_set: str, count: int, spread: float, k: int, init: str, step: int, eps: float,
                  min_samples: int, csv_text: str = "") -> tuple:
    points = chosen_points(toy_set, count, spread, csv_text)
    result = cluster_toys(points, k, init, eps, min_samples)
    shown = min(step, len(result.history) - 1)
    details = {"half-steps to converge": len(result.history) - 1, "shown": shown,
               "inertia": result.history[shown].inertia, "seconds": round(result.seconds, 3)}
    return (kmeans_figure(result.points, result.history, shown), details,
            steps_figure(result.points, result.history), inertia_figure(result.history),
            dbscan_figure(result.points, result.dbscan_labels, result.dbscan_core, eps), result.scores(), HOW_IT_WORKS)


def _digits_endpoint(map_name: str, k: int, neighbours: int, digit: Image.Image | None = None) -> tuple:
    picture = digit if digit is not None else example_digit("2")
    digits = load()
    placement = place_digit(picture, neighbours)
    clusters = cluster_digits(k)
    details = {"nearest digits vote": placement.vote, "your digit": "uploaded" if digit is not None else
               "the example 2", "k-means adjusted Rand index": round(clusters.rand_index, 3)}
    return (map_figure(the_map(map_name), digits, placement, map_name), details,
            digit_picture(placement.digit), neighbours_figure(placement, digits),
            features_figure(clusters.centres, clusters.usual_digits, digits.pca.components_),
            neighbour_rows(placement, digits), HOW_IT_WORKS)


ENDPOINTS = (
    Endpoint(
        fn=_toy_endpoint,
        title="k-means and DBSCAN",
        inputs=(
            *point_fields("moons", 300, 0.05),
            NumberField("k", "k (clusters)", 1, MAX_CLUSTERS, 2, integer=True),
            ChoiceField("init", "Start", choices(INITS), "random points"),
            NumberField("step", "Half-step shown (0 = start; past the end = the end)", 0, 2 * MAX_ITERATIONS, 3,
                        integer=True),
            NumberField("eps", "DBSCAN eps (radius, in standard deviations)", 0.05, 1.5, 0.3, step=0.05),
            NumberField("min_samples", "DBSCAN min samples", 1, 30, 5, integer=True),
            CSV_FIELD,
        ),
        outputs=(FigureOutput("k-means at the chosen half-step"), JsonOutput("k-means")),
        insides=(FigureOutput("The half-steps: assign, move, repeat"),
                 FigureOutput("Inertia after each half-step"),
                 FigureOutput("DBSCAN on the same points: core, border and noise points"),
                 TableOutput("Each method against the true classes"),
                 MarkdownOutput("How it works")),
    ),
    Endpoint(
        fn=_digits_endpoint,
        title="Digits: maps and your digit",
        api_suffix="_digits",
        inputs=(
            ChoiceField("map_name", "Map", choices(MAPS), "t-SNE"),
            NumberField("k", "k-means clusters", 2, MAX_CLUSTERS, 10, integer=True),
            NumberField("neighbours", "Nearest digits to show", 1, MAX_NEIGHBOURS, 8, integer=True),
            ImageField("digit", "Your digit (a picture of one digit; without one, a typed 2)", optional=True),
        ),
        outputs=(FigureOutput("The digits' map and your digit on it"), JsonOutput("Your digit")),
        insides=(ImageOutput("Your digit as the map sees it: 8x8 pixels"),
                 FigureOutput("Its nearest digits in pixel space"),
                 FigureOutput("k-means centres on the digits and the PCA map's axes"),
                 TableOutput("The nearest digits"),
                 MarkdownOutput("How it works")),
    ),
)
