"""A small multilayer perceptron in numpy, with backpropagation and three optimisers written out.

Everything is plain data: parameters are a list of arrays (weights, bias, weights, bias, ...), an
optimiser's memory is a list of arrays shaped like them. Nothing here keeps state between calls.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid")
OPTIMISERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9  # PyTorch's convention: velocity = 0.9 velocity + gradient
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8

Parameters = list[np.ndarray]  # [W1, b1, W2, b2, ...]; W is (inputs, outputs)


def initial_parameters(sizes: tuple[int, ...], activation: str, seed: int) -> Parameters:
    """Weights drawn with variance 1/fan-in (2/fan-in for ReLU, He et al.), biases zero: signals neither
    vanish nor blow up at the start."""
    rng = np.random.default_rng(seed)
    gain = 2.0 if activation == "relu" else 1.0
    parameters = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        parameters += [rng.normal(0.0, np.sqrt(gain / fan_in), (fan_in, fan_out)), np.zeros(fan_out)]
    return parameters


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    return 1.0 / (1.0 + np.exp(-z))


def activation_slope(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    """d activation / dz, from z and the activation a it gave."""
    if activation == "tanh":
        return 1.0 - a ** 2
    if activation == "relu":
        return (z > 0).astype(float)
    return a * (1.0 - a)


@dataclass(frozen=True)
class Forward:
    """Every value the forward pass computed: what backprop needs, and what the graph shows."""

    zs: list[np.ndarray]  # pre-activations per layer, (n, width); the last are the logits
    activations: list[np.ndarray]  # the input, then each hidden layer's activations
    probabilities: np.ndarray  # softmax of the logits, (n, classes)
    loss: float  # mean cross-entropy


def forward(parameters: Parameters, xy: np.ndarray, labels: np.ndarray | None, activation: str) -> Forward:
    """The network on ``xy``; the loss against ``labels`` (NaN without them: a prediction)."""
    zs, activations = [], [xy]
    layers = len(parameters) // 2
    for layer in range(layers):
        z = activations[-1] @ parameters[2 * layer] + parameters[2 * layer + 1]
        zs.append(z)
        if layer < layers - 1:
            activations.append(activate(z, activation))
    probabilities = softmax(zs[-1])
    if labels is None:
        return Forward(zs, activations, probabilities, float("nan"))
    picked = probabilities[np.arange(len(labels)), labels]
    return Forward(zs, activations, probabilities, float(-np.log(np.maximum(picked, 1e-300)).mean()))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))  # the same ratios, no overflow
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Backward:
    gradients: Parameters  # dLoss/d each parameter, shaped like it
    z_gradients: list[np.ndarray]  # dLoss/dz per layer (n, width): what each neuron passes back


def backward(parameters: Parameters, passed: Forward, labels: np.ndarray, activation: str) -> Backward:
    """The chain rule, layer by layer from the loss back to the input."""
    count = len(labels)
    dz = passed.probabilities.copy()
    dz[np.arange(count), labels] -= 1.0  # d(mean cross-entropy of softmax)/d logits = (p - one-hot) / n
    dz /= count
    layers = len(parameters) // 2
    gradients: Parameters = [np.empty(0)] * len(parameters)
    z_gradients = [dz]
    for layer in reversed(range(layers)):
        gradients[2 * layer] = passed.activations[layer].T @ dz
        gradients[2 * layer + 1] = dz.sum(axis=0)
        if layer:
            upstream = dz @ parameters[2 * layer].T  # dLoss/d the activations that fed this layer
            dz = upstream * activation_slope(passed.zs[layer - 1], passed.activations[layer], activation)
            z_gradients.insert(0, dz)
    return Backward(gradients, z_gradients)


def numerical_gradients(parameters: Parameters, xy: np.ndarray, labels: np.ndarray, activation: str,
                        step: float = 1e-6) -> Parameters:
    """Central differences, one parameter at a time: slow, obviously right, a check on backprop."""
    estimates = []
    for index, parameter in enumerate(parameters):
        estimate = np.zeros_like(parameter)
        for position in np.ndindex(parameter.shape):
            nudged = [array.copy() for array in parameters]
            nudged[index][position] += step
            up = forward(nudged, xy, labels, activation).loss
            nudged[index][position] -= 2 * step
            estimate[position] = (up - forward(nudged, xy, labels, activation).loss) / (2 * step)
        estimates.append(estimate)
    return estimates


# --- optimisers: (parameters, gradients, memory, step number) -> (new parameters, new memory) -----------

def empty_memory(optimiser: str, parameters: Parameters) -> list[Parameters]:
    """What the optimiser remembers between steps: nothing, a velocity, or Adam's two moment estimates."""
    kept = {"sgd": 0, "momentum": 1, "adam": 2}[optimiser]
    return [[np.zeros_like(parameter) for parameter in parameters] for _ in range(kept)]


def optimiser_step(optimiser: str, parameters: Parameters, gradients: Parameters, memory: list[Parameters],
                   learning_rate: float, step: int) -> tuple[Parameters, list[Parameters]]:
    """One update; ``step`` counts from 1 (Adam corrects its moment estimates' start-up bias with it)."""
    if optimiser == "sgd":
        return [p - learning_rate * g for p, g in zip(parameters, gradients)], memory
    if optimiser == "momentum":
        velocity = [MOMENTUM * v + g for v, g in zip(memory[0], gradients)]
        return [p - learning_rate * v for p, v in zip(parameters, velocity)], [velocity]
    beta1, beta2 = ADAM_BETAS
    first = [beta1 * m + (1 - beta1) * g for m, g in zip(memory[0], gradients)]
    second = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(memory[1], gradients)]
    updated = [p - learning_rate * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + ADAM_EPSILON)
               for p, m, v in zip(parameters, first, second)]
    return updated, [first, second]
