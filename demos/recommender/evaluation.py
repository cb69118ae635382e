"""How good the recommendations are: held-out likes, precision / recall / NDCG / MAP at 10, coverage.

Every method is trained on one part of the likes and ranks, for each user, the movies that
user has not seen; the held-out likes are what it should find (scripts/tune_recommender.py,
benchmarks/bench_recommender.py).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix

from core.engine import model_work
from demos.recommender.data import Catalogue
from demos.recommender.model import (DEFAULT_SETTINGS, USER_CF_NEIGHBOURS, Method, Settings, fit_als, popular_scores,
                                     top_items, user_cf_scores)

TOP_K = 10  # the cut-off of every ranking metric


def split_likes(likes: csr_matrix, holdout: float = 0.2, min_likes: int = 5,
                seed: int = 0) -> tuple[csr_matrix, csr_matrix]:
    """Per-user random split: ``holdout`` of the likes of every user with ``min_likes`` or more
    go to the test matrix, the rest stay for training."""
    rng = np.random.default_rng(seed)
    likes = likes.tocoo()
    test = np.zeros(likes.nnz, bool)
    for user in range(likes.shape[0]):
        mine = np.flatnonzero(likes.row == user)
        if len(mine) >= min_likes:
            test[rng.choice(mine, max(1, round(holdout * len(mine))), replace=False)] = True
    def part(mask: np.ndarray) -> csr_matrix:
        return csr_matrix((likes.data[mask], (likes.row[mask], likes.col[mask])), shape=likes.shape)
    return part(~test), part(test)


def seen_movies(known: csr_matrix, held_out: csr_matrix) -> csr_matrix:
    """The movies each user is known to have seen, so never a candidate: every movie in ``known``
    (rated, liked or not) but the held-out likes, which stand for what the user has yet to see. A
    movie someone rated, even badly, is no discovery: standard offline evaluation leaves it out."""
    return csr_matrix((known - held_out) > 0)


def ranking_metrics(recommended: Sequence[Sequence[int]], relevant: Sequence[set[int]], n_items: int,
                    k: int = TOP_K) -> dict[str, float]:
    """Mean precision@k, recall@k, NDCG@k, MAP@k over users, and catalogue coverage."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    totals = np.zeros(4)
    for ranked, wanted in zip(recommended, relevant):
        hits = np.array([item in wanted for item in list(ranked)[:k]], dtype=float)
        hits = np.pad(hits, (0, k - len(hits)))
        ideal = min(k, len(wanted))
        precision_at = np.cumsum(hits) / np.arange(1, k + 1)
        totals += (hits.sum() / k, hits.sum() / len(wanted),
                   (hits * discounts).sum() / discounts[:ideal].sum(), (precision_at * hits).sum() / ideal)
    users = max(1, len(relevant))
    shown = {int(item) for ranked in recommended for item in list(ranked)[:k]}
    names = (f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"map@{k}")
    return {**dict(zip(names, (totals / users).round(4).tolist())), "coverage": round(len(shown) / n_items, 4)}


def evaluate(catalogue: Catalogue, settings: Settings = DEFAULT_SETTINGS,
             neighbours: int = USER_CF_NEIGHBOURS, seed: int = 0, likes: csr_matrix | None = None,
             methods: Sequence[Method] = ("als", "popular", "user_cf")) -> dict[str, dict[str, float]]:
    """``methods`` trained on one part of ``likes`` (default: all) and scored on the same
    held-out part, each ranking the movies a user has not rated: {method: metrics}."""
    train, test = split_likes(catalogue.likes if likes is None else likes, seed=seed)
    return evaluate_split(catalogue, train, test, settings, neighbours, methods)


def evaluate_split(catalogue: Catalogue, train: csr_matrix, test: csr_matrix, settings: Settings = DEFAULT_SETTINGS,
                   neighbours: int = USER_CF_NEIGHBOURS, methods: Sequence[Method] = ("als", "popular", "user_cf"),
                   known: csr_matrix | None = None) -> dict[str, dict[str, float]]:
    """``methods`` trained on ``train`` likes (ALS: any confidence matrix), each ranking 10 movies for
    every user with ``test`` likes from the same candidates: every movie that user has not seen
    (``seen_movies`` of ``known``, default every rating in the catalogue). ALS also learns from the
    ratings below 4 stars in ``known``. {method: metrics}."""
    users = np.flatnonzero(np.diff(test.indptr))
    relevant = [set(test[user].indices) for user in users]
    known = catalogue.rated if known is None else known
    exclude = seen_movies(known, test)[users]
    results = {}
    for method in methods:
        if method == "als":
            low_ratings = csr_matrix(catalogue.low_ratings.multiply(known > 0))
            user_vectors, movie_vectors = fitted_vectors(train, low_ratings, settings)
            scores = user_vectors[users] @ movie_vectors.T
        elif method == "popular":
            scores = np.tile(popular_scores(train), (len(users), 1))
        else:
            scores = user_cf_scores(train, train[users], neighbours, known_as=users)
        results[method] = ranking_metrics(top_items(scores, exclude, TOP_K), relevant, catalogue.size)
    return results


@model_work("recommender", gpu_seconds=0)
def fitted_vectors(likes: csr_matrix, low_ratings: csr_matrix, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """ALS fitted on a split's training likes (and low ratings): (user vectors, movie vectors)."""
    model, _, _ = fit_als(likes, low_ratings, settings)
    return model.user_factors, model.item_factors
