"""Nearest Neighbours and Overfitting page: widgets only; the work is in demos.knn_lab."""
from __future__ import annotations

import streamlit as st

from demos import knn_lab as demo
from ui import streamlit_kit as kit
from ui.lab_kit import figure, points_caption, points_input

kit.page_header(demo.CARD)
settings, picture = st.columns((1, 2), gap="large")

with settings:
    points = points_input("knn")
    k = st.slider("k (neighbours that vote)", 1, demo.MAX_K, 15)
    depth = st.slider("Tree depth (the second capacity knob)", 1, demo.MAX_DEPTH, 4)

if points is None:
    st.stop()

with kit.user_errors():
    result = demo.explore(points, k, depth)

with picture:
    figure(demo.boundary_figure(result))
    train_error, test_error = result.knn_curve.at(result.k)
    kit.key_numbers({"Training error": f"{train_error:.0%}", "Test error": f"{test_error:.0%}",
                     "Best k (lowest test error)": str(result.knn_curve.best)})
    kit.ran_on("cpu", result.seconds)
    points_caption(points)

with st.expander("How it works", expanded=True):
    figure(demo.strip_figure(result))
    words, curve = st.columns(2, gap="large")
    words.markdown(demo.HOW_IT_WORKS)
    with curve:
        figure(demo.knn_curve_figure(result))
    figure(demo.tree_figure(result))
    st.dataframe(demo.comparison_rows(result), hide_index=True)
