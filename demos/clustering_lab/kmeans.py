"""k-means written out step by step (Lloyd's algorithm): assign every point to its nearest centre, move
every centre to the mean of its points, repeat until nothing moves. Each half-step is kept, so a visitor
can walk through them; tests check the end against scikit-learn's ``KMeans`` from the same centres."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.validation import InputError

INITS = ("k-means++", "random points")
MAX_ITERATIONS = 50


@dataclass(frozen=True)
class KMeansStep:
    phase: str  # "start", "assign" or "move"
    iteration: int
    centres: np.ndarray  # (k, features)
    labels: np.ndarray | None  # each point's centre; None before the first assignment
    inertia: float | None  # sum of squared distances to the assigned centres


def initial_centres(points: np.ndarray, k: int, init: str, seed: int = 0) -> np.ndarray:
    """k distinct starting centres: random data points, or k-means++ (far-apart points, Arthur and Vassilvitskii
    2007, scikit-learn's ``kmeans_plusplus``)."""
    if not 1 <= k <= len(points):
        raise InputError(f"k must be from 1 to the number of points ({len(points)}).")
    if init == "random points":
        return points[np.random.default_rng(seed).choice(len(points), k, replace=False)].astype(float)
    if init == "k-means++":
        from sklearn.cluster import kmeans_plusplus

        return kmeans_plusplus(points, k, random_state=seed)[0].astype(float)
    raise InputError(f"Start: choose one of {', '.join(INITS)}.")


def assign(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, float]:
    """Each point's nearest centre, and the inertia that gives."""
    distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    labels = distances.argmin(axis=1)
    return labels, float(distances[np.arange(len(points)), labels].sum())


def move(points: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each centre to the mean of its points (a centre that lost all its points stays where it was)."""
    moved = centres.copy()
    for cluster in range(len(centres)):
        members = points[labels == cluster]
        if len(members):
            moved[cluster] = members.mean(axis=0)
    return moved


def kmeans_steps(points: np.ndarray, centres: np.ndarray, max_iterations: int = MAX_ITERATIONS) -> list[KMeansStep]:
    """Every half-step from ``centres`` until the assignment stops changing (or ``max_iterations``)."""
    history = [KMeansStep("start", 0, centres, None, None)]
    labels = None
    for iteration in range(1, max_iterations + 1):
        new_labels, inertia = assign(points, centres)
        history.append(KMeansStep("assign", iteration, centres, new_labels, inertia))
        if labels is not None and np.array_equal(new_labels, labels):
            break  # the centres cannot move any more: converged
        labels = new_labels
        centres = move(points, labels, centres)
        history.append(KMeansStep("move", iteration, centres, labels,
                                  float(((points - centres[labels]) ** 2).sum())))
    return history
