"""Choose the recommender's hyper-parameters on validation splits, never on the test split.

The likes are split per user and at random (demos.recommender.split_likes): 20% of each user's
likes are the *test* set (seed 0, used only by the benchmark). From the remaining likes, three
*validation* splits are carved the same way (seeds 1, 2, 3: 20% of each user's remaining likes).
Every setting is fitted on the rest of each and scored on its validation likes; the score is the
mean precision@10 over the three (the issue's target metric; one split alone moves by about
0.005, as much as neighbouring settings differ).

Every method ranks, for each user, the movies that user has not rated (demos.recommender.
seen_movies): their training likes and their ratings below 4 stars are left out, the validation
likes put back. The test likes are kept out of this world altogether: to the validation runs
they are movies the user has not rated yet.

1. ALS on likes alone, over GRID. Among the settings within 1% of the best, the one with the
   fewest factors (then the best precision@10) wins: a smaller model that ranks as well is
   faster and easier to look at.
2. At that setting, the ratings below 4 stars join the fit with each of LOW_RATING_CONFIDENCES
   (0: ignored, > 0: weak likes, a rated movie was one the user chose to watch, < 0: "dislikes",
   implicit's negative confidences); the best precision@10 wins.
3. User-based CF's neighbour count: the best precision@10 over NEIGHBOURS.

For the record, at the chosen setting: likes weighted by their stars or by BM25 (implicit's
advice for count data) instead of 1, and most popular counting every rating instead of likes.

Run ``OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/tune_recommender.py`` (about 25 minutes
on 2 shared cores); copy the winner into ``Settings``' defaults, ``USER_CF_NEIGHBOURS`` and the
model card.
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

GRID = {"factors": (16, 32, 64, 128, 256), "regularization": (10.0, 30.0, 60.0, 100.0, 200.0, 300.0),
        "alpha": (2.0, 5.0, 10.0, 20.0, 40.0), "iterations": (15, 30)}
LOW_RATING_CONFIDENCES = (-1.0, -0.5, 0.0, 0.1, 0.2, 0.3, 0.5, 1.0)  # times alpha, see Settings
VALIDATION_SEEDS = (1, 2, 3)
NEIGHBOURS = (10, 20, 50, 100, 200)
TOLERANCE = 0.01  # relative precision@10 within which settings count as tied
CRITERION = "precision@10"
OUT = Path(__file__).resolve().parent.parent / "models" / "recommender" / "tuning.json"
Confidence = Callable[[csr_matrix], csr_matrix]


def main() -> None:
    ratings = recommender.ratings_table().dropna(subset=["title"])
    catalogue = recommender.build_catalogue(ratings)
    without_test, test = recommender.split_likes(catalogue.likes, seed=0)  # the benchmark's test split
    splits = [recommender.split_likes(without_test, seed=seed) for seed in VALIDATION_SEEDS]
    known = catalogue.rated - test  # what the validation runs know: every rating but the test likes

    def validate(method: recommender.Method, confidence: Confidence = lambda train: train,
                 **options) -> dict[str, float]:
        """Mean metrics of ``method`` over the validation splits."""
        return mean_metrics([recommender.evaluate_split(catalogue, confidence(train), valid, methods=(method,),
                                                        known=known, **options)[method] for train, valid in splits])

    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        rows.append({**setting, **validate("als", settings=recommender.Settings(**setting, low_rating_confidence=0))})
        print(rows[-1], flush=True)
    best = select(rows)
    low_rows = []
    for confidence in LOW_RATING_CONFIDENCES:
        settings = recommender.Settings(**{name: best[name] for name in GRID}, low_rating_confidence=confidence)
        low_rows.append({"low_rating_confidence": confidence, **validate("als", settings=settings)})
        print(low_rows[-1], flush=True)
    chosen_low = max(low_rows, key=lambda row: row[CRITERION])
    chosen = recommender.Settings(**{name: best[name] for name in GRID},
                                  low_rating_confidence=chosen_low["low_rating_confidence"])
    neighbours = [{"neighbours": count, **validate("user_cf", neighbours=count)} for count in NEIGHBOURS]
    best_neighbours = max(neighbours, key=lambda row: row[CRITERION])
    popular = validate("popular")
    record = {name: validate("als", confidence, settings=chosen)
              for name, confidence in like_weightings(ratings, catalogue).items()}
    record["most popular counting every rating, not only likes"] = validate(
        "popular", lambda train: csr_matrix(train + catalogue.low_ratings))
    OUT.write_text(json.dumps({
        "selected_by": f"ALS on likes: fewest factors within {TOLERANCE:.0%} of the best mean {CRITERION} over "
                       f"validation splits {list(VALIDATION_SEEDS)} carved from the training likes (test split: "
                       f"seed 0); then the low-rating confidence and user-CF's neighbours: best mean {CRITERION}",
        "protocol": "each method ranks the movies the user has not rated: training likes and ratings below "
                    f"{recommender.LIKE_THRESHOLD:g} stars excluded, validation likes put back, test likes unknown",
        "chosen_als": {**vars(chosen), **{name: chosen_low[name] for name in popular}},
        "chosen_over_popular": round(chosen_low[CRITERION] / popular[CRITERION], 2),
        "best_als_on_likes_alone": best, "best_user_cf": best_neighbours, "popular": popular,
        "at_chosen_als": record, "low_rating_grid": low_rows, "als_grid_on_likes_alone": rows,
        "user_cf_grid": neighbours}, indent=2))
    print("chosen ALS:", chosen, chosen_low, "\nbest user-CF:", best_neighbours, "\npopular:", popular,
          *(f"{name}: {metrics}" for name, metrics in record.items()), f"written to {OUT}", sep="\n")


def mean_metrics(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(float(np.mean([run[name] for run in runs])), 4) for name in runs[0]}


def select(rows: list[dict]) -> dict:
    top = max(row[CRITERION] for row in rows)
    tied = [row for row in rows if row[CRITERION] >= (1 - TOLERANCE) * top]
    return min(tied, key=lambda row: (row["factors"], -row[CRITERION]))


def like_weightings(ratings, catalogue: recommender.Catalogue) -> dict[str, Confidence]:
    """Other weights of a like than 1, each computed from a split's training likes."""
    from implicit.nearest_neighbours import bm25_weight

    row, column = recommender.rating_cells(catalogue.movies, ratings)
    stars = csr_matrix((ratings["rating"].to_numpy(np.float32), (row, column)), shape=catalogue.likes.shape)
    stars.sum_duplicates()

    def bm25(train: csr_matrix) -> csr_matrix:
        weighted = bm25_weight(train, K1=100, B=0.8).tocsr().astype(np.float32)
        return weighted * (1.0 / weighted.data.mean())  # mean confidence 1: alpha keeps its meaning

    return {"likes weighted by stars (4 -> 1, 4.5 -> 1.5, 5 -> 2)":
            lambda train: csr_matrix(train.multiply(stars) - 3.0 * train),
            "likes weighted by BM25 (K1 100, B 0.8)": bm25}


if __name__ == "__main__":
    main()
