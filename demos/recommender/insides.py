"""Explain: the space the vectors live in (a 2D map of every movie), one visitor-movie pair's dot product,
and the movies whose vectors point the same way as one movie's."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from core.plotting import vectors_figure
from core.validation import InputError
from demos.recommender.data import Catalogue
from demos.recommender.model import Recommendations, Recommender, similar_movies
from demos.recommender.titles import describe, pick_options

HIGHLIGHTS = {"your pick": "#e45756", "recommended": "#ffd700"}  # the map's marks: role -> colour
MAP_HEIGHT = 420  # pixels of the map itself, legends apart
LEGEND_COLUMNS = 3  # genres per legend row under the map: three fit a phone's width


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
    """An interactive scatter (altair) of the map: colour = genre, picks and recommendations marked. The
    legends sit over and under the map, so on a phone it keeps the whole width (at the right they took half)."""
    import altair as alt

    base = alt.Chart(frame).encode(
        x=alt.X("x", title="principal axis 1"), y=alt.Y("y", title="principal axis 2"),
        tooltip=["movie", "genres", "fans", "role"])
    everyone = base.transform_filter(alt.datum.role == "other movie").mark_circle(size=18, opacity=0.45).encode(
        color=alt.Color("genre", title="genre (rarest listed)", scale=alt.Scale(scheme="tableau20"),
                        legend=alt.Legend(orient="bottom", direction="horizontal", columns=LEGEND_COLUMNS,
                                          symbolOpacity=1)))
    # shape and fill share a field and a legend's settings: Vega-Lite draws one legend of coloured shapes, over
    # the map (beside the genres it would run past a phone's edge)
    roles = list(HIGHLIGHTS)
    legend = alt.Legend(orient="top", title="you", symbolSize=160, symbolStrokeWidth=1)  # as big as on the map
    highlighted = base.transform_filter(alt.datum.role != "other movie").mark_point(
        size=160, filled=True, stroke="black", strokeWidth=1).encode(
        shape=alt.Shape("role", legend=legend, scale=alt.Scale(domain=roles, range=["diamond", "circle"])),
        fill=alt.Fill("role", legend=legend, scale=alt.Scale(domain=roles, range=list(HIGHLIGHTS.values()))))
    # the width fits the column, the height is the map's own: the legends add to it rather than squeeze it
    return (everyone + highlighted).properties(height=MAP_HEIGHT, autosize=alt.AutoSizeParams(
        type="fit-x", contains="padding")).interactive()


def latent_map_figure(frame: pd.DataFrame) -> Figure:
    """The map as a still figure, for a front end without interactive charts: colour = genre, the picks
    (diamonds) and recommendations (circles) marked and named; the legend under the map, in type that a phone's
    screen can still show (beside the map it had to be 6-point)."""
    figure = Figure(figsize=(9, 7), layout="constrained")
    axes = figure.add_subplot()
    others = frame[frame["role"] == "other movie"]
    palette = colormaps["tab20"]
    for index, (genre, points) in enumerate(others.groupby("genre")):
        axes.scatter(points["x"], points["y"], s=6, alpha=0.45, color=palette(index % palette.N), linewidths=0,
                     label=genre)
    for (role, colour), marker in zip(HIGHLIGHTS.items(), ("D", "o")):
        marked = frame[frame["role"] == role]
        axes.scatter(marked["x"], marked["y"], marker=marker, color=colour, s=70, edgecolors="black",
                     linewidths=0.8, label=role, zorder=3)
        for x, y, movie in zip(marked["x"], marked["y"], marked["movie"]):
            axes.annotate(movie, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=4)
    axes.set_xlabel("principal axis 1", fontsize=9)
    axes.set_ylabel("principal axis 2", fontsize=9)
    axes.tick_params(labelsize=8)
    legend = figure.legend(loc="outside lower center", ncols=5, fontsize=8, title="genre (rarest listed), and you",
                           title_fontsize=8)
    for handle in legend.legend_handles:  # the genres' dots are drawn small; their legend keys need not be
        handle.set_sizes([40])
        handle.set_alpha(1)
    return figure


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


def similar_seed(catalogue: Catalogue, picks: Sequence[int]) -> int:
    """The movie "movies like this" starts from: the first pick somebody liked, else the best-known movie."""
    liked = [movie for movie in picks if catalogue.movies["fans"].iat[movie]]
    return liked[0] if liked else pick_options(catalogue)[0]


def similar_rows(recommender: Recommender, movie: int) -> list[dict]:
    """``similar_movies`` as rows a person can read."""
    similar, similarities = similar_movies(recommender, movie)
    return [{"movie": describe(recommender.catalogue, other), "cosine similarity": round(similarity, 3)}
            for other, similarity in zip(similar, similarities)]
