"""Lab: gradient descent and backpropagation.

A small multilayer perceptron learns to separate 2-D points while the visitor watches, a step at a time
or many at once, with plain SGD, momentum or Adam. For one point, the computation graph shows every value
the forward pass computes and every gradient backpropagation sends back (written out in numpy here;
tests check them against ``torch.autograd``, the page against finite differences). A line fitted by two
parameters shows a whole loss surface and the optimiser's path across it.

State between steps (the network's weights, the optimiser's memory) is plain data, a ``training.Run``:
the front end keeps it in the visitor's session and hands it back; this module keeps nothing.
"""
from __future__ import annotations

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, MarkdownOutput, NumberField,
                           TableOutput, choices)
from core.points import CSV_FIELD, Points, chosen_points, point_fields
from core.validation import InputError
from demos.backprop_lab.insides import (boundary_figure, example_through, gradient_rows, graph_figure, loss_figure,
                                        path_rows, surface_figure)
from demos.backprop_lab.network import ACTIVATIONS
from demos.backprop_lab.surface import descend
from demos.backprop_lab.training import Run, is_run_for, start, train

CARD = DemoCard(
    slug="backprop_lab",
    title="Gradient Descent and Backprop",
    icon="⛰️",
    pitch="Train a small network step by step and see the gradients backpropagation computes for one point.",
    tags=("MLP", "backpropagation", "SGD / momentum / Adam"),
    inputs=("none", "text"),
)

HIDDEN_LAYERS = ("3", "8", "4-4", "8-8", "8-8-8")  # widths of the hidden layers; at most 8 a layer fit the graph
DEFAULT_HIDDEN = "8-8"
MAX_STEPS = 2_000  # one call; a run goes on across calls
OPTIMISER_NAMES = {"sgd": "SGD", "momentum": "SGD with momentum (0.9)", "adam": "Adam"}


def load() -> None:
    """Nothing to load: the lab trains its own tiny network from scratch, in numpy."""


def hidden_widths(choice: str) -> tuple[int, ...]:
    if choice not in HIDDEN_LAYERS:
        raise InputError(f"Hidden layers: choose one of {', '.join(HIDDEN_LAYERS)}.")
    return tuple(int(width) for width in choice.split("-"))


def trained(points: Points, hidden: str, activation: str, optimiser: str, learning_rate: float, batch_size: int,
            steps: int, seed: int = 0) -> Run:
    """A fresh network trained ``steps`` steps: the same run a visitor gets stepping through it."""
    if not 0 <= steps <= MAX_STEPS:
        raise InputError(f"Steps: 0 to {MAX_STEPS:,} at a time.")
    return train(start(points, hidden_widths(hidden), activation, seed), points, optimiser, learning_rate,
                 batch_size, steps)


def run_summary(run: Run) -> dict:
    return {"step": run.step, "loss": round(run.losses[-1], 4), "accuracy": round(run.accuracies[-1], 4)}

HOW_IT_WORKS = """
**Gradient descent.** The network's loss (cross-entropy: −log of the probability it gives the right class)
is a function of its weights. Its gradient says which way each weight should move to lower the loss;
each step moves every weight a little (the *learning rate*) against it. A *mini-batch* estimates the
gradient from a few random points: cheaper and noisier steps.

**Backpropagation** computes all those gradients in one backward sweep. The forward pass stores every
value (z = W·a + b, a = activation(z)). Going back, the chain rule turns the gradient at a layer's output
into the gradient at its input: ∂L/∂z for the logits is p − one-hot(y); for a hidden neuron it is
(the weighted sum of the ∂L/∂z of the neurons it feeds) × the activation's slope at z; and
∂L/∂W = (the activation feeding the weight) × (∂L/∂z of the neuron it feeds). Automatic differentiation
(PyTorch's autograd) does exactly this, recorded from the operations themselves; the table checks the
written-out backprop against finite differences, nudging one weight at a time.

**Optimisers.** *Momentum* keeps a running sum of past gradients, so steps along a long valley add up and
steps across it cancel. *Adam* divides each weight's step by a running estimate of its gradient's size,
so every weight moves at a similar pace. The loss-surface picture shows the difference on a two-weight model.
"""


