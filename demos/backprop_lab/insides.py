"""What the backprop lab shows: the decision regions, the loss curve, one example's computation graph with
its forward values and gradients, and the two-parameter loss surface with the optimiser's path."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from core.points import Points, draw_points, draw_regions, plane_grid
from demos.backprop_lab.network import Backward, Forward, Parameters, backward, forward, numerical_gradients
from demos.backprop_lab.surface import B_RANGE, W_RANGE, Descent, least_squares, line_loss, line_points
from demos.backprop_lab.training import Run, predict

GRID_STEPS = 90
GRADIENT_ROWS = 12  # the parameters with the largest gradients, in the table
POSITIVE, NEGATIVE = "#d62728", "#1f77b4"  # weight signs on the graph's edges
LABEL_BOX = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.6}  # a neuron's numbers over the edges


def boundary_figure(run: Run, points: Points) -> Figure:
    grid = plane_grid(points.xy, GRID_STEPS)
    figure = Figure(figsize=(5, 4.4), layout="constrained")
    axes = figure.add_subplot()
    draw_regions(axes, grid, predict(run, grid.points), len(points.classes))
    draw_points(axes, points)
    axes.set_title(f"Step {run.step}: loss {run.losses[-1]:.3f}, accuracy {run.accuracies[-1]:.0%}", fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])
    return figure


def loss_figure(run: Run) -> Figure:
    figure = Figure(figsize=(5, 3), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(np.arange(len(run.losses)), run.losses, linewidth=1.2)
    axes.set_ylim(bottom=0)
    axes.set_xlabel("step")
    axes.set_ylabel("cross-entropy on all points")
    axes.set_title("Loss while training", fontsize=10)
    return figure


# --- one example through the network ------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    index: int
    label: int
    passed: Forward  # its forward pass
    gradients: Backward  # what backprop computes
    numerical: Parameters  # what finite differences estimate
    parameters: Parameters

    @property
    def largest_difference(self) -> float:
        return max(float(np.abs(g - n).max()) for g, n in zip(self.gradients.gradients, self.numerical))


def example_through(run: Run, points: Points, index: int) -> Example:
    """Point ``index`` forward through the network and its loss back, checked by finite differences."""
    index = min(index, len(points) - 1)
    xy = (points.xy[index:index + 1] - run.mean) / run.scale
    label = points.labels[index:index + 1]
    passed = forward(run.parameters, xy, label, run.activation)
    return Example(index, int(label[0]), passed, backward(run.parameters, passed, label, run.activation),
                   numerical_gradients(run.parameters, xy, label, run.activation), run.parameters)


def graph_figure(example: Example) -> Figure:
    """Neurons in columns, each with its forward value (black) and dLoss/dz (red); edges coloured by the
    weight's sign, as thick as it is large."""
    passed, z_gradients = example.passed, example.gradients.z_gradients
    columns = [passed.activations[0][0], *[z[0] for z in passed.zs]]
    tallest = max(len(column) for column in columns)
    figure = Figure(figsize=(9.5, 1.6 + 0.7 * tallest), layout="constrained")  # room for two lines a neuron
    axes = figure.add_subplot()
    axes.set_axis_off()
    place = [np.linspace(tallest - 1, 0, len(column)) if len(column) > 1 else np.array([(tallest - 1) / 2])
             for column in columns]  # neuron 0 on top
    edges, colours, widths = [], [], []
    for layer, weights in enumerate(example.parameters[0::2]):
        biggest = np.abs(weights).max() or 1.0
        for (i, j), weight in np.ndenumerate(weights):
            edges.append([(layer, place[layer][i]), (layer + 1, place[layer + 1][j])])
            colours.append(POSITIVE if weight > 0 else NEGATIVE)
            widths.append(0.3 + 2.5 * abs(weight) / biggest)
    axes.add_collection(LineCollection(edges, colors=colours, linewidths=widths, alpha=0.6, zorder=1))
    last = len(columns) - 1
    for layer, values in enumerate(columns):
        axes.scatter(np.full(len(values), layer), place[layer], s=260, color="white", edgecolors="black", zorder=2)
        for neuron, value in enumerate(values):
            y = place[layer][neuron]
            axes.text(layer, y + 0.22, _node_text(example, layer, neuron, value, last), ha="center", fontsize=6.5,
                      zorder=3, bbox=LABEL_BOX)
            if layer:
                axes.text(layer, y - 0.22, f"∂L/∂z {z_gradients[layer - 1][0, neuron]:+.3f}", ha="center",
                          va="top", fontsize=6.5, color=POSITIVE, zorder=3, bbox=LABEL_BOX)
    axes.annotate(f"loss = −log p(class {example.label})\n= {passed.loss:.3f}", (last + 0.55, (tallest - 1) / 2),
                  ha="center", va="center", fontsize=8, bbox={"boxstyle": "round", "facecolor": "#f3f3f3"})
    axes.set_xlim(-0.5, last + 1.0)
    axes.set_ylim(-1, tallest)
    names = ["input (standardised)", *[f"hidden {layer}" for layer in range(1, last)], "logits → softmax"]
    for layer, name in enumerate(names):
        axes.text(layer, tallest - 0.2, name, ha="center", fontsize=8, weight="bold")
    axes.set_title(f"Point {example.index} (class {example.label}): forward values and the gradients backprop "
                   "sends back", fontsize=10)
    return figure


