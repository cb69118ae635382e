"""Gradient Descent and Backprop page: widgets only; the work is in demos.backprop_lab. The training run
lives in the visitor's session (plain data) and goes back to the demo for every step."""
from __future__ import annotations

import streamlit as st

from demos import backprop_lab as demo
from ui import streamlit_kit as kit
from ui.lab_kit import figure, points_caption, points_input

LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0)
BATCH_SIZES = (1, 4, 16, 32, 64, 128, 1000)
RUN_STEPS = 100
RUN_KEY = "backprop_run"
SEED = 0


def optimiser_choice(key: str, default: str, default_rate: float) -> tuple[str, float]:
    names = list(demo.OPTIMISER_NAMES)
    optimiser = st.selectbox("Optimiser", names, index=names.index(default), key=f"{key}_optimiser",
                             format_func=demo.OPTIMISER_NAMES.__getitem__)
    rate = st.select_slider("Learning rate", LEARNING_RATES, value=default_rate, key=f"{key}_rate")
    return optimiser, rate


@st.fragment
def network() -> None:
    """The MLP trained step by step, and one point's computation graph."""
    settings, picture = st.columns((1, 2), gap="large")
    with settings:
        points = points_input("backprop", count=200, spread=0.2, label_noise=False)
        hidden = st.selectbox("Hidden layers (neurons in each)", demo.HIDDEN_LAYERS,
                              index=demo.HIDDEN_LAYERS.index(demo.DEFAULT_HIDDEN))
        activation = st.selectbox("Activation", demo.ACTIVATIONS)
        optimiser, rate = optimiser_choice("network", "adam", 0.03)
        batch_size = st.select_slider("Batch size", BATCH_SIZES, value=32)
        one, many, again = st.columns(3)
        step_once = one.button("1 step", width="stretch")
        step_many = many.button(f"{RUN_STEPS} steps", type="primary", width="stretch")
        restart = again.button("Reset", width="stretch")
    if points is None:
        return
    with kit.user_errors():
        widths = demo.hidden_widths(hidden)
        run = st.session_state.get(RUN_KEY)
        if restart or not demo.is_run_for(run, points, widths, activation, SEED):
            run = demo.start(points, widths, activation, SEED)
        if step_once or step_many:
            run = demo.train(run, points, optimiser, rate, batch_size, 1 if step_once else RUN_STEPS)
        st.session_state[RUN_KEY] = run
    with picture:
        figure(demo.boundary_figure(run, points))
        kit.key_numbers({"Step": str(run.step), "Loss": f"{run.losses[-1]:.3f}",
                         "Accuracy": f"{run.accuracies[-1]:.0%}"})
        points_caption(points)
        st.caption("Changing the points, the layers or the activation starts a new network; the optimiser, "
                   "learning rate and batch size apply from the next step on.")
        figure(demo.loss_figure(run))
    with st.expander("Backpropagation on one point", expanded=True):
        index = st.slider("The point shown (its number)", 0, len(points) - 1, 0)
        through = demo.example_through(run, points, index)
        figure(demo.graph_figure(through))
        st.caption(f"The largest difference between backprop's gradients and finite differences, over all "
                   f"{sum(parameter.size for parameter in run.parameters)} parameters: "
                   f"{through.largest_difference:.1e}.")
        st.dataframe(demo.gradient_rows(through), hide_index=True)


@st.fragment
def surface() -> None:
    """The two-parameter loss surface and the optimiser's path."""
    settings, picture = st.columns((1, 2), gap="large")
    with settings:
        surface_optimiser, surface_rate = optimiser_choice("surface", "sgd", 0.03)
        steps = st.slider("Steps", 1, 300, 100)
        start_w = st.slider("Start: w (slope)", -1.5, 4.5, -1.0, 0.1)
        start_b = st.slider("Start: b (intercept)", -5.0, 5.0, 4.0, 0.1)
    descent = demo.descend(surface_optimiser, surface_rate, steps, (start_w, start_b))
    with picture:
        title = f"{demo.OPTIMISER_NAMES[surface_optimiser]}, learning rate {surface_rate:g}"
        figure(demo.surface_figure(descent, title))
        if descent.diverged:
            kit.notice("The path left the picture: the steps grow instead of shrinking. Lower the learning rate.",
                       icon="⚠️")
        st.dataframe(demo.path_rows(descent), hide_index=True)


kit.page_header(demo.CARD)
network_tab, surface_tab = st.tabs(["Train a network", "Loss surface"])
with network_tab:
    network()
with surface_tab:
    surface()
with st.expander("How it works", expanded=False):
    st.markdown(demo.HOW_IT_WORKS)
