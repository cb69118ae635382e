"""A model with two parameters, so that its whole loss surface fits in one picture: a line y = w x + b
fitted to 30 points by least squares. The x values lie in [0, 4], not around 0, so the two parameters
are entangled (raising w and lowering b nearly cancel): the surface is a long, narrow valley, where plain
gradient descent zig-zags and momentum and Adam show why they exist."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demos.backprop_lab.network import empty_memory, optimiser_step

TRUE_LINE = (1.5, -1.0)  # w, b the points were drawn around
W_RANGE = (-1.5, 4.5)
B_RANGE = (-5.0, 5.0)
DIVERGED_LOSS = 1e6  # a path past this has left the picture for good


@dataclass(frozen=True)
class LinePoints:
    x: np.ndarray
    y: np.ndarray


def line_points() -> LinePoints:
    x = np.linspace(0.0, 4.0, 30)
    noise = np.random.default_rng(0).normal(0.0, 0.5, x.size)
    return LinePoints(x, TRUE_LINE[0] * x + TRUE_LINE[1] + noise)


def line_loss(points: LinePoints, w: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Mean squared error of y = w x + b, for one (w, b) or arrays of them."""
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    residuals = w[..., None] * points.x + b[..., None] - points.y
    return (residuals ** 2).mean(axis=-1)


def line_gradient(points: LinePoints, w: float, b: float) -> np.ndarray:
    residuals = w * points.x + b - points.y
    return np.array([2 * (residuals * points.x).mean(), 2 * residuals.mean()])


def least_squares(points: LinePoints) -> np.ndarray:
    """The bottom of the valley, solved exactly: where every path should end."""
    design = np.column_stack([points.x, np.ones_like(points.x)])
    return np.linalg.lstsq(design, points.y, rcond=None)[0]


@dataclass(frozen=True)
class Descent:
    path: np.ndarray  # (steps + 1, 2): (w, b) before each step and at the end
    losses: np.ndarray  # at each point of the path
    gradients: np.ndarray  # (steps, 2): the gradient each step followed
    diverged: bool


def descend(optimiser: str, learning_rate: float, steps: int, start: tuple[float, float]) -> Descent:
    """Full-batch descent on the line's loss from ``start``, with the same optimisers as the network."""
    points = line_points()
    parameters = [np.array(start, dtype=float)]
    memory = empty_memory(optimiser, parameters)
    path, gradients = [parameters[0]], []
    for step in range(1, steps + 1):
        gradient = line_gradient(points, *parameters[0])
        parameters, memory = optimiser_step(optimiser, parameters, [gradient], memory, learning_rate, step)
        gradients.append(gradient)
        path.append(parameters[0])
        if not line_loss(points, *parameters[0]) < DIVERGED_LOSS:
            break
    path_array = np.array(path)
    losses = line_loss(points, path_array[:, 0], path_array[:, 1])
    return Descent(path_array, losses, np.array(gradients).reshape(-1, 2), bool(losses[-1] >= DIVERGED_LOSS))
