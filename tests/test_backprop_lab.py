"""The backprop lab: its hand-written gradients and optimisers agree with PyTorch's, a run stepped one
click at a time is the run trained at once, and training actually learns."""
import json

import numpy as np
import pytest
import torch

import demos.backprop_lab as lab
from core.points import toy_points
from demos.backprop_lab.network import backward, forward, initial_parameters, optimiser_step
from demos.backprop_lab.surface import descend, least_squares, line_gradient, line_loss, line_points
from demos.backprop_lab.training import start, train

TORCH_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


def _autograd(parameters, xy, labels, activation):
    """The same network's loss and gradients, from PyTorch's autograd."""
    tensors = [torch.tensor(parameter, dtype=torch.float64, requires_grad=True) for parameter in parameters]
    hidden = torch.tensor(xy, dtype=torch.float64)
    for layer in range(len(tensors) // 2):
        hidden = hidden @ tensors[2 * layer] + tensors[2 * layer + 1]
        if layer < len(tensors) // 2 - 1:
            hidden = TORCH_ACTIVATIONS[activation](hidden)
    loss = torch.nn.functional.cross_entropy(hidden, torch.tensor(labels))
    loss.backward()
    return float(loss), [tensor.grad.numpy() for tensor in tensors]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("sizes", [(2, 3, 2), (2, 8, 8, 3), (2, 4, 4, 4, 2)])
def test_backprop_gradients_equal_torch_autograd(activation, sizes):
    rng = np.random.default_rng(1)
    parameters = [parameter + rng.normal(0, 0.1, parameter.shape)  # non-zero biases too
                  for parameter in initial_parameters(sizes, activation, seed=2)]
    xy, labels = rng.normal(size=(16, 2)), rng.integers(0, sizes[-1], 16)
    passed = forward(parameters, xy, labels, activation)
    loss, expected = _autograd(parameters, xy, labels, activation)
    assert passed.loss == pytest.approx(loss, rel=1e-12)
    for ours, theirs in zip(backward(parameters, passed, labels, activation).gradients, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("optimiser, reference", [
    ("sgd", lambda params: torch.optim.SGD(params, lr=0.05)),
    ("momentum", lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9)),
    ("adam", lambda params: torch.optim.Adam(params, lr=0.05)),
])
def test_optimisers_take_the_same_steps_as_torch_optim(optimiser, reference):
    rng = np.random.default_rng(0)
    ours = [rng.normal(size=(2, 3)), rng.normal(size=3)]
    theirs = [torch.tensor(parameter, requires_grad=True) for parameter in ours]
    torch_optimiser = reference(theirs)
    memory = lab.network.empty_memory(optimiser, ours)
    for step in range(1, 8):
        gradients = [rng.normal(size=parameter.shape) for parameter in ours]
        ours, memory = optimiser_step(optimiser, ours, gradients, memory, 0.05, step)
        for tensor, gradient in zip(theirs, gradients):
            tensor.grad = torch.tensor(gradient)
        torch_optimiser.step()
    for mine, tensor in zip(ours, theirs):
        np.testing.assert_allclose(mine, tensor.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def moons():
    return toy_points("moons", 200, 0.2)


def test_stepping_one_click_at_a_time_is_the_run_trained_at_once(moons):
    at_once = lab.trained(moons, "8-8", "tanh", "momentum", 0.1, 16, 25)
    run = start(moons, (8, 8), "tanh", 0)
    for _ in range(25):
        run = train(run, moons, "momentum", 0.1, 16, 1)
    assert run.step == at_once.step == 25
    for mine, theirs in zip(run.parameters, at_once.parameters):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert run.losses == pytest.approx(at_once.losses)


def test_training_learns_the_moons(moons):
    run = lab.trained(moons, "8-8", "tanh", "adam", 0.03, 32, 300)
    assert run.losses[-1] < run.losses[0] / 3
    assert run.accuracies[-1] >= 0.9


def test_a_learning_rate_too_large_makes_the_loss_worse_than_a_modest_one(moons):
    modest = lab.trained(moons, "8-8", "tanh", "momentum", 0.03, 32, 200)
    too_large = lab.trained(moons, "8-8", "tanh", "momentum", 2.0, 32, 200)
    assert too_large.losses[-1] > 5 * modest.losses[-1]


def test_one_points_graph_holds_backprops_gradients_checked_by_finite_differences(moons):
    run = lab.trained(moons, "4-4", "tanh", "adam", 0.03, 32, 50)
    example = lab.example_through(run, moons, 7)
    assert example.index == 7 and example.label == moons.labels[7]
    assert example.largest_difference < 1e-7
    assert len(example.gradients.z_gradients) == 3  # two hidden layers and the logits
    rows = lab.gradient_rows(example)
    assert abs(float(rows[0]["backprop gradient"])) >= abs(float(rows[-1]["backprop gradient"]))


def test_the_line_models_gradient_is_the_slope_of_its_loss():
    points, w, b, nudge = line_points(), 0.3, 2.0, 1e-6
    numerical = [(line_loss(points, w + nudge, b) - line_loss(points, w - nudge, b)) / (2 * nudge),
                 (line_loss(points, w, b + nudge) - line_loss(points, w, b - nudge)) / (2 * nudge)]
    np.testing.assert_allclose(line_gradient(points, w, b), numerical, rtol=1e-6)


def test_momentum_reaches_the_bottom_of_the_valley_and_a_huge_step_diverges():
    bottom = least_squares(line_points())
    assert np.allclose(descend("momentum", 0.05, 300, (-1.0, 4.0)).path[-1], bottom, atol=1e-3)
    assert descend("sgd", 1.0, 100, (-1.0, 4.0)).diverged


def test_page_trains_step_by_step_and_a_new_activation_starts_again(gallery):
    app = gallery.switch_page("views/backprop_lab.py").run()
    assert not app.exception and not app.error
    assert app.metric[0].value == "0"
    for _ in range(2):
        next(button for button in app.button if button.label == "100 steps").click().run()
    assert app.metric[0].value == "200" and float(app.metric[1].value) < 0.3
    next(box for box in app.selectbox if box.label == "Activation").set_value("relu").run()
    assert app.metric[0].value == "0"


def test_gradio_trains_and_draws_the_loss_surface(gradio_client):
    _, details, *_ = gradio_client.predict("moons", 200, 0.2, "8-8", "tanh", "adam", 0.03, 32, 300, 5, "",
                                           api_name="/backprop_lab")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["step"] == 300 and details["accuracy"] >= 0.9
    _, ended, *_ = gradio_client.predict("momentum", 0.05, 300, -1.0, 4.0, api_name="/backprop_lab_surface")
    ended = ended if isinstance(ended, dict) else json.loads(ended)
    assert [ended["w"], ended["b"]] == pytest.approx(least_squares(line_points()), abs=1e-3)
