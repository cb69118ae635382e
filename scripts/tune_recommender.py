"""Choose the recommender's hyper-parameters on validation splits, never on the test split.

The likes are split per user and at random (demos.recommender.split_likes): 20% of each user's
likes are the *test* set (seed 0, used only by the benchmark). From the remaining likes, three
*validation* splits are carved the same way (seeds 1, 2, 3: 20% of each user's remaining likes).
Every setting in the grid is fitted on the rest of each and scored on its validation likes;
the score is the mean precision@10 over the three (the issue's target metric; one split alone
moves by about 0.005, as much as neighbouring settings differ). Among the settings within 1% of
the best, the one with the fewest factors (then the best precision@10) wins: a smaller model
that ranks as well is faster and easier to look at.

At the chosen setting, other definitions of the implicit feedback are scored on the same
validation splits, each against most popular with the same movies excluded: likes weighted by
their stars, BM25 weighting (implicit's recommendation for count data), every rating counted as
a like, ratings below 4 stars as confident "dislikes"; and with every rated movie (not only the
training likes) excluded from both rankings.

Run ``OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/tune_recommender.py`` (about 20 minutes
on 2 cores); copy the winner into ``Settings``' defaults, ``USER_CF_NEIGHBOURS`` and the model card.
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.sparse import csr_matrix

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demos import recommender  # noqa: E402

GRID = {"factors": (16, 32, 64, 128, 256), "regularization": (1.0, 10.0, 30.0, 60.0, 100.0),
        "alpha": (2.0, 5.0, 10.0, 20.0)}
ITERATIONS = 15
VALIDATION_SEEDS = (1, 2, 3)
NEIGHBOURS = (10, 20, 50, 100, 200)
TOLERANCE = 0.01  # relative precision@10 within which settings count as tied
CRITERION = "precision@10"
DISLIKE_CONFIDENCE = 0.5  # times alpha, for a rating below LIKE_THRESHOLD in the "dislikes" variant
OUT = Path(__file__).resolve().parent.parent / "models" / "recommender" / "tuning.json"
Split = tuple[csr_matrix, csr_matrix]


def main() -> None:
    ratings = recommender.ratings_table().dropna(subset=["title"])
    catalogue = recommender.build_catalogue(ratings)
    without_test, _ = recommender.split_likes(catalogue.likes, seed=0)  # the benchmark's test split
    splits = [recommender.split_likes(without_test, seed=seed) for seed in VALIDATION_SEEDS]
    rows = []
    for factors, regularization, alpha in itertools.product(*GRID.values()):
        settings = recommender.Settings(factors, regularization, ITERATIONS, alpha)
        metrics = mean_metrics([recommender.evaluate_split(catalogue, train, valid, settings, methods=("als",))["als"]
                                for train, valid in splits])
        rows.append({"factors": factors, "regularization": regularization, "alpha": alpha, **metrics})
        print(rows[-1], flush=True)
    neighbours = []
    for count in NEIGHBOURS:
        metrics = mean_metrics([recommender.evaluate_split(catalogue, train, valid, neighbours=count,
                                                           methods=("user_cf",))["user_cf"] for train, valid in splits])
        neighbours.append({"neighbours": count, **metrics})
        print(neighbours[-1], flush=True)
    best, best_neighbours = select(rows), max(neighbours, key=lambda row: row[CRITERION])
    chosen = recommender.Settings(best["factors"], best["regularization"], ITERATIONS, best["alpha"])
    popular = mean_metrics([recommender.evaluate_split(catalogue, train, valid, methods=("popular",))["popular"]
                            for train, valid in splits])
    feedback = feedback_variants(catalogue, ratings, splits, chosen)
    OUT.write_text(json.dumps({
        "selected_by": f"fewest factors within {TOLERANCE:.0%} of the best mean {CRITERION} over validation "
                       f"splits {list(VALIDATION_SEEDS)} carved from the training likes (test split: seed 0)",
        "iterations": ITERATIONS, "best_als": best, "best_user_cf": best_neighbours, "popular": popular,
        "feedback_definitions_at_best_als": feedback, "als_grid": rows, "user_cf_grid": neighbours}, indent=2))
    print("best ALS:", best, "\nbest user-CF:", best_neighbours, "\npopular:", popular, f"\nwritten to {OUT}")


def mean_metrics(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(float(np.mean([run[name] for run in runs])), 4) for name in runs[0]}


def select(rows: list[dict]) -> dict:
    top = max(row[CRITERION] for row in rows)
    tied = [row for row in rows if row[CRITERION] >= (1 - TOLERANCE) * top]
    return min(tied, key=lambda row: (row["factors"], -row[CRITERION]))


def feedback_variants(catalogue: recommender.Catalogue, ratings, splits: list[Split],
                      settings: recommender.Settings) -> dict[str, dict[str, float]]:
    """ALS fitted on other confidence matrices built from each split's training likes, and most
    popular, both ranking for the same validation likes with the same movies excluded."""
    from implicit.nearest_neighbours import bm25_weight

    row, column = recommender.rating_cells(catalogue.movies, ratings)
    stars = csr_matrix((ratings["rating"].to_numpy(np.float32), (row, column)), shape=catalogue.likes.shape)
    stars.sum_duplicates()
    below = stars.copy()
    below.data = np.where(below.data < recommender.LIKE_THRESHOLD, 1.0, 0.0).astype(np.float32)
    below.eliminate_zeros()  # every rating below 4 stars: never held out, so known to every variant

    def bm25(train: csr_matrix) -> csr_matrix:
        weighted = bm25_weight(train, K1=100, B=0.8).tocsr().astype(np.float32)
        return weighted * (1.0 / weighted.data.mean())  # mean confidence 1: alpha keeps its meaning

    def likes(train: csr_matrix) -> csr_matrix:
        return train

    def rated(train: csr_matrix) -> csr_matrix:
        return csr_matrix(((train + below) > 0).astype(np.float32))

    def dislikes(train: csr_matrix) -> csr_matrix:
        return csr_matrix(train - DISLIKE_CONFIDENCE * below)  # implicit: negative = disliked, confidence |c|

    variants: dict[str, tuple[Callable[[csr_matrix], csr_matrix], Callable[[csr_matrix], csr_matrix]]] = {
        "likes (rating >= 4), confidence alpha: the model": (likes, likes),
        "likes weighted by stars (4 -> 1, 4.5 -> 1.5, 5 -> 2)":
            (lambda train: csr_matrix(train.multiply(stars) - 3.0 * train), likes),
        "likes weighted by BM25 (K1 100, B 0.8)": (bm25, likes),
        "every rating counted as a like": (rated, likes),
        f"likes, and ratings below 4 as dislikes (confidence {DISLIKE_CONFIDENCE} alpha)": (dislikes, likes),
        "the model, every rated movie excluded for both": (likes, rated),
        "likes and dislikes, every rated movie excluded for both": (dislikes, rated),
    }
    results = {}
    for name, (confidence, excluded) in variants.items():
        als, popular = [], []
        for train, valid in splits:
            users = np.flatnonzero(np.diff(valid.indptr))
            relevant, exclude = [set(valid[user].indices) for user in users], excluded(train)[users]
            model = recommender.fit(catalogue, settings, likes=confidence(train)).model
            for runs, scores in ((als, model.user_factors[users] @ model.item_factors.T),
                                 (popular, np.tile(recommender.popular_scores(train), (len(users), 1)))):
                top = recommender.top_items(scores, exclude, recommender.TOP_K)
                runs.append(recommender.ranking_metrics(top, relevant, catalogue.size))
        als, popular = mean_metrics(als), mean_metrics(popular)
        results[name] = {**als, "popular_precision@10": popular[CRITERION],
                         "over_popular": round(als[CRITERION] / popular[CRITERION], 2)}
        print(name, results[name], flush=True)
    return results


if __name__ == "__main__":
    main()
