"""Streamlit pieces the labs share: points to learn from (a toy set with its knobs, or the visitor's CSV),
and figures drawn at screen resolution."""
from __future__ import annotations

import streamlit as st

from matplotlib.figure import Figure

from core.plotting import figure_png
from core.points import MAX_POINT_ROWS, TOY_SETS, Points, points_csv, read_points_csv, read_points_file, toy_points
from core.markdown import plain
from ui.streamlit_kit import user_errors

SOURCES = ("Toy set", "Upload", "Paste")
CSV_HINT = f"One point per line: x, y, label (a header line is fine; up to {MAX_POINT_ROWS:,} points)."


def points_input(key: str, default_set: str = "moons", count: int = 300, spread: float = 0.25,
                 label_noise: bool = True) -> Points | None:
    """The points to learn from; None (with a hint) until a CSV is given. ``label_noise``: offer the slider."""
    source = st.segmented_control("Points: source", SOURCES, default=SOURCES[0], key=f"{key}_source")
    if source == "Upload":
        upload = st.file_uploader("Your points (CSV)", type=["csv", "txt"], key=f"{key}_upload", help=CSV_HINT)
        if upload is None:
            st.info(f"Upload a CSV to start. {CSV_HINT}")
            return None
        with user_errors():
            return read_points_file(upload.getvalue())
    if source == "Paste":
        example = points_csv(toy_points(default_set, 40, spread, seed=1))
        text = st.text_area("Your points (CSV)", example, height=180, key=f"{key}_paste", help=CSV_HINT)
        with user_errors():
            return read_points_csv(text)
    toy_set = st.selectbox("Toy set", TOY_SETS, index=TOY_SETS.index(default_set), key=f"{key}_set")
    count = st.slider("Points", 50, 1000, count, 10, key=f"{key}_count")
    spread = st.slider("Spread (how much the classes overlap)", 0.0, 0.6, spread, 0.05, key=f"{key}_spread")
    noise = st.slider("Label noise (fraction of labels swapped)", 0.0, 0.5, 0.1, 0.05,
                      key=f"{key}_noise") if label_noise else 0.0
    return toy_points(toy_set, count, spread, noise)


def points_caption(points: Points) -> None:
    """How many points, and the classes they come in (labels a visitor's CSV named are theirs)."""
    st.caption(plain(f"{len(points)} points in {len(points.classes)} classes: {', '.join(points.classes)}"))


FIGURE_DPI = 110  # st.pyplot draws at 200 dpi: 3.3 times the pixels, and most of a lab's second on this CPU


def figure(chart: Figure) -> None:
    """A figure as wide as its column."""
    st.image(figure_png(chart, FIGURE_DPI), width="stretch")
