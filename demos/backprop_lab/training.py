"""A training run as plain data: start one, train it some steps, predict with it. Nothing is kept here:
the front end holds the ``Run`` (the visitor's session) and hands it back for the next steps."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from core.points import Points
from demos.backprop_lab.network import (Parameters, backward, empty_memory, forward, initial_parameters,
                                        optimiser_step)


@dataclass(frozen=True)
class Run:
    hidden: tuple[int, ...]  # widths of the hidden layers
    activation: str
    seed: int
    data: str  # fingerprint of the points it trains on: other points start a new run
    mean: np.ndarray  # the network sees standardised coordinates: (xy - mean) / scale
    scale: np.ndarray
    parameters: Parameters
    optimiser: str  # whose memory ``memory`` is
    memory: list[Parameters]
    step: int
    losses: tuple[float, ...]  # the loss on every point before training, then after each step
    accuracies: tuple[float, ...]  # likewise


def fingerprint(points: Points) -> str:
    return hashlib.sha1(points.xy.tobytes() + points.labels.tobytes()).hexdigest()


def start(points: Points, hidden: tuple[int, ...], activation: str, seed: int) -> Run:
    """A fresh network for ``points``, not yet trained."""
    mean, scale = points.xy.mean(axis=0), np.maximum(points.xy.std(axis=0), 1e-9)
    sizes = (2, *hidden, len(points.classes))
    parameters = initial_parameters(sizes, activation, seed)
    loss, accuracy = _evaluate(parameters, (points.xy - mean) / scale, points.labels, activation)
    return Run(hidden, activation, seed, fingerprint(points), mean, scale, parameters, "sgd", [], 0,
               (loss,), (accuracy,))


def is_run_for(run: Run | None, points: Points, hidden: tuple[int, ...], activation: str, seed: int) -> bool:
    """Whether ``run`` goes on with these settings (else a new one starts)."""
    return run is not None and (run.data, run.hidden, run.activation, run.seed) == (
        fingerprint(points), hidden, activation, seed)


def batch_rows(seed: int, step: int, count: int, batch_size: int) -> np.ndarray:
    """The mini-batch of step ``step``: drawn from the run's seed and the step number alone, so training 10
    steps at once or one at a time takes the same path."""
    return np.random.default_rng([seed, step]).choice(count, size=min(batch_size, count), replace=False)


def train(run: Run, points: Points, optimiser: str, learning_rate: float, batch_size: int, steps: int) -> Run:
    """``run`` after ``steps`` more steps of ``optimiser`` (a new optimiser starts with an empty memory)."""
    xy, labels = (points.xy - run.mean) / run.scale, points.labels
    parameters = run.parameters
    memory = run.memory if optimiser == run.optimiser and run.memory else empty_memory(optimiser, parameters)
    losses, accuracies = list(run.losses), list(run.accuracies)
    for step in range(run.step + 1, run.step + steps + 1):
        rows = batch_rows(run.seed, step, len(labels), batch_size)
        passed = forward(parameters, xy[rows], labels[rows], run.activation)
        gradients = backward(parameters, passed, labels[rows], run.activation).gradients
        parameters, memory = optimiser_step(optimiser, parameters, gradients, memory, learning_rate, step)
        loss, accuracy = _evaluate(parameters, xy, labels, run.activation)
        losses.append(loss)
        accuracies.append(accuracy)
    return replace(run, parameters=parameters, optimiser=optimiser, memory=memory, step=run.step + steps,
                   losses=tuple(losses), accuracies=tuple(accuracies))


def _evaluate(parameters: Parameters, xy: np.ndarray, labels: np.ndarray, activation: str) -> tuple[float, float]:
    passed = forward(parameters, xy, labels, activation)
    return passed.loss, float((passed.probabilities.argmax(axis=1) == labels).mean())


def predict(run: Run, xy: np.ndarray) -> np.ndarray:
    """The class the network gives each point."""
    return forward(run.parameters, (xy - run.mean) / run.scale, None, run.activation).probabilities.argmax(axis=1)