# --- Gradio / HTTP endpoints -----------------------------------------------------------------------
# Gradio calls are stateless: each trains a fresh network the given number of steps. Because each
# mini-batch depends only on the seed and the step number, that is the very run the page steps through.

def _train_endpoint(toy_set: str, count: int, spread: float, hidden: str, activation: str, optimiser: str,
                    learning_rate: float, batch_size: int, steps: int, example: int, csv_text: str = "") -> tuple:
    points = chosen_points(toy_set, count, spread, csv_text)
    run = trained(points, hidden, activation, optimiser, learning_rate, batch_size, steps)
    through = example_through(run, points, example)
    details = {**run_summary(run), "gradient check (largest |backprop − finite differences|)":
               float(f"{through.largest_difference:.2e}")}
    return (boundary_figure(run, points), details, loss_figure(run), graph_figure(through), gradient_rows(through),
            HOW_IT_WORKS)


def _surface_endpoint(optimiser: str, learning_rate: float, steps: int, start_w: float, start_b: float) -> tuple:
    descent = descend(optimiser, learning_rate, steps, (start_w, start_b))
    details = {"steps": len(descent.path) - 1, "w": round(float(descent.path[-1, 0]), 4),
               "b": round(float(descent.path[-1, 1]), 4), "loss": round(float(descent.losses[-1]), 4),
               "diverged": descent.diverged}
    title = f"{OPTIMISER_NAMES[optimiser]}, learning rate {learning_rate:g}"
    return surface_figure(descent, title), details, path_rows(descent), HOW_IT_WORKS


OPTIMISER_FIELD = ChoiceField("optimiser", "Optimiser", tuple(OPTIMISER_NAMES.items()), "adam")
ENDPOINTS = (
    Endpoint(
        fn=_train_endpoint,
        title="Train a network",
        inputs=(
            *point_fields("moons", 200, 0.2),
            ChoiceField("hidden", "Hidden layers (neurons in each)", choices(HIDDEN_LAYERS), DEFAULT_HIDDEN),
            ChoiceField("activation", "Activation", choices(ACTIVATIONS), "tanh"),
            OPTIMISER_FIELD,
            NumberField("learning_rate", "Learning rate", 0.0001, 2.0, 0.03, step=0.0001),
            NumberField("batch_size", "Batch size", 1, 1000, 32, integer=True),
            NumberField("steps", "Steps", 0, MAX_STEPS, 300, integer=True),
            NumberField("example", "The point shown in the computation graph (its number)", 0, 999, 0,
                        integer=True),
            CSV_FIELD,
        ),
        outputs=(FigureOutput("Decision regions after training"), JsonOutput("Training")),
        insides=(FigureOutput("Loss while training"),
                 FigureOutput("One point's computation graph: forward values and backprop's gradients"),
                 TableOutput("The largest gradients: backprop next to finite differences"),
                 MarkdownOutput("How it works")),
    ),
    Endpoint(
        fn=_surface_endpoint,
        title="Loss surface",
        api_suffix="_surface",
        inputs=(OPTIMISER_FIELD,
                NumberField("learning_rate", "Learning rate", 0.001, 1.0, 0.05, step=0.001),
                NumberField("steps", "Steps", 1, 500, 60, integer=True),
                NumberField("start_w", "Start: w (slope)", -1.5, 4.5, -1.0, step=0.1),
                NumberField("start_b", "Start: b (intercept)", -5.0, 5.0, 4.0, step=0.1)),
        outputs=(FigureOutput("The loss surface of y = w x + b and the optimiser's path"), JsonOutput("Where it ended")),
        insides=(TableOutput("The first steps: position, loss and the gradient followed"),
                 MarkdownOutput("How it works")),
    ),
)
