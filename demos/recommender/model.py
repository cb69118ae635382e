"""The latent-factor model: fit ALS, fold a visitor in, score every movie, and the two baselines.

Forward: the visitor's vector solves one small least-squares problem against the fitted
movie vectors (no refit); every movie is scored by a dot product, and each score splits into
one term per pick ("because you liked"). Postprocess: the top ones as rows a person can read.

The fit is the model work (``core.engine``), done once per settings where the models run; callers keep
the vectors it hands back, and fold visitors in (a few milliseconds) where the vectors are.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Literal, Sequence

import numpy as np
import scipy.linalg
from scipy.sparse import csr_matrix

from core.contract import choices
from core.device import choose_device
from core.engine import model_work
from core.memo import RESULTS
from core.progress import Progress, ProgressCallback
from core.timing import stopwatch
from core.validation import InputError
from demos.recommender.data import Catalogue, load_catalogue
from demos.recommender.titles import checked_picks, picks_row

OBSCURE_FANS = 3  # a movie liked by fewer people than this says little about a taste
Method = Literal["als", "popular", "user_cf"]
METHOD_NAMES: dict[str, str] = {"als": "ALS (latent factors)", "popular": "Most popular",
                                "user_cf": "User-based CF (cosine)"}  # value -> label
METHODS = choices(METHOD_NAMES, METHOD_NAMES.get)
FITTING = "Fitting ALS on MovieLens…"


@dataclass(frozen=True)
class Settings:
    """ALS hyper-parameters; the defaults were chosen on validation splits (scripts/tune_recommender.py)."""

    factors: int = 128
    regularization: float = 30.0
    iterations: int = 30
    alpha: float = 5.0  # confidence of a like (an unrated movie weighs 1)
    # a rating below LIKE_THRESHOLD, times alpha: > 0 a weak like (the user chose to watch the movie),
    # < 0 a "dislike" (implicit's negative confidence: preference 0 with that confidence), 0 ignored
    low_rating_confidence: float = 0.3

    @property
    def key(self) -> str:
        return (f"recommender/als-{self.factors}f-{self.regularization:g}r-{self.iterations}i-{self.alpha:g}a-"
                f"{self.low_rating_confidence:g}l")


DEFAULT_SETTINGS = Settings()
USER_CF_NEIGHBOURS = 50  # chosen on the same validation splits


@dataclass
class Recommender:
    catalogue: Catalogue  # None while it travels from the model work: the caller has its own
    model: object  # implicit.cpu.als.AlternatingLeastSquares, fitted
    settings: Settings
    fit_seconds: float
    fit_device: str
    map_xy: np.ndarray  # every movie's vector projected on the 2 principal axes of all movie vectors

    @property
    def item_factors(self) -> np.ndarray:
        return self.model.item_factors

    @property
    def gram(self) -> np.ndarray:
        """Y^T Y over all movie vectors: the part of every user's equation that nobody's likes change."""
        return self.model.YtY


@dataclass
class Recommendations:
    method: Method
    picks: list[int]
    items: list[int]
    scores: list[float]
    seconds: float
    because: list[list[tuple[int, float]]] = field(default_factory=list)  # ALS: (pick, share of score)
    user_vector: np.ndarray | None = None  # ALS: the visitor's folded-in vector
    notes: list[str] = field(default_factory=list)  # what the visitor should know about this result


# --- fit --------------------------------------------------------------------------------

def load() -> Recommender:
    """The ALS model fitted on all of MovieLens with the default settings: the one every visitor shares."""
    return fitted(DEFAULT_SETTINGS)


def fitted(settings: Settings = DEFAULT_SETTINGS, progress: ProgressCallback | None = None) -> Recommender:
    """The ALS model fitted on all of MovieLens with ``settings`` (the default or a visitor's), with this
    process's catalogue. A fit is a computed result, kept in ``core.memo`` (bounded, least recently used
    dropped first), not among the models; ``progress`` hears of the iterations if this caller is the one who
    fits."""
    return RESULTS.get(f"{settings.key}/vectors", lambda reported: replace(
        fit_movielens(settings, progress=reported), catalogue=load_catalogue()), progress)


@model_work("recommender", gpu_seconds=0)  # implicit's CPU build: see README "On a GPU"
def fit_movielens(settings: Settings, progress: ProgressCallback | None = None) -> Recommender:
    """ALS fitted on all of MovieLens with ``settings``, once per process (or replica) and settings, in
    ``core.memo``: every visitor shares it. Handed back without the catalogue, which the caller has."""
    model = RESULTS.get(settings.key, lambda reported: fit(load_catalogue(), settings, reported), progress)
    return replace(model, catalogue=None)


def fit(catalogue: Catalogue, settings: Settings = DEFAULT_SETTINGS, progress: ProgressCallback | None = None,
        likes: csr_matrix | None = None, low_ratings: csr_matrix | None = None) -> Recommender:
    """Fit ALS on ``likes`` and ``low_ratings`` (default: all of the catalogue's)."""
    model, seconds, device = fit_als(catalogue.likes if likes is None else likes,
                                     catalogue.low_ratings if low_ratings is None else low_ratings, settings, progress)
    return Recommender(catalogue, model, settings, seconds, device, _principal_axes(model.item_factors))


def fit_als(likes: csr_matrix, low_ratings: csr_matrix, settings: Settings,
            progress: ProgressCallback | None = None) -> tuple[object, float, str]:
    """ALS on ``likes`` and, with ``settings.low_rating_confidence``, ``low_ratings``; on CUDA when
    implicit's GPU build is there: (the fitted model, seconds, device)."""
    from threadpoolctl import threadpool_limits

    confidences = csr_matrix(likes + settings.low_rating_confidence * low_ratings)  # implicit multiplies by alpha
    device = _als_device()
    # implicit runs its own threads; a threaded BLAS underneath makes it many times slower
    with threadpool_limits(1, "blas"), stopwatch() as watch:
        model = _new_als(settings, device)
        model.fit(confidences, show_progress=False, callback=_iteration_reports(progress, settings.iterations))
        if device == "cuda":
            model = model.to_cpu()  # one new user at a time is faster to serve from the CPU
    return model, watch.seconds, device


def _iteration_reports(progress: ProgressCallback | None, iterations: int) -> Callable[..., None] | None:
    """implicit's callback after each iteration (iteration, seconds, loss), reported to ``progress``."""
    if progress is None:
        return None
    return lambda iteration, _seconds, _loss: progress(Progress(iteration + 1, iterations, FITTING))


def _als_device() -> str:
    import implicit.gpu

    return "cuda" if choose_device() == "cuda" and implicit.gpu.HAS_CUDA else "cpu"


def _new_als(settings: Settings, device: str):
    from implicit.als import AlternatingLeastSquares

    return AlternatingLeastSquares(factors=settings.factors, regularization=settings.regularization,
                                   iterations=settings.iterations, alpha=settings.alpha,
                                   use_gpu=device == "cuda", random_state=0)


def _principal_axes(vectors: np.ndarray) -> np.ndarray:
    """PCA to 2D: the two directions along which the movie vectors vary most."""
    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    return centred @ axes[:2].T


# --- forward: fold the visitor in, and the two baselines --------------------------------

def recommend(recommender: Recommender, picks: Sequence[int], count: int = 10,
              method: Method = "als") -> Recommendations:
    """The top ``count`` movies for someone who likes ``picks`` (movie indices), by ``method``."""
    catalogue = recommender.catalogue
    picks = checked_picks(catalogue, picks)
    count = min(int(count), catalogue.size - len(picks))
    if count < 1:
        raise InputError("Ask for at least one recommendation.")
    notes = _notes_on_picks(catalogue, picks)
    if method != "popular" and not catalogue.movies["fans"].to_numpy()[picks].any():
        method = "popular"  # nobody liked these: there is no taste to learn from
    row = picks_row(catalogue, picks)
    user_vector = None
    with stopwatch() as watch:
        if method == "als":
            matrix, target = user_equation(recommender, picks)
            user_vector = np.linalg.solve(matrix, target)
            all_scores = recommender.item_factors @ user_vector
        else:
            all_scores = popular_scores(catalogue.likes) if method == "popular" \
                else user_cf_scores(catalogue.likes, row)[0]
        items = top_items(all_scores[None], row, count)[0]
        because = _because(recommender, matrix, picks, items) if method == "als" else []
    return Recommendations(method, picks, items.tolist(), all_scores[items].tolist(), watch.seconds,
                           because, user_vector, notes)


def user_equation(recommender: Recommender, picks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Folding a visitor in: with the movie vectors Y fixed, their vector u minimises
    sum_i c_i (p_i - u.y_i)^2 + lambda |u|^2 (p_i = 1 for a pick, else 0; c_i = alpha for a pick,
    else 1), i.e. solves A u = b with A = Y^T Y + (alpha - 1) Y_p^T Y_p + lambda I, b = alpha sum_p y_p.
    The same step ALS takes for every user at every iteration; returns (A, b)."""
    settings, liked = recommender.settings, recommender.item_factors[list(picks)]
    matrix = recommender.gram + (settings.alpha - 1) * liked.T @ liked \
        + settings.regularization * np.eye(settings.factors, dtype=liked.dtype)
    return matrix, settings.alpha * liked.sum(axis=0)


def _notes_on_picks(catalogue: Catalogue, picks: list[int]) -> list[str]:
    fans = catalogue.movies["fans"].to_numpy()
    if not picks:
        return ["With no picks, there is no taste to go on: these are the movies most people liked."]
    if not fans[picks].any():
        return ["Nobody in MovieLens rated your picks 4 stars or more, so the model has nothing to "
                "learn your taste from: these are the movies most people liked instead."]
    obscure = [catalogue.movies["label"].iat[p] for p in picks if fans[p] < OBSCURE_FANS]
    if not obscure:
        return []
    if len(obscure) == len(picks):
        return [f"Each of your picks is liked by fewer than {OBSCURE_FANS} people in MovieLens, so these "
                "recommendations follow those few fans' tastes: add a better-known favourite for a "
                "sturdier result."]
    return [f"Few people in MovieLens liked {', '.join(obscure)}, so they weigh little in your results."]


def popular_scores(likes: csr_matrix) -> np.ndarray:
    """Baseline 1: how many users liked each movie; the same list for everyone."""
    return np.asarray(likes.sum(axis=0), dtype=np.float32).ravel()


def user_cf_scores(likes: csr_matrix, users: csr_matrix, neighbours: int = USER_CF_NEIGHBOURS,
                   known_as: np.ndarray | None = None) -> np.ndarray:
    """Baseline 2, user-based CF: each movie scored by the summed cosine similarity of the
    ``neighbours`` users most like each row of ``users`` who liked it. ``known_as``: the rows'
    own indices in ``likes``, so that nobody counts as their own neighbour."""
    def unit_rows(matrix: csr_matrix) -> csr_matrix:
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
        return csr_matrix(matrix.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]))

    similarity = (unit_rows(users) @ unit_rows(likes).T).toarray()
    if known_as is not None:
        similarity[np.arange(len(known_as)), known_as] = 0.0
    neighbours = min(neighbours, likes.shape[0])
    weakest = np.argpartition(-similarity, neighbours - 1, axis=1)[:, neighbours:]
    np.put_along_axis(similarity, weakest, 0.0, axis=1)
    return np.asarray(csr_matrix(similarity) @ likes.astype(np.float32).toarray(), dtype=np.float32)


def top_items(scores: np.ndarray, exclude: csr_matrix, count: int) -> np.ndarray:
    """Row-wise indices of the ``count`` best scores, skipping each row's ``exclude`` movies."""
    scores = scores.astype(np.float32, copy=True)
    rows, columns = exclude.nonzero()
    scores[rows, columns] = -np.inf
    best = np.argpartition(-scores, count - 1, axis=1)[:, :count]
    order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
    return np.take_along_axis(best, order, axis=1)


def similar_movies(recommender: Recommender, movie: int, count: int = 10) -> tuple[list[int], list[float]]:
    """"Movies like this": the nearest movie vectors by cosine similarity, the movie itself left out."""
    if recommender.catalogue.movies["fans"].iat[movie] == 0:
        raise InputError(f"Nobody in MovieLens liked {recommender.catalogue.movies['label'].iat[movie]}, "
                         "so the model has no picture of it to compare.")
    vectors = recommender.item_factors
    norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
    cosine = vectors @ vectors[movie] / (norms * norms[movie])
    items = top_items(cosine[None], picks_row(recommender.catalogue, [movie]), count)[0]
    return items.tolist(), cosine[items].tolist()


# --- postprocess: rows a person can read ------------------------------------------------

def as_rows(recommender: Recommender, result: Recommendations) -> list[dict]:
    movies = recommender.catalogue.movies
    rows = []
    for rank, (item, score) in enumerate(zip(result.items, result.scores), start=1):
        row = {"rank": rank, "movie": movies["label"].iat[item], "score": round(score, 3)}  # what a reader needs first
        if result.because:
            row["because you liked"] = "; ".join(f"{movies['label'].iat[pick]} ({share:.0%})"
                                                 for pick, share in result.because[rank - 1])
        rows.append({**row, "genres": movies["genres"].iat[item].replace("|", ", "),
                     "fans": int(movies["fans"].iat[item])})
    return rows


# --- explain: where a recommendation comes from -----------------------------------------

def _because(recommender: Recommender, matrix: np.ndarray, picks: list[int], items: np.ndarray,
             top: int = 2) -> list[list[tuple[int, float]]]:
    """For each recommended movie, the picks that contributed most to its score, as shares of it.

    The score is y_i . u = y_i . A^-1 b = sum over picks p of alpha (A^-1 y_i) . y_p: one term per
    pick (Hu et al. 2008, section 5; implicit's ``explain``)."""
    factor = scipy.linalg.cho_factor(matrix)
    weighted = scipy.linalg.cho_solve(factor, recommender.item_factors[items].T).T  # A^-1 y_i, one row per item
    parts = recommender.settings.alpha * weighted @ recommender.item_factors[picks].T  # items x picks
    reasons = []
    for item_parts in parts:
        total = item_parts.sum()
        best = np.argsort(-item_parts)[:top]
        reasons.append([(picks[j], float(item_parts[j] / total)) for j in best if item_parts[j] > 0 and total > 0])
    return reasons