def _node_text(example: Example, layer: int, neuron: int, value: float, last: int) -> str:
    if layer == 0:
        return f"x{neuron + 1} = {value:+.2f}"
    if layer == last:
        return f"z {value:+.2f}, p {example.passed.probabilities[0, neuron]:.2f}"
    return f"z {value:+.2f}, a {example.passed.activations[layer][0, neuron]:+.2f}"


def gradient_rows(example: Example) -> list[dict]:
    """The parameters with the largest gradients: backprop's value next to the finite-difference estimate."""
    rows = []
    for index, (value, gradient, estimate) in enumerate(zip(example.parameters, example.gradients.gradients,
                                                            example.numerical)):
        layer, is_bias = index // 2 + 1, index % 2 == 1
        for position in np.ndindex(value.shape):
            name = f"b{layer}[{position[0]}]" if is_bias else f"W{layer}[{position[0]}→{position[1]}]"
            rows.append({"parameter": name, "value": round(float(value[position]), 4),
                         "backprop gradient": float(gradient[position]),
                         "finite differences": float(estimate[position])})
    rows.sort(key=lambda row: -abs(row["backprop gradient"]))
    return [{**row, "backprop gradient": f"{row['backprop gradient']:+.6f}",
             "finite differences": f"{row['finite differences']:+.6f}"} for row in rows[:GRADIENT_ROWS]]


# --- the two-parameter loss surface -------------------------------------------------------------------

def surface_figure(descent: Descent, title: str) -> Figure:
    points = line_points()
    ws, bs = np.linspace(*W_RANGE, 160), np.linspace(*B_RANGE, 160)
    losses = line_loss(points, *np.meshgrid(ws, bs))
    figure = Figure(figsize=(9, 4), layout="constrained")
    surface_axes, curve_axes = figure.subplots(1, 2, width_ratios=(1.3, 1))
    surface_axes.imshow(losses, extent=(*W_RANGE, *B_RANGE), origin="lower", aspect="auto", norm=LogNorm(),
                        cmap="viridis")
    surface_axes.contour(ws, bs, losses, levels=np.geomspace(losses.min() * 1.05, losses.max(), 12), colors="white",
                         linewidths=0.4, alpha=0.5)
    surface_axes.plot(descent.path[:, 0], descent.path[:, 1], color="white", marker=".", markersize=4,
                      linewidth=1)
    surface_axes.scatter(*descent.path[0], color="white", edgecolors="black", s=60, zorder=3, label="start")
    surface_axes.scatter(*least_squares(points), marker="*", color="gold", edgecolors="black", s=160, zorder=3,
                         label="minimum")
    surface_axes.set_xlim(*W_RANGE)
    surface_axes.set_ylim(*B_RANGE)
    surface_axes.set_xlabel("w (slope)")
    surface_axes.set_ylabel("b (intercept)")
    surface_axes.legend(fontsize=8, loc="upper right")
    surface_axes.set_title(title, fontsize=10)
    curve_axes.plot(descent.losses, marker=".", markersize=3)
    curve_axes.axhline(float(line_loss(points, *least_squares(points))), color="gold", linestyle="--",
                       label="lowest possible")
    curve_axes.set_yscale("log")
    curve_axes.set_xlabel("step")
    curve_axes.set_ylabel("mean squared error")
    curve_axes.legend(fontsize=8, loc="upper right")
    curve_axes.set_title("Loss along the path", fontsize=10)
    return figure


def path_rows(descent: Descent, count: int = 10) -> list[dict]:
    """The first steps: where the optimiser stood, the gradient it followed, the loss there."""
    return [{"step": step, "w": round(float(w), 4), "b": round(float(b), 4),
             "loss": round(float(descent.losses[step]), 4),
             "gradient (w, b)": f"({gradient[0]:+.3f}, {gradient[1]:+.3f})"}
            for step, ((w, b), gradient) in enumerate(zip(descent.path[:count], descent.gradients[:count]))]
