"""Movie Recommender as a visitor relies on it, on a small ratings table with two taste groups.

Sixty people: half love the 20 animated films and dislike horror, half the other way round.
Whatever a visitor picks from one group, the recommendations should come from that group.
"""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from core.validation import InputError
from demos import recommender as demo

GROUP_SIZE = 20
# the table's 2-star ratings cross the two tastes on purpose: as weak likes they would blur them
SMALL = demo.Settings(factors=4, regularization=0.1, iterations=30, alpha=5.0, low_rating_confidence=0.0)


def taste_groups(users: int = 60, seed: int = 0) -> pd.DataFrame:
    """Users 0-29 like 8 random animated films (movies 0-19) and give 2 stars to a horror film;
    users 30-59 the other way round. Two films share a title, one has no fans."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        liked, disliked = (0, GROUP_SIZE) if user < users // 2 else (GROUP_SIZE, 0)
        for movie in rng.choice(GROUP_SIZE, 8, replace=False) + liked:
            rows.append((user, movie, 5.0))
        rows.append((user, int(rng.integers(GROUP_SIZE)) + disliked, 2.0))
    rows.append((0, 2 * GROUP_SIZE, 1.0))  # "Unloved": rated, never liked
    table = pd.DataFrame(rows, columns=["userId", "movieId", "rating"])
    table["title"] = [f"Cartoon {m}" if m < GROUP_SIZE else f"Horror {m}" if m < 2 * GROUP_SIZE else "Unloved"
                      for m in table["movieId"]]
    table.loc[table["movieId"] == 1, "title"] = "Cartoon 0"  # a remake: same title, another year
    table["year"] = 1990.0 + (table["movieId"] == 1) * 20
    table["genres"] = np.where(table["movieId"] < GROUP_SIZE, "Animation|Children", "Horror")
    return table


@pytest.fixture(scope="module")
def catalogue() -> demo.Catalogue:
    return demo.build_catalogue(taste_groups())


@pytest.fixture(scope="module")
def model(catalogue) -> demo.Recommender:
    return demo.fit(catalogue, SMALL)


def test_likes_are_ratings_of_four_stars_or_more(catalogue):
    assert catalogue.likes.shape == (60, 2 * GROUP_SIZE + 1)
    assert catalogue.likes.nnz == 60 * 8
    assert catalogue.rated.nnz == 60 * 9 + 1  # and every rating, liked or not, is a movie seen
    assert catalogue.movies["fans"].iat[2 * GROUP_SIZE] == 0


@pytest.mark.parametrize("method", ["als", "user_cf"])
@pytest.mark.parametrize("picks, group", [([0, 3, 5], range(GROUP_SIZE)),
                                          ([22, 30], range(GROUP_SIZE, 2 * GROUP_SIZE))])
def test_recommendations_stay_within_the_visitors_taste(model, method, picks, group):
    result = demo.recommend(model, picks, count=8, method=method)
    assert len(result.items) == 8
    assert set(result.items) <= set(group)
    assert not set(result.items) & set(picks)
    assert result.scores == sorted(result.scores, reverse=True)


def test_a_low_rating_can_count_as_a_weak_like(catalogue):
    users, movies = catalogue.low_ratings.nonzero()
    ignored = demo.fit(catalogue, SMALL)
    weak = demo.fit(catalogue, replace(SMALL, low_rating_confidence=0.5))

    def score(fitted: demo.Recommender) -> np.ndarray:
        return np.einsum("ij,ij->i", fitted.model.user_factors[users], fitted.item_factors[movies])
    assert np.mean(score(weak)) > np.mean(score(ignored)) + 0.1  # the users' own low-rated movies rise


def test_fold_in_ranks_like_a_refit_with_the_visitor_in_the_data(catalogue):
    table = taste_groups()
    visitor = table[(table["userId"] == 59)]
    without = demo.fit(demo.build_catalogue(table[table["userId"] != 59]), SMALL)
    refit = demo.fit(catalogue, SMALL)
    picks = sorted(visitor.loc[visitor["rating"] >= 4, "movieId"])
    folded = demo.recommend(without, picks, count=10)
    folded_scores = without.item_factors @ folded.user_vector
    refit_scores = refit.item_factors @ refit.model.user_factors[59]
    assert np.corrcoef(folded_scores, refit_scores)[0, 1] > 0.95
    assert len(set(folded.items[:5]) & set(np.argsort(-np.where(np.isin(np.arange(41), picks), -np.inf,
                                                                refit_scores))[:5])) >= 4


def test_fold_in_is_the_same_least_squares_step_as_implicits(model):
    result = demo.recommend(model, [0, 3, 5], count=3)
    library = model.model.recalculate_user(0, demo.picks_row(model.catalogue, [0, 3, 5]))
    assert np.allclose(result.user_vector, library, atol=1e-4)


def test_ranking_metrics_match_a_hand_computed_example():
    # user 1: hits at ranks 2 and 4 of 3 relevant; user 2: a hit at rank 1 of 1 relevant
    metrics = demo.ranking_metrics([[1, 2, 3, 4], [5, 6, 7, 8]], [{2, 4, 9}, {5}], n_items=10, k=4)
    ndcg_1 = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    assert metrics["precision@4"] == pytest.approx((2 / 4 + 1 / 4) / 2, abs=1e-4)
    assert metrics["recall@4"] == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    assert metrics["ndcg@4"] == pytest.approx((ndcg_1 + 1) / 2, abs=1e-4)
    assert metrics["map@4"] == pytest.approx(((1 / 2 + 2 / 4) / 3 + 1) / 2, abs=1e-4)
    assert metrics["coverage"] == 0.8


def test_als_beats_popularity_on_held_out_likes(catalogue):
    metrics = demo.evaluate(catalogue, SMALL, neighbours=10)
    assert metrics["als"]["precision@10"] > 1.5 * metrics["popular"]["precision@10"]
    assert metrics["als"]["coverage"] > metrics["popular"]["coverage"]


def test_evaluation_never_ranks_an_excluded_movie(catalogue):
    train, test = demo.split_likes(catalogue.likes, seed=0)
    everything_seen = csr_matrix(np.ones(catalogue.likes.shape, np.float32))
    metrics = demo.evaluate_split(catalogue, train, test, SMALL, neighbours=10, known=everything_seen)
    assert [m["recall@10"] for m in metrics.values()] == [1.0, 1.0, 1.0]  # only held-out likes were left


def test_evaluation_never_offers_a_movie_the_user_rated_even_badly():
    # the others like Hit most, then Runner-up; user 0 gave Hit 1 star and likes Runner-up (held out)
    rows = [(user, 0, 5.0) for user in (1, 2, 3, 4)] + [(user, 1, 5.0) for user in (0, 1, 2, 3)] \
        + [(0, 0, 1.0)] + [(4, movie, 5.0) for movie in range(2, 12)]
    table = pd.DataFrame(rows, columns=["userId", "movieId", "rating"])
    table = table.assign(title=[{0: "Hit", 1: "Runner-up"}.get(m, f"Filler {m}") for m in table["movieId"]],
                         year=2000.0, genres="Drama")
    catalogue = demo.build_catalogue(table)
    test = csr_matrix(([1.0], ([0], [1])), shape=catalogue.likes.shape)
    metrics = demo.evaluate_split(catalogue, catalogue.likes - test, test, methods=("popular",))
    assert metrics["popular"]["ndcg@10"] == 1.0  # Runner-up ranks first: Hit is no discovery to user 0


def test_because_you_liked_names_picks_and_the_dot_product_is_the_score(model):
    result = demo.recommend(model, [0, 3, 5], count=3)
    assert all(reason and {pick for pick, _ in reason} <= {0, 3, 5} for reason in result.because)
    pair = demo.pair_vectors(model, result, result.items[0])
    assert pair["score"] == pytest.approx(result.scores[0], abs=1e-4)
    assert np.sum(pair["product"]) == pytest.approx(pair["score"], abs=1e-5)


def test_similar_movies_come_from_the_same_group(model):
    similar, similarities = demo.similar_movies(model, 25, count=5)
    assert 25 not in similar and set(similar) <= set(range(GROUP_SIZE, 2 * GROUP_SIZE))
    assert similarities == sorted(similarities, reverse=True)


def test_latent_map_marks_picks_and_recommendations(model):
    result = demo.recommend(model, [0, 3], count=4)
    frame = demo.latent_map(model, result, min_fans=1)
    roles = frame.set_index(frame.index)["role"]
    assert set(roles[roles == "your pick"].index) == {0, 3}
    assert set(roles[roles == "recommended"].index) == set(result.items)
    assert set(frame.loc[frame.index < GROUP_SIZE, "genre"]) == {"Animation"}


def test_titles_resolve_with_or_without_year_and_articles(catalogue):
    assert demo.resolve_titles(catalogue, ["cartoon 0 (2010)", "Horror 25", "Cartoon 7 (1990)"]) == [1, 25, 7]
    assert demo.split_titles("Godfather, The; Alien\nHeat") == ["Godfather, The", "Alien", "Heat"]


def test_an_ambiguous_title_lists_the_candidates(catalogue):
    with pytest.raises(InputError, match='"Cartoon 0" matches 2 movies') as error:
        demo.resolve_titles(catalogue, ["Cartoon 0"])
    assert "Cartoon 0 (1990)" in str(error.value) and "Cartoon 0 (2010)" in str(error.value)


def test_an_unknown_title_suggests_close_ones(catalogue):
    with pytest.raises(InputError, match='No movie called "Horor 25".*Did you mean: Horror 25'):
        demo.resolve_titles(catalogue, ["Horor 25"])


def test_no_picks_gives_the_most_liked_movies_with_a_note(model):
    result = demo.recommend(model, [], count=5)
    assert result.method == "popular" and "no picks" in result.notes[0]


def test_picks_nobody_liked_fall_back_to_popular_with_an_explanation(model):
    result = demo.recommend(model, [2 * GROUP_SIZE], count=5)
    assert result.method == "popular" and "nothing to learn" in result.notes[0]


def test_obscure_picks_are_flagged(model):
    result = demo.recommend(model, [0, 2 * GROUP_SIZE], count=3)
    assert result.method == "als" and "Unloved" in result.notes[0]


def test_picking_every_movie_is_explained(catalogue, model):
    with pytest.raises(InputError, match="nothing left to recommend"):
        demo.recommend(model, range(catalogue.size))


def test_asking_for_more_than_is_left_returns_what_is_left(catalogue, model):
    result = demo.recommend(model, range(catalogue.size - 3), count=10, method="popular")
    assert len(result.items) == 3


# --- a list of movies the visitor uploads -------------------------------------------------

IMDB_EXPORT = ('Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,'
               'Genres,Num Votes,Release Date,Directors\n'
               'tt0000001,9,2023-05-01,Cartoon 0,Cartoon 0,https://www.imdb.com/title/tt0000001/,Movie,7.9,81,2010,'
               '"Animation, Family",1000,2010-06-01,Someone\n'
               'tt0000002,8,2023-05-02,Horror 25,Horror 25,https://www.imdb.com/title/tt0000002/,Movie,6.1,95,1990,'
               'Horror,500,1990-10-31,"One, Two"\n')
LETTERBOXD_EXPORT = ("\ufeffDate,Name,Year,Letterboxd URI,Rating\n"
                     "2024-01-02,Cartoon 0,1990,https://boxd.it/a,4.5\n"
                     '2024-01-03,"Cartoon 7",,https://boxd.it/b,4\n')


@pytest.mark.parametrize("file_name, data, titles", [
    ("favourites.txt", b"Cartoon 7\r\n\r\n  Horror 25 (1990)\nCartoon 7\n", ["Cartoon 7", "Horror 25 (1990)"]),
    ("ratings.csv", IMDB_EXPORT.encode(), ["Cartoon 0 (2010)", "Horror 25 (1990)"]),
    ("letterboxd.CSV", LETTERBOXD_EXPORT.encode(), ["Cartoon 0 (1990)", "Cartoon 7"]),
    ("spreadsheet.csv", b"Movie;Year\nHorror 25 (1990);1990\nCartoon 7\n", ["Horror 25 (1990)", "Cartoon 7"]),
    ("ragged.csv", b"name\nCartoon 7,extra,cells\n", ["Cartoon 7"]),
])
def test_an_uploaded_list_gives_titles_with_their_year(file_name, data, titles):
    assert demo.read_title_list(file_name, data) == (titles, [])


def test_the_year_of_an_export_tells_a_remake_apart(catalogue):
    titles, _ = demo.read_title_list("ratings.csv", IMDB_EXPORT.encode())
    assert demo.resolve_titles(catalogue, titles) == [1, 25]
    titles, _ = demo.read_title_list("letterboxd.csv", LETTERBOXD_EXPORT.encode())
    assert demo.resolve_titles(catalogue, titles) == [0, 7]


@pytest.mark.parametrize("file_name, data, message", [
    ("favourites.xlsx", b"PK\x03\x04", "not supported"),
    ("favourites.csv", b"PK\x03\x04\x14\x00\x00\x00" * 20, "binary"),
    ("favourites.txt", b"", "empty"),
    ("favourites.txt", "Amélie".encode("cp1252"), "UTF-8"),
    ("favourites.csv", b"Film,Stars\nAlien,5\n", "no column of titles named Title, Name or Movie.*Film, Stars"),
    ("favourites.csv", b"Title,Year\n", "lists no titles"),
])
def test_a_bad_list_gets_a_clear_message(file_name, data, message):
    with pytest.raises(InputError, match=message):
        demo.read_title_list(file_name, data)


def test_a_list_longer_than_the_picks_allowed_is_cut_with_a_notice():
    data = "\n".join(f"Movie {i}" for i in range(3000)).encode()
    titles, notices = demo.read_title_list("everything.txt", data)
    assert titles == [f"Movie {i}" for i in range(demo.MAX_PICKS)]
    assert notices == [f"everything.txt lists 3,000 movies; only its first {demo.MAX_PICKS} were read "
                       f"(at most {demo.MAX_PICKS} picks count: a handful of favourites says more about your "
                       "taste than a long list)."]


def test_a_long_list_of_unknown_titles_names_the_first_few_and_counts_the_rest(catalogue):
    with pytest.raises(InputError) as error:
        demo.resolve_titles(catalogue, [f"Unknown {i}" for i in range(25)])
    lines = str(error.value).splitlines()
    assert len(lines) == demo.PROBLEMS_SHOWN + 1 and lines[0].startswith('No movie called "Unknown 0"')
    assert lines[-1].startswith("…and 15 more titles")


def test_an_uploaded_list_skips_titles_missing_from_movielens_with_a_notice(catalogue):
    data = b"Cartoon 7\nA Film From 2023\nHorror 25 (1990)\n"
    picks, notices = demo.picks_from_list(catalogue, "letterboxd.txt", data)
    assert picks == [7, 25]
    assert notices[0].startswith("1 of the 3 titles in letterboxd.txt were skipped")
    assert 'No movie called "A Film From 2023"' in notices[0]


def test_an_uploaded_list_with_no_known_title_is_refused(catalogue):
    with pytest.raises(InputError, match="None of the 2 titles in new.txt"):
        demo.picks_from_list(catalogue, "new.txt", b"A Film From 2023\nAnother From 2024\n")
