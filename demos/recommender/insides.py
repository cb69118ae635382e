"""Explain: the space the vectors live in (a 2D map of every movie) and one visitor-movie pair's dot product."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from core.plotting import vectors_figure
from core.validation import InputError
from demos.recommender.model import Recommendations, Recommender

def main_genre(genres: pd.Series) -> pd.Series:
    """One genre per movie for colouring: its rarest listed genre (Animation says more than Comedy)."""
    split = genres.str.split("|")
    frequency = split.explode().value_counts()
    return split.map(lambda names: min(names, key=lambda name: frequency[name]))


def latent_map(recommender: Recommender, result: Recommendations | None = None,
               min_fans: int = 5) -> pd.DataFrame:
    """Points of the 2D map of movie vectors: movies at least ``min_fans`` people liked, plus the
    visitor's picks and recommendations, with the role each plays."""
    movies = recommender.catalogue.movies
    role = pd.Series("other movie", index=movies.index)
    if result is not None:
        role.iloc[result.items] = "recommended"
        role.iloc[result.picks] = "your pick"
    shown = (movies["fans"] >= min_fans) | (role != "other movie")
    frame = pd.DataFrame({"x": recommender.map_xy[:, 0], "y": recommender.map_xy[:, 1],
                          "movie": movies["label"], "genre": main_genre(movies["genres"]),
                          "genres": movies["genres"].str.replace("|", ", "), "fans": movies["fans"],
                          "role": role})
    return frame[shown].sort_values("role", key=lambda r: r != "other movie")  # highlights drawn last


def latent_map_chart(frame: pd.DataFrame):
    """An interactive scatter (altair) of the map: colour = genre, picks and recommendations marked."""
    import altair as alt

    base = alt.Chart(frame).encode(
        x=alt.X("x", title="principal axis 1"), y=alt.Y("y", title="principal axis 2"),
        tooltip=["movie", "genres", "fans", "role"])
    everyone = base.transform_filter(alt.datum.role == "other movie").mark_circle(size=18, opacity=0.45).encode(
        color=alt.Color("genre", title="genre (rarest listed)", scale=alt.Scale(scheme="tableau20")))
    highlighted = base.transform_filter(alt.datum.role != "other movie").mark_point(
        size=160, filled=True, stroke="black", strokeWidth=1).encode(
        shape=alt.Shape("role", title="", scale=alt.Scale(domain=["your pick", "recommended"],
                                                          range=["diamond", "circle"])),
        fill=alt.Fill("role", legend=None, scale=alt.Scale(domain=["your pick", "recommended"],
                                                           range=["#e45756", "#ffd700"])))
    return (everyone + highlighted).properties(height=520).interactive()


def pair_vectors(recommender: Recommender, result: Recommendations, movie: int) -> dict[str, np.ndarray | float]:
    """The visitor's vector, one movie's vector, their element-wise product and its sum: the score."""
    if result.user_vector is None:
        raise InputError("Only the ALS model has vectors: switch the method to ALS.")
    user, item = result.user_vector, recommender.item_factors[movie]
    return {"you": user, "movie": item, "product": user * item, "score": float(user @ item)}


def pair_figure(recommender: Recommender, result: Recommendations, movie: int) -> Figure:
    pair = pair_vectors(recommender, result, movie)
    label = recommender.catalogue.movies["label"].iat[movie]
    return vectors_figure({"your vector": pair["you"], f"{label}": pair["movie"],
                           "product (sums to the score)": pair["product"]},
                          f"score = your vector · movie vector = {pair['score']:.3f}", "latent factor",
                          bars=pair["you"].size <= 32)  # lines read better than a forest of bars
