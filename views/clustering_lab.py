"""Clustering and Feature Maps page: widgets only; the work is in demos.clustering_lab. Each tab is a
fragment: moving a slider in one redraws that tab only."""
from __future__ import annotations

import streamlit as st

from demos import clustering_lab as demo
from ui import streamlit_kit as kit
from ui.lab_kit import figure, points_caption, points_input


@st.fragment
def toy_sets() -> None:
    settings, picture = st.columns((1, 2), gap="large")
    with settings:
        points = points_input("clustering", count=300, spread=0.05, label_noise=False)
        k = st.slider("k (clusters)", 1, demo.MAX_CLUSTERS, 2)
        init = st.segmented_control("Start", demo.INITS, default="random points", key="clustering_init")
        eps = st.slider("DBSCAN eps (radius, in standard deviations)", 0.05, 1.5, 0.3, 0.05)
        min_samples = st.slider("DBSCAN min samples", 1, 30, 5)
    if points is None or init is None:
        return
    with kit.user_errors():
        result = demo.cluster_toys(points, k, init, eps, min_samples)
    with picture:
        last = len(result.history) - 1
        shown = st.slider("Half-step (0 = start, then assign, move, assign, …)", 0, last, min(3, last))
        figure(demo.kmeans_figure(result.points, result.history, shown))
        kit.ran_on("cpu", result.seconds)
        points_caption(points)
    figure(demo.steps_figure(result.points, result.history))
    chart, dbscan = st.columns(2, gap="large")
    with chart:
        figure(demo.inertia_figure(result.history))
    with dbscan:
        figure(demo.dbscan_figure(result.points, result.dbscan_labels, result.dbscan_core, eps))
    st.dataframe(result.scores(), hide_index=True)


@st.fragment
def digits() -> None:
    settings, picture = st.columns((1, 2), gap="large")
    with settings:
        digit = kit.image_input("clustering_digit", "Your digit",
                                examples={name: (lambda character=character: demo.example_digit(character))
                                          for name, character in demo.EXAMPLE_NAMES.items()})
        st.caption("Write one digit on paper (or in a drawing app) and photograph or upload it. The examples are "
                   "typed in a font, not handwritten: the map puts some of them with another digit.")
        map_name = st.segmented_control("Map", demo.MAPS, default="t-SNE", key="clustering_map")
        neighbours = st.slider("Nearest digits to show", 1, demo.MAX_NEIGHBOURS, 8)
        clusters = st.slider("k-means clusters on the digits", 2, demo.MAX_CLUSTERS, 10)
    if digit is None or map_name is None:
        return
    with kit.user_errors():
        data = demo.load()
        placement = demo.place_digit(digit, neighbours)
    with picture:
        figure(demo.map_figure(demo.the_map(map_name), data, placement, map_name))
        kit.key_numbers({"Its nearest digits say": str(placement.vote)})
    figure(demo.neighbours_figure(placement, data))
    found = demo.cluster_digits(clusters)
    figure(demo.features_figure(found.centres, found.usual_digits, data.pca.components_))
    st.caption(f"k-means with k = {clusters} on the 64 pixels, in {found.iterations} iterations: adjusted Rand "
               f"index {found.rand_index:.2f} against the true digits, which it never saw.")


kit.page_header(demo.CARD)
toy_tab, digits_tab = st.tabs(["k-means and DBSCAN", "Digits: maps and your digit"])
with toy_tab:
    toy_sets()
with digits_tab:
    digits()
with st.expander("How it works"):
    st.markdown(demo.HOW_IT_WORKS)
