"""Choose the recommender's hyper-parameters on a validation split, never on the test split.

The likes are split twice, per user and at random (demos.recommender.split_likes): 20% of each
user's likes are the *test* set (used only by the benchmark), and 20% of what remains is the
*validation* set. Every setting in the grid is fitted on the rest and scored on validation;
among the settings within 1% of the best NDCG@10, the one with the fewest factors (then the
best NDCG@10) wins: a smaller model that ranks as well is faster and overfits less.
Run ``OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/tune_recommender.py`` (a few minutes on
2 cores); copy the winner into ``Settings``' defaults and the model card.
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demos import recommender  # noqa: E402

GRID = {"factors": (16, 32, 64, 128), "regularization": (0.1, 1.0, 10.0, 30.0), "alpha": (1.0, 2.0, 5.0, 10.0)}
NEIGHBOURS = (10, 20, 50, 100, 200)
TOLERANCE = 0.01  # relative NDCG@10 within which settings count as tied
OUT = Path(__file__).resolve().parent.parent / "models" / "recommender" / "tuning.json"


def main() -> None:
    catalogue = recommender.build_catalogue(recommender.ratings_table())
    without_test, _ = recommender.split_likes(catalogue.likes, seed=0)  # the same test split as the benchmark
    rows = []
    for factors, regularization, alpha in itertools.product(*GRID.values()):
        settings = recommender.Settings(factors, regularization, 15, alpha)
        metrics = recommender.evaluate(catalogue, settings, seed=1, likes=without_test, methods=("als",))["als"]
        rows.append({"factors": factors, "regularization": regularization, "alpha": alpha, **metrics})
        print(rows[-1], flush=True)
    neighbours = []
    for count in NEIGHBOURS:
        metrics = recommender.evaluate(catalogue, neighbours=count, seed=1, likes=without_test,
                                       methods=("user_cf",))["user_cf"]
        neighbours.append({"neighbours": count, **metrics})
        print(neighbours[-1], flush=True)
    best, best_neighbours = select(rows), max(neighbours, key=lambda row: row["ndcg@10"])
    OUT.write_text(json.dumps({"selected_by": f"fewest factors within {TOLERANCE:.0%} of the best ndcg@10 "
                                              "on the validation split", "best_als": best,
                               "best_user_cf": best_neighbours, "als_grid": rows, "user_cf_grid": neighbours},
                              indent=2))
    print("best ALS:", best, "\nbest user-CF:", best_neighbours, f"\nwritten to {OUT}")


def select(rows: list[dict]) -> dict:
    top = max(row["ndcg@10"] for row in rows)
    tied = [row for row in rows if row["ndcg@10"] >= (1 - TOLERANCE) * top]
    return min(tied, key=lambda row: (row["factors"], -row["ndcg@10"]))


if __name__ == "__main__":
    main()
